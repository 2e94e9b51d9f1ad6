"""Champions: who answers questions for which team and topics, and how much they can take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import BadInput
from bot.models import Champion, Question, Team

OPEN_STATUSES = ("open", "claimed")


async def upsert(
    *,
    session: AsyncSession,
    user_id: str,
    team: Team,
    topics: list[str],
    now: dt.datetime,
    capacity: int | None = None,
) -> Champion:
    champion = await session.get(Champion, user_id)
    if champion is None:
        champion = Champion(user_id=user_id, team_id=team.id or 0, created_at=now)
    champion.team_id = team.id or 0
    champion.topics_text = " ".join(topics)
    champion.active = True
    champion.deactivated_at = None
    champion.deactivated_reason = None
    if capacity is not None:
        champion.capacity = capacity
    session.add(champion)
    await session.flush()
    return champion


async def retire(*, session: AsyncSession, user_id: str, reason: str, now: dt.datetime) -> bool:
    """Stop routing to someone (removed, left the company); True if they were active."""
    champion = await session.get(Champion, user_id)
    if champion is None or not champion.active:
        return False
    champion.active = False
    champion.deactivated_at = now
    champion.deactivated_reason = reason[:100]
    session.add(champion)
    await session.flush()
    return True


async def set_available(*, session: AsyncSession, user_id: str, available: bool) -> Champion:
    champion = await session.get(Champion, user_id)
    if champion is None or not champion.active:
        raise BadInput("Only champions have an away status; ask the CoE to add you.")
    champion.available = available
    session.add(champion)
    return champion


@dataclass(frozen=True, slots=True)
class ChampionStats:
    champion: Champion
    team: str
    open_questions: int
    answered: int
    helpful: int
    rated: int
    median_minutes_to_answer: float | None


async def listing(*, session: AsyncSession) -> list[ChampionStats]:
    champions = (
        await session.exec(
            select(Champion, Team)
            .join(Team, col(Team.id) == col(Champion.team_id))
            .where(col(Champion.active))
            .order_by(col(Team.name), col(Champion.user_id))
        )
    ).all()
    open_counts = await open_loads(session=session)
    answered = (
        await session.exec(
            select(
                Question.answered_by, Question.created_at, Question.answered_at, Question.helpful
            ).where(col(Question.answered_by).is_not(None))
        )
    ).all()
    stats: list[ChampionStats] = []
    for champion, team in champions:
        mine = [row for row in answered if row[0] == champion.user_id]
        minutes = sorted(
            (row[2] - row[1]).total_seconds() / 60 for row in mine if row[2] is not None
        )
        stats.append(
            ChampionStats(
                champion=champion,
                team=team.name,
                open_questions=open_counts.get(champion.user_id, 0),
                answered=len(mine),
                helpful=sum(1 for row in mine if row[3] is True),
                rated=sum(1 for row in mine if row[3] is not None),
                median_minutes_to_answer=minutes[len(minutes) // 2] if minutes else None,
            )
        )
    return stats


async def open_loads(*, session: AsyncSession) -> dict[str, int]:
    rows = (
        await session.exec(
            select(Question.champion_id, func.count())
            .where(col(Question.status).in_(OPEN_STATUSES), col(Question.champion_id).is_not(None))
            .group_by(col(Question.champion_id))
        )
    ).all()
    return {str(champion): int(count) for champion, count in rows}


async def active(*, session: AsyncSession) -> Sequence[Champion]:
    return (await session.exec(select(Champion).where(col(Champion.active)))).all()
