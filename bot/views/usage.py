"""Block Kit for `/ai-coe usage [team]`: Copilot use per team beside survey impact."""

from __future__ import annotations

from typing import Any

from bot.views.common import Block, context, escape, header, plural, section

TEAMS_SHOWN = 40  # lines in one reply; the API has every team
HOW = (
    "Active: sent Copilot a prompt that week · engaged: on 3+ days · acceptance:"
    " accepted / generated suggestions · idle: no use for 30 days (or telemetry off)."
    " Definitions: docs/usage.md · all figures: `GET /api/v1/usage`"
)


def usage_message(items: list[dict[str, Any]], *, team: str | None) -> dict[str, Any]:
    """One line per team for the period shown (or, with `team`, one per period), a line
    for periods not measured, and what the words mean."""
    measured = [i for i in items if i["measured"]]
    if not measured:
        why = (
            "No Copilot usage has been pulled for this period: run `coe-bot usage pull`"
            " (or `coe-bot usage demo` first, to try it without GitHub)."
        )
        return _reply([section(why)], "Copilot usage: not measured")
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
        title = f"Copilot use by team · {latest}"
        lines = [_total(rows, list(seats.values()))]
        lines += [
            f"• *{escape(i['team'])}*: {_figures(i, seats.get(i['team']))}"
            for i in rows[:TEAMS_SHOWN]
        ]
        if len(rows) > TEAMS_SHOWN:
            lines.append(f"…and {plural(len(rows) - TEAMS_SHOWN, 'more team')}")
    else:
        rows = sorted(measured, key=lambda i: i["period"], reverse=True)
        title = f"Copilot use · {team}"
        lines = [
            f"• *{i['period']}{'' if i['complete'] else ' (partial)'}*: {_figures(i, i)}"
            for i in rows
        ]
    share = rows[0]["matched_share"]
    matched = f"{share:.0%} of GitHub logins matched to a team" if share is not None else ""
    partial = (
        ""
        if all(i["complete"] for i in rows)
        else " · partial: not every day of the period is pulled (the latest settle two days later)"
    )
    return _reply(
        [header(title), section("\n".join(lines)), context(f"{matched}{partial}"), context(HOW)],
        title,
    )


def _total(rows: list[dict[str, Any]], seats: list[dict[str, Any]]) -> str:
    """All teams together (the rows partition the people seen, so their counts add up)."""
    held = sum(i["seats"] or 0 for i in seats)
    idle = sum(i["idle_seats"] or 0 for i in seats)
    active = sum(i["active_people"] or 0 for i in rows)
    engaged = sum(i["engaged_people"] or 0 for i in rows)
    seat_text = f"{plural(held, 'seat')} ({idle} idle) · " if seats else ""
    return f"*All teams*: {seat_text}{active:,} active, {engaged:,} engaged"


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
        parts.append(f"{item['active_people']} active, {item['engaged_people']} engaged")
        if item["acceptance_rate"] is not None:
            parts.append(f"acceptance {item['acceptance_rate']:.0%}")
        parts.append(f"chat {item['chat_people']} · agent {item['agent_people']}")
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
