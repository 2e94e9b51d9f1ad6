"""Escalating overdue questions: missed claims move on, unanswered ones reach the CoE.

Each step is a compare-and-set on the question and every message has a once-only key,
so a repeated sweep, a restart or two replicas sweeping at once escalate each step once;
rows are taken with `FOR UPDATE SKIP LOCKED` so replicas also share the work.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Question
from bot.services.questions import Deadlines, Notice, end_assignment, route, to_community


async def sweep(
    *,
    session: AsyncSession,
    now: dt.datetime,
    deadlines: Deadlines,
    community_channel: str | None,
    coe_channel: str | None,
    limit: int = 500,
) -> list[Notice]:
    """Escalate what is overdue: a missed claim goes to the next champion, a second miss to
    the community channel; an answer overdue goes to the CoE channel. Each step once."""
    notices: list[Notice] = []
    missed = (
        await session.exec(
            select(Question)
            .where(
                col(Question.status) == "open",
                col(Question.champion_id).is_not(None),
                col(Question.claim_deadline) <= now,
            )
            .order_by(col(Question.claim_deadline))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for question in missed:
        notices += await _missed(session, question, now, deadlines, community_channel)
    overdue = (
        await session.exec(
            select(Question)
            .where(
                col(Question.status).in_(["open", "claimed"]),
                col(Question.escalation) < 2,
                col(Question.answer_deadline) <= now,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for question in overdue:
        changed = await session.exec(
            update(Question)
            .where(col(Question.id) == question.id, col(Question.escalation) < 2)
            .values(escalation=2)
        )
        if changed.rowcount and coe_channel:
            notices.append(Notice("coe-post", coe_channel, question.id or 0, f"q{question.id}:coe"))
    return notices


async def _missed(
    session: AsyncSession,
    question: Question,
    now: dt.datetime,
    deadlines: Deadlines,
    community_channel: str | None,
) -> list[Notice]:
    assert question.id is not None
    assert question.champion_id is not None
    champion, misses = question.champion_id, question.misses
    changed = await session.exec(
        update(Question)
        .where(
            col(Question.id) == question.id,
            col(Question.status) == "open",
            col(Question.champion_id) == champion,
            col(Question.misses) == misses,
        )
        .values(misses=misses + 1, champion_id=None, claim_deadline=None)
    )
    if not changed.rowcount:
        return []
    await end_assignment(session, question.id, champion, "missed", now)
    await session.refresh(question)
    if question.misses >= 2:
        notices = to_community(
            question, now, community_channel, reason="two champions could not take it in time"
        )
        session.add(question)
        return notices
    return await route(session, question, now, deadlines, community_channel)
