"""Adoption beside impact, per team and ISO week.

Adoption figures count distinct people (one person cannot inflate them): who used the bot
at all, who looked up the policy, who used a prompt, who asked a champion, who answered a
survey. Beside them: the impact the surveys report (satisfaction, perceived productivity,
hours saved; team-level averages, hidden below the minimum group size) and how helpful
champions' answers were rated. Pairing the two is the point: adoption alone can be gamed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import PolicyLookup, PromptUse, Question, SurveyRun, Team, TeamMember
from bot.services import survey_disclosure
from bot.services.survey_disclosure import Rules

NO_TEAM = "no team"
PRODUCTIVITY = {  # the DORA 7-point impact scale, as -3 .. +3
    "Extremely decreased": -3,
    "Moderately decreased": -2,
    "Slightly decreased": -1,
    "No impact": 0,
    "Slightly increased": 1,
    "Moderately increased": 2,
    "Extremely increased": 3,
}
HOURS = {"0": 0.0, "Less than 1": 0.5, "1-2": 1.5, "3-5": 4.0, "6-10": 8.0, "More than 10": 12.0}


def week_of(moment: dt.datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


async def weekly(
    *,
    session: AsyncSession,
    since: dt.datetime,
    until: dt.datetime,
    rules: Rules,
    also: Iterable[tuple[str, str]] = (),
) -> list[dict[str, Any]]:
    """Rows per (ISO week, team) from `since` to `until` (UTC, exclusive). Survey figures
    come from runs started in the window, counted in the week the run started, from what
    `survey_disclosure` releases (closed runs, merged team labels). `also` names (week,
    team) rows to give even without any activity in the bot (a team that only used a tool)."""
    min_group = rules.min_group
    teams = dict(
        (
            await session.exec(
                select(TeamMember.user_id, Team.name).join(
                    Team, col(Team.id) == col(TeamMember.team_id)
                )
            )
        ).all()
    )

    def team(user: str | None) -> str:
        return teams.get(user or "", NO_TEAM)

    cells: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "active": set(),
            "lookup": set(),
            "prompt": set(),
            "asked": set(),
            "surveyed": 0,
            "lookups": 0,
            "answered": 0,
            "rated": 0,
            "helpful": 0,
            "scores": defaultdict(list),
        }
    )

    for key in also:
        cells[key]

    def add(rows: Iterable[tuple[str, dt.datetime]], kind: str) -> None:
        for user, at in rows:
            cell = cells[(week_of(at), team(user))]
            cell["active"].add(user)
            cell[kind].add(user)
            if kind == "lookup":
                cell["lookups"] += 1

    add(
        await _pairs(session, PolicyLookup.user_id, PolicyLookup.created_at, since, until), "lookup"
    )
    add(await _pairs(session, PromptUse.user_id, PromptUse.created_at, since, until), "prompt")
    add(await _pairs(session, Question.asker_id, Question.created_at, since, until), "asked")
    answered = (
        await session.exec(
            select(Question.asker_id, Question.answered_at, Question.helpful).where(
                col(Question.answered_at) >= since, col(Question.answered_at) < until
            )
        )
    ).all()
    for asker, at, helpful in answered:
        if at is None:
            continue
        cell = cells[(week_of(at), team(asker))]
        cell["answered"] += 1
        if helpful is not None:
            cell["rated"] += 1
            cell["helpful"] += int(helpful)
    runs = (
        await session.exec(
            select(SurveyRun).where(
                col(SurveyRun.started_at) >= since, col(SurveyRun.started_at) < until
            )
        )
    ).all()
    for run in runs:  # survey answers only as survey_disclosure releases them
        released = await survey_disclosure.release(session=session, run=run, rules=rules)
        for label, answers in await survey_disclosure.team_answers(
            session=session, released=released
        ):
            cell = cells[(week_of(run.started_at), label or NO_TEAM)]
            cell["surveyed"] += 1  # one response per person per run
            _impact(cell["scores"], {k: v for k, v in answers.items() if k in released.shown})
    return [_row(week, name, cell, min_group) for (week, name), cell in sorted(cells.items())]


async def _pairs(
    session: AsyncSession, who: Any, when: Any, since: dt.datetime, until: dt.datetime
) -> list[tuple[str, dt.datetime]]:
    rows = (
        await session.exec(select(who, when).where(col(when) >= since, col(when) < until))
    ).all()
    return [(str(user), at) for user, at in rows]


def _impact(scores: dict[str, list[float]], answers: dict[str, Any]) -> None:
    satisfaction = answers.get("tool-satisfaction")
    if isinstance(satisfaction, int):
        scores["satisfaction"].append(satisfaction)
    productivity = answers.get("productivity-impact")
    if productivity in PRODUCTIVITY:
        scores["perceived_productivity"].append(PRODUCTIVITY[productivity])
    hours = answers.get("hours-saved")
    if hours in HOURS:
        scores["hours_saved"].append(HOURS[hours])


def _row(week: str, team: str, cell: dict[str, Any], min_group: int) -> dict[str, Any]:
    enough = cell["surveyed"] >= min_group
    impact = {
        name: (round(sum(v) / len(v), 2) if enough and len(v) >= min_group else None)
        for name in ("satisfaction", "perceived_productivity", "hours_saved")
        for v in [cell["scores"].get(name, [])]
    }
    return {
        "week": week,
        "team": team,
        "adoption": {
            "active_people": len(cell["active"]),
            "policy_lookup_people": len(cell["lookup"]),
            "policy_lookups": cell["lookups"],
            "prompt_people": len(cell["prompt"]),
            "askers": len(cell["asked"]),
            "questions_answered": cell["answered"],
            "survey_respondents": cell["surveyed"],
        },
        "impact": {
            **impact,
            "impact_hidden": not enough,
            "answers_rated_helpful": (
                round(cell["helpful"] / cell["rated"], 2) if cell["rated"] else None
            ),
        },
    }
