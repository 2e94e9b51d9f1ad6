"""Block Kit for `/ai-coe usage [team]`: each AI tool's use per team beside survey impact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.services.guardrails import TOOL_TITLES, Crossing, TeamSpend, describe
from bot.views.common import Block, context, escape, header, plural, section, sections

TEAMS_SHOWN = 40  # lines in one reply; the API has every team
HOW = (
    "Active: used the tool that week · engaged: on 3+ days · acceptance: each tool's own"
    " (Copilot: accepted / generated, Cursor: Tab completions, Claude Code: tool actions),"
    " never compared across tools · idle: no use for 30 days (or telemetry off)."
    " Definitions: docs/usage.md · all figures: `GET /api/v1/usage`"
)


TOOL_NAMES = {"copilot": "GitHub Copilot", "cursor": "Cursor", "claude_code": "Claude Code"}


@dataclass(frozen=True)
class Spend:
    """This month's money for the reply: each team's spend, the guardrails crossed, the
    CoE's notes (team label, lower case → text), or what is wrong with the costs file."""

    month: str
    teams: list[TeamSpend]
    crossed: list[Crossing]
    notes: dict[str, str]
    problem: str | None = None


def usage_message(
    items: list[dict[str, Any]], *, team: str | None, spend: Spend | None = None
) -> dict[str, Any]:
    """Per tool, one line per team for the period shown (or, with `team`, one per period),
    then this month's spend per team (with a costs file), and what the words mean."""
    measured = [i for i in items if i["measured"]]
    if not measured:
        why = (
            "No AI tool usage has been pulled for this period: run `coe-bot usage pull`"
            " (or `coe-bot usage demo` first, to try it without GitHub)."
        )
        return _reply([section(why)], "AI tool usage: not measured")
    blocks: list[Block] = []
    title = f"AI tool use · {team}" if team else "AI tool use by team"
    for tool, name in TOOL_NAMES.items():
        mine = [i for i in measured if i["tool"] == tool]
        if mine:
            heading, lines, rows = _tool_lines(mine, team)
            blocks += sections([f"*{name}* · {heading}", *lines])
            notes = _context(rows, tool)
            if notes:
                blocks.append(context(notes))
    if spend is not None:
        blocks += sections(_spend(spend))
    return _reply([header(title), *blocks, context(HOW)], title)


def _spend(spend: Spend) -> list[str]:
    """Each team's month so far, all tools; its guardrail crossings and the CoE's note."""
    heading = f"*Spend* · {spend.month} so far (seats at the costs file's prices, plus usage)"
    if spend.problem is not None:
        return [heading, f"Not priced: the costs file has problems: {escape(spend.problem)}"]
    if not spend.teams:
        return [heading, "Nothing priced yet this month."]
    labels = {row.team for row in spend.teams}
    crossed: dict[str, list[Crossing]] = {}
    for crossing in spend.crossed:  # a merged label split by tool: its tool's row
        split = f"{crossing.team} · {TOOL_TITLES[crossing.tool]}" if crossing.tool else ""
        crossed.setdefault(split if split in labels else crossing.team, []).append(crossing)
    lines = [heading]
    for row in spend.teams[:TEAMS_SHOWN]:
        money = (
            f"${row.spend_cents / 100:,.0f}"
            if row.spend_cents is not None
            else "not priced (no seat list yet)"
        )
        idle = (
            f" · ${row.reclaimable_cents / 100:,.0f} in idle seats" if row.reclaimable_cents else ""
        )
        over = "".join(
            f"\n    :warning: over its guardrail: {describe(c)}" for c in crossed.get(row.team, [])
        )
        note = spend.notes.get(row.team.split(" · ")[0].lower())
        said = f"\n    _CoE note_: {escape(note)}" if note else ""
        lines.append(f"• *{escape(row.team)}*: {money}{idle}{over}{said}")
    if len(spend.teams) > TEAMS_SHOWN:
        lines.append(f"…and {plural(len(spend.teams) - TEAMS_SHOWN, 'more team')}")
    return lines


def _tool_lines(
    measured: list[dict[str, Any]], team: str | None
) -> tuple[str, list[str], list[dict[str, Any]]]:
    """(what the lines cover, the lines, the rows shown) for one tool."""
    if team is None:
        latest = (
            max(i["period"] for i in measured if i["complete"])
            if any(i["complete"] for i in measured)
            else max(i["period"] for i in measured)
        )
        rows = sorted(
            (i for i in measured if i["period"] == latest),
            key=lambda i: (i["team"].startswith("("), i["team"].lower()),
        )
        with_seats = [i for i in measured if i["seats"] is not None]
        now = max((i["period"] for i in with_seats), default=None)
        seats = {i["team"]: i for i in with_seats if i["period"] == now}
        lines = [_total(rows, list(seats.values()))]
        lines += [
            f"• *{escape(i['team'])}*: {_figures(i, seats.get(i['team']))}"
            for i in rows[:TEAMS_SHOWN]
        ]
        if len(rows) > TEAMS_SHOWN:
            lines.append(f"…and {plural(len(rows) - TEAMS_SHOWN, 'more team')}")
        return latest, lines, rows
    rows = sorted(measured, key=lambda i: i["period"], reverse=True)
    lines = [
        f"• *{i['period']}{'' if i['complete'] else ' (partial)'}*: {_figures(i, i)}" for i in rows
    ]
    return "week by week", lines, rows


def _context(rows: list[dict[str, Any]], tool: str) -> str:
    share = rows[0]["matched_share"]
    who = "GitHub logins" if tool == "copilot" else "e-mails"
    matched = f"{share:.0%} of {who} matched to a team" if share is not None else ""
    partial = (
        ""
        if all(i["complete"] for i in rows)
        else " · partial: not every day of the period is pulled (the latest settle later)"
    )
    unseen = rows[0].get("not_measured")
    gap = f" · not measured by this source: {unseen}" if unseen else ""
    return f"{matched}{partial}{gap}".removeprefix(" · ")


def _total(rows: list[dict[str, Any]], seats: list[dict[str, Any]]) -> str:
    """All teams together (the rows partition the people seen, so their counts add up)."""
    held = sum(i["seats"] or 0 for i in seats)
    idle = sum(i["idle_seats"] or 0 for i in seats)
    active = sum(i["active_people"] or 0 for i in rows)
    counted = [i["engaged_people"] for i in rows if i["engaged_people"] is not None]
    engaged = f", {sum(counted):,} engaged" if counted else ""
    seat_text = f"{plural(held, 'seat')} ({idle} idle) · " if seats else ""
    return f"*All teams*: {seat_text}{active:,} active{engaged}"


def _figures(item: dict[str, Any], seats: dict[str, Any] | None) -> str:
    """A period's figures; seats from `seats` (the latest snapshot when the period itself
    predates the first one: the seat API keeps no history)."""
    parts = []
    if seats is not None and seats["seats"] is not None:
        idle = f" ({seats['idle_seats']} idle)" if seats["idle_seats"] else ""
        when = "" if seats is item else f" (as of {seats['period']})"
        parts.append(f"{plural(seats['seats'], 'seat')}{idle}{when}")
    if item["active_people"] is None:
        parts.append("use not pulled yet (GitHub settles a day two days later)")
    else:
        engaged = item["engaged_people"]
        parts.append(
            f"{item['active_people']} active"
            + (f", {engaged} engaged" if engaged is not None else " (engaged: from 5 days pulled)")
        )
        if item["acceptance_rate"] is not None:
            load = item.get("reviews_per_reviewer")
            paired = f" (review load {load:g})" if load is not None else ""
            parts.append(f"acceptance {item['acceptance_rate']:.0%}{paired}")
        uses = [
            f"{name} {item[key]}"
            for key, name in (("chat_people", "chat"), ("agent_people", "agent"))
            if item.get(key) is not None
        ]
        if uses:
            parts.append(" · ".join(uses))
    impact = item.get("impact") or {}
    said = [
        f"{name} {impact[key]:+.1f}" if key == "perceived_productivity" else f"{name} {impact[key]}"
        for key, name in (
            ("satisfaction", "satisfaction"),
            ("perceived_productivity", "productivity"),
            ("hours_saved", "h saved/wk"),
        )
        if impact.get(key) is not None
    ]
    parts.append("survey: " + ", ".join(said) if said else "survey: not enough answers")
    return " · ".join(parts)


def _reply(blocks: list[Block], text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text, "blocks": blocks}
