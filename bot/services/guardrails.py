"""Soft guardrails on AI-tool spend, never caps: which teams crossed a threshold of
`costs.yaml` in a month, and the CoE's notes on them (`/ai-coe usage note`).

Three thresholds (`costs.Guardrails`), per team (`team_guardrails`) or for every team:
- `monthly_spend_cents`: the team's spend in the month, all tools together;
- `spend_per_active_person_cents`: per tool, spend / the tool's active people;
- `idle_seat_share`: per tool with seats, idle seats / seats.

Figures come from `usage_figures.figures` (minimum-group rules applied). A merged row
("(other teams)") is held, as one group, to the strictest threshold among the teams in it
(docs/usage.md says so). Each crossing carries the figure, last month's (the trend), and
the owners of the teams in the row (teams CSV `owner`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import BadInput
from bot.models import Team, UsageNote
from bot.services import audit, usage_figures
from bot.services.costs import Costs
from bot.services.survey_disclosure import Rules
from bot.services.usage_periods import Period, periods

TOOLS = ("copilot", "cursor", "claude_code")
TOOL_TITLES = {"copilot": "Copilot", "cursor": "Cursor", "claude_code": "Claude Code"}
NOTE_MAX = 500


@dataclass(frozen=True)
class Crossing:
    """One threshold crossed by one team label in one month."""

    team: str  # the label shown ("payments", "(other teams)")
    includes: tuple[str, ...]  # the teams in it
    month: str  # "2026-11"
    kind: str  # a `Guardrails` field name
    tool: str | None  # None for the all-tools spend
    figure: float  # cents, or a share 0–1
    threshold: float
    previous: float | None  # last month's figure, for the trend
    owners: tuple[str, ...]  # Slack user IDs
    note: str | None


@dataclass(frozen=True)
class TeamSpend:
    """One team label's month so far, all tools together (cents)."""

    team: str  # the label shown ("payments", "(other teams)")
    spend_cents: int | None  # None when a tool it used is not priced (no seat list yet)
    reclaimable_cents: int  # the idle seats' price


def month_of(day: dt.date) -> Period:
    return periods("month", day, day)[0]


async def crossings(
    *, session: AsyncSession, costs: Costs, rules: Rules, day: dt.date
) -> list[Crossing]:
    """The thresholds crossed in the month holding `day` (UTC), so far."""
    month = month_of(day)
    before = month_of(month.first - dt.timedelta(days=1))
    now_figures = _figures(_groups(await _month_items(session, costs, rules, month)))
    then_figures = _figures(_groups(await _month_items(session, costs, rules, before)))
    owners = {t.name.lower(): t.owner for t in (await session.exec(select(Team))).all()}
    notes = await notes_for(session=session, month=month.label)
    found = []
    for (team, kind, tool), (figure, members) in sorted(
        now_figures.items(), key=lambda kv: str(kv[0])
    ):
        threshold = _strictest(costs, members, kind)
        if threshold is None or figure <= threshold:
            continue
        then = then_figures.get((team, kind, tool))
        found.append(
            Crossing(
                team=team,
                includes=members,
                month=month.label,
                kind=kind,
                tool=tool,
                figure=figure,
                threshold=threshold,
                previous=then[0] if then and then[1] == members else None,
                owners=tuple(o for m in members if (o := owners.get(m.lower()))),
                note=notes.get(team.lower()),
            )
        )
    return found


async def spend_by_team(
    *, session: AsyncSession, costs: Costs, rules: Rules, day: dt.date
) -> list[TeamSpend]:
    """Each team label's spend in the month holding `day` (UTC) so far, all tools together
    (`usage_figures.figures` with `costs`: minimum-group merges applied), by team name,
    merged rows last, one per tool ("(other teams) · Cursor"): each tool merges its own
    teams, so their spends are not one group's."""
    groups = _groups(await _month_items(session, costs, rules, month_of(day)))
    found = [
        TeamSpend(
            group.team if group.tool is None else f"{group.team} · {TOOL_TITLES[group.tool]}",
            group.spend_cents,
            group.reclaimable_cents,
        )
        for group in groups
    ]
    return sorted(found, key=lambda t: (t.team.startswith("("), t.team.lower()))


async def _month_items(
    session: AsyncSession, costs: Costs, rules: Rules, month: Period
) -> list[dict[str, Any]]:
    return await usage_figures.figures(
        session=session,
        period="month",
        since=month.first,
        until=month.last,
        rules=rules,
        impact=False,
        tools=TOOLS,
        costs=costs,
    )


@dataclass
class _Group:
    """The items of one group of people in a month: a team's own label in every tool
    (`tool` None), or a merged label in one tool (each tool merges its own teams)."""

    team: str
    tool: str | None
    includes: tuple[str, ...]
    items: list[dict[str, Any]]

    @property
    def spend_cents(self) -> int | None:
        """All its tools' spend; None when one is not priced (no seat list yet)."""
        spends = [i["spend_cents"] for i in self.items]
        return None if None in spends else sum(spends)

    @property
    def reclaimable_cents(self) -> int:
        return sum(i["reclaimable_cents"] or 0 for i in self.items)


def _groups(items: list[dict[str, Any]]) -> list[_Group]:
    """The month's measured team items as groups (see `_Group`). A team's own label is one
    group across tools; a merged label ("(other teams)", "(all teams)" when every team was
    merged) is one group per tool, as each tool merges its own teams."""
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        merged_all = item["team"] == usage_figures.ALL_TEAMS
        if (
            not item["measured"]
            or item["tool"] == "any"
            or (merged_all and not item.get("includes"))
        ):
            continue  # the people-using-any-tool count, or a row of nobody
        by_label[item["team"]].append(item)
    groups = []
    for team, mine in by_label.items():
        if team.startswith("("):
            groups += [_Group(team, i["tool"], tuple(i.get("includes") or ()), [i]) for i in mine]
        else:
            groups.append(_Group(team, None, (team,), mine))
    return groups


def _figures(
    groups: list[_Group],
) -> dict[tuple[str, str, str | None], tuple[float, tuple[str, ...]]]:
    """(team label, kind, tool) → (figure, the teams it covers)."""
    found: dict[tuple[str, str, str | None], tuple[float, tuple[str, ...]]] = {}
    for group in groups:
        for item in group.items:
            tool = item["tool"]
            if item["cost_per_active_person_cents"] is not None:
                found[(group.team, "spend_per_active_person_cents", tool)] = (
                    item["cost_per_active_person_cents"],
                    group.includes,
                )
            if item["seats"] and item["idle_seats"] is not None:
                share = round(item["idle_seats"] / item["seats"], 3)
                found[(group.team, "idle_seat_share", tool)] = (share, group.includes)
        if group.spend_cents is not None:
            found[(group.team, "monthly_spend_cents", group.tool)] = (
                group.spend_cents,
                group.includes,
            )
    return found


def _strictest(costs: Costs, teams: tuple[str, ...], kind: str) -> float | None:
    """The lowest threshold of `kind` among `teams` (a merged row is held to it)."""
    values = [
        getattr(costs.guardrails_for(team), kind)
        for team in teams
        if getattr(costs.guardrails_for(team), kind) is not None
    ]
    return min(values) if values else None


async def labels_with_figures(*, session: AsyncSession, rules: Rules, day: dt.date) -> set[str]:
    """The team labels (lower case) with figures of their own in the month holding `day`,
    any tool: a team merged under the minimum group is not one (its note is not shown)."""
    month = month_of(day)
    items = await usage_figures.figures(
        session=session,
        period="month",
        since=month.first,
        until=month.last,
        rules=rules,
        impact=False,
        tools=TOOLS,
    )
    return {i["team"].lower() for i in items if i["measured"] and i["tool"] != "any"}


async def unknown_teams(*, session: AsyncSession, costs: Costs) -> list[str]:
    """The names `team_guardrails` gives that are no team (a typo applies to nobody)."""
    known = {name.lower() for name in (await session.exec(select(Team.name))).all()}
    return sorted(name for name in costs.team_guardrails if name.lower() not in known)


async def notes_for(*, session: AsyncSession, month: str) -> dict[str, str]:
    """Team label (lower case) → the CoE's note on its month."""
    rows = await session.exec(select(UsageNote).where(col(UsageNote.month) == month))
    return {note.team: note.text for note in rows.all()}


async def set_note(
    *, session: AsyncSession, team: str, text: str, author: str, now: dt.datetime
) -> UsageNote:
    """Record the CoE's note on `team`'s current month (replacing one there); audited as
    `usage.note`. Raises `BadInput` for an empty or overlong text."""
    text = " ".join(text.split())
    if not text:
        raise BadInput("Say what the note is: `/ai-coe usage note <team> <text>`.")
    if len(text) > NOTE_MAX:
        raise BadInput(f"A note is at most {NOTE_MAX} characters; this one is {len(text)}.")
    month = month_of(now.date()).label
    key = team.strip().lower()
    note = await session.get(UsageNote, (key, month))
    if note is None:
        note = UsageNote(team=key, month=month, text=text, author=author, at=now)
    else:
        note.text, note.author, note.at = text, author, now
    session.add(note)
    await audit.record(
        session=session,
        actor=author,
        action="usage.note",
        subject=key,
        details={"month": month, "text": text},
        now=now,
    )
    return note


def describe(crossing: Crossing) -> str:
    """The figure, threshold and trend in words (mrkdwn, no user text)."""

    def shown(value: float) -> str:
        if crossing.kind == "idle_seat_share":
            return f"{value:.0%}"
        return f"${value / 100:,.0f}"

    what = {
        "monthly_spend_cents": "spend this month" + ("" if crossing.tool else ", all tools"),
        "spend_per_active_person_cents": "spend per active person",
        "idle_seat_share": "idle seats",
    }[crossing.kind]
    tool = f" ({TOOL_TITLES[crossing.tool]})" if crossing.tool else ""
    if crossing.previous:
        change = (crossing.figure - crossing.previous) / crossing.previous
        trend = f"; last month {shown(crossing.previous)} ({change:+.0%})"
    elif crossing.previous == 0:
        trend = "; last month none"
    else:
        trend = "; no figure for last month to compare"
    return f"{what}{tool} {shown(crossing.figure)}, threshold {shown(crossing.threshold)}{trend}"
