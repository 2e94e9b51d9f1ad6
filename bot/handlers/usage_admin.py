"""`/ai-coe usage [team]`: Copilot use per team, beside what the team says in surveys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.deps import Deps
from bot.errors import BadInput
from bot.services import usage_figures
from bot.views.common import escape
from bot.views.usage import usage_message

WEEKS_SHOWN = 6  # with a team: its last six weeks


async def run(deps: Deps, words: list[str]) -> dict[str, Any]:
    """`words` after `usage`: nothing (every team, the latest week) or a team's name."""
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
        )
    if team is not None:
        known = {i["team"].lower(): i["team"] for i in items if i["measured"]}
        if team.lower() not in known:
            shown = ", ".join(sorted(known.values())[:20]) or "none yet"
            raise BadInput(
                f"No Copilot figures for a team called “{escape(team)}” (small teams are"
                f" merged into “(other teams)”). Teams with figures: {escape(shown)}."
            )
        team = known[team.lower()]
        items = [i for i in items if i["team"] == team]
    return usage_message(items, team=team)
