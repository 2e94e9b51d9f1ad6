"""Rollout waves: when each team started with the AI tools (`/ai-coe rollout`).

A team's wave ("pilot", "10%", "25%", "50%", "everyone": the share of the organisation
with the tools once the wave has started) and its start day (UTC) are what the impact
comparisons use: a team's weeks from its start are compared with the same weeks of teams
not started yet (staggered difference-in-differences), and the `BASELINE_WEEKS` whole ISO
weeks before its start are its baseline. Every change is audited (`rollout.set`,
`rollout.remove`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import BadInput
from bot.models import Team
from bot.services import audit
from bot.views.common import escape

WAVES = ("pilot", "10%", "25%", "50%", "everyone")
ALIASES = {"10": "10%", "25": "25%", "50": "50%", "100%": "everyone", "100": "everyone"}
ALIASES |= {"all": "everyone", "ga": "everyone"}
# Twelve weeks, a quarter: long enough to hold a team's ordinary week-to-week swings
# (holidays, a release) and short enough that the team is still the team it was.
BASELINE_WEEKS = 12
FURTHEST_AHEAD = dt.timedelta(days=365)  # a plan a year out is a plan, not a typo
EARLIEST = dt.date(2021, 6, 29)  # GitHub Copilot's technical preview: nothing is earlier


@dataclass(frozen=True)
class Rollout:
    """One team's rollout: its wave, its first UTC day with the tools, and its baseline
    (the `BASELINE_WEEKS` whole ISO weeks before the start's week, first and last day)."""

    team: str
    wave: str
    start: dt.date
    baseline_first: dt.date
    baseline_last: dt.date


def wave_of(text: str) -> str:
    """The wave `text` names ("10" and "10%" alike, "all" for everyone). Raises `BadInput`
    naming the waves for anything else."""
    key = text.strip().lower()
    key = ALIASES.get(key, key)
    if key not in WAVES:
        raise BadInput(f"“{escape(text[:20])}” is not a wave. Waves: {', '.join(WAVES)}.")
    return key


def day_of(text: str, *, today: dt.date) -> dt.date:
    """A start day from `YYYY-MM-DD` between Copilot's first preview and a year from
    `today`. Raises `BadInput` saying which rule it broke."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(
            f"“{escape(text[:20])}” is not a date: write the start day as YYYY-MM-DD."
        ) from None
    if day < EARLIEST:
        raise BadInput(f"{day} is before any AI coding tool existed ({EARLIEST}).")
    if day > today + FURTHEST_AHEAD:
        raise BadInput(f"{day} is more than a year away: set the start when it is planned.")
    return day


def of(team: Team) -> Rollout | None:
    """`team`'s rollout, or None before one is set."""
    if team.rollout_wave is None or team.rollout_start is None:
        return None
    start_week = team.rollout_start - dt.timedelta(days=team.rollout_start.weekday())
    return Rollout(
        team=team.name,
        wave=team.rollout_wave,
        start=team.rollout_start,
        baseline_first=start_week - dt.timedelta(weeks=BASELINE_WEEKS),
        baseline_last=start_week - dt.timedelta(days=1),
    )


async def listing(*, session: AsyncSession) -> list[Rollout]:
    """Every team's rollout, by wave then start day."""
    teams = await session.exec(select(Team).where(col(Team.rollout_start).is_not(None)))
    found = [r for t in teams.all() if (r := of(t)) is not None]
    return sorted(found, key=lambda r: (WAVES.index(r.wave), r.start, r.team.lower()))


async def _team(session: AsyncSession, name: str) -> Team:
    teams = (await session.exec(select(Team))).all()
    by_name = {t.name.lower(): t for t in teams}
    found = by_name.get(name.strip().lower().replace(" ", "-"))  # as the teams CSV names it
    if found is None:
        known = ", ".join(sorted(t.name for t in teams)[:20]) or "none yet (`coe-bot teams import`)"
        raise BadInput(f"No team called “{escape(name[:80])}”. Teams: {escape(known)}.")
    return found


async def set_start(
    *,
    session: AsyncSession,
    team: str,
    wave: str,
    start: dt.date,
    actor: str,
    now: dt.datetime,
) -> Rollout:
    """Set `team`'s wave and start day (replacing an earlier one); audited `rollout.set`
    with the previous values. Raises `BadInput` for a team that does not exist."""
    found = await _team(session, team)
    before = {"wave": found.rollout_wave, "start": str(found.rollout_start or "") or None}
    found.rollout_wave, found.rollout_start = wave, start
    session.add(found)
    await audit.record(
        session=session,
        actor=actor,
        action="rollout.set",
        subject=found.name,
        details={"wave": wave, "start": str(start), "before": before},
        now=now,
    )
    rollout = of(found)
    assert rollout is not None
    return rollout


async def remove(*, session: AsyncSession, team: str, actor: str, now: dt.datetime) -> str | None:
    """Clear `team`'s rollout: the team's name, or None when it had none. Audited
    `rollout.remove`. Raises `BadInput` for a team that does not exist."""
    found = await _team(session, team)
    if found.rollout_start is None:
        return None
    before = {"wave": found.rollout_wave, "start": str(found.rollout_start)}
    found.rollout_wave, found.rollout_start = None, None
    session.add(found)
    await audit.record(
        session=session,
        actor=actor,
        action="rollout.remove",
        subject=found.name,
        details={"before": before},
        now=now,
    )
    return found.name
