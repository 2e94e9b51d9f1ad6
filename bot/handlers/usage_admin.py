"""`/ai-coe usage [team]`: each AI tool's use per team, beside what the team says in
surveys; `/ai-coe usage note <team> <text>`: the CoE's note on a team's month."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select

from bot.deps import Deps
from bot.errors import BadInput
from bot.models import Team
from bot.services import costs, guardrails, usage_figures
from bot.views.common import ephemeral_text, escape
from bot.views.usage import Spend, usage_message

WEEKS_SHOWN = 6  # with a team: its last six weeks
TOOLS = ("copilot", "cursor", "claude_code")


async def run(deps: Deps, words: list[str], *, user_id: str = "") -> dict[str, Any]:
    """`words` after `usage`: nothing (every team, the latest week), a team's name, or
    `note <team> <text>` (the CoE's note on the team's month, shown beside its figures)."""
    if words[:1] == ["note"]:
        return await _note(deps, words[1:], user_id)
    team = " ".join(words).strip() or None
    if team is not None and len(team) > 80:
        raise BadInput("That team name is too long.")
    today = deps.clock().date()
    since = today - dt.timedelta(weeks=WEEKS_SHOWN if team else 2)
    async with deps.sessions() as session:
        items = await usage_figures.figures(
            session=session,
            period="week",
            since=since,
            until=today,
            rules=deps.settings.survey_rules(),
            tools=TOOLS,
        )
    if team is not None:
        known = {
            i["team"].lower(): i["team"]
            for i in items
            if i["measured"] and i["team"] != usage_figures.ALL_TEAMS
        }
        if team.lower() not in known:
            shown = ", ".join(sorted(known.values())[:20]) or "none yet"
            raise BadInput(
                f"No AI tool figures for a team called “{escape(team)}” (small teams are"
                f" merged into “(other teams)”). Teams with figures: {escape(shown)}."
            )
        team = known[team.lower()]
        items = [i for i in items if i["team"] == team]
    spend = await _spend(deps, today) if team is None else None
    return usage_message(items, team=team, spend=spend)


async def _spend(deps: Deps, today: dt.date) -> Spend | None:
    """This month's spend per team with its guardrail crossings and notes; None without a
    costs file; a broken one is said, not hidden."""
    try:
        prices = costs.for_settings(deps.settings)
    except costs.CostsError as error:
        return Spend(guardrails.month_of(today).label, [], [], {}, problem=str(error))
    if prices is None:
        return None
    rules = deps.settings.survey_rules()
    async with deps.sessions() as session:
        teams = await guardrails.spend_by_team(
            session=session, costs=prices, rules=rules, day=today
        )
        crossed = await guardrails.crossings(session=session, costs=prices, rules=rules, day=today)
        month = guardrails.month_of(today).label
        notes = await guardrails.notes_for(session=session, month=month)
    return Spend(month, teams, crossed, notes)


async def _note(deps: Deps, words: list[str], user_id: str) -> dict[str, Any]:
    if len(words) < 2:
        raise BadInput("Name the team and say why: `/ai-coe usage note <team> <text>`.")
    team, rest = words[0], words[1:]
    if team.startswith("(") and not team.endswith(")"):  # "(other teams)": two words
        team, rest = f"{team} {rest[0]}" if rest else team, rest[1:]
    text = " ".join(rest)
    async with deps.sessions.begin() as session:
        known = {name.lower() for name in (await session.exec(select(Team.name))).all()}
        merged = {"(other teams)", "(unmatched)", "(all teams)"}
        if team.lower() not in known | merged:
            raise BadInput(
                f"No team called “{escape(team[:80])}”. A merged row is `(other teams)`."
            )
        note = await guardrails.set_note(
            session=session, team=team, text=text, author=user_id, now=deps.clock()
        )
        shown = await guardrails.labels_with_figures(
            session=session, rules=deps.settings.survey_rules(), day=deps.clock().date()
        )
    where = (
        "It shows beside the team's figures in `GET /api/v1/usage`, `/ai-coe usage` and the digest."
        if note.team in shown
        else "It shows once the team has figures of its own this month: today it is merged"
        " into “(other teams)” (under the minimum group) or has none, so the note is not"
        " shown anywhere, and never in the digest."
    )
    return ephemeral_text(
        f"Noted for *{escape(note.team)}* in {note.month}: “{escape(note.text)}”. {where}"
    )
