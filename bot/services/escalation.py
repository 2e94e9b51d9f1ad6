"""Escalating overdue questions: missed claims move on, unanswered ones reach the CoE.

The sweep works in sets, so ten thousand open questions take a second, not a minute:
overdue rows are taken with `FOR UPDATE SKIP LOCKED` (replicas share the work), changed
with one compare-and-set UPDATE that names the champion it read (a repeated or concurrent
sweep changes nothing twice), rerouted in memory against every champion's load, and
written back in bulk. Every message has a once-only key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, tuple_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Question, QuestionAssignment
from bot.services import channels, routing
from bot.services.champions import OPEN_STATUSES
from bot.services.channels import Places
from bot.services.questions import Deadlines, Notice, community_notices


async def sweep(
    *,
    session: AsyncSession,
    now: dt.datetime,
    deadlines: Deadlines,
    places: Places,
    limit: int = 5000,
) -> list[Notice]:
    """A missed claim goes to the next champion, a second miss to the community channel,
    an answer overdue to the CoE channel: each step once. A closed channel is passed
    over for the next of `places` (`channels.recipients`)."""
    notices = await _missed_claims(session, now, deadlines, places, limit)
    return notices + await _overdue_answers(session, now, places, limit)


async def _missed_claims(
    session: AsyncSession,
    now: dt.datetime,
    deadlines: Deadlines,
    places: Places,
    limit: int,
) -> list[Notice]:
    conn = await session.connection()
    due: Sequence[Any] = (
        await conn.execute(
            select(col(Question.id), col(Question.champion_id))
            .where(
                col(Question.status) == "open",
                col(Question.champion_id).is_not(None),
                col(Question.claim_deadline) <= now,
            )
            .order_by(col(Question.claim_deadline), col(Question.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not due:
        return []
    was: dict[int, str] = {int(row[0]): str(row[1]) for row in due}
    changed: Sequence[Any] = (
        await conn.execute(
            update(Question)
            .where(
                tuple_(col(Question.id), col(Question.champion_id)).in_(list(was.items())),
                col(Question.status) == "open",
                col(Question.claim_deadline) <= now,
            )
            .values(misses=col(Question.misses) + 1, champion_id=None, claim_deadline=None)
            .returning(
                col(Question.id),
                col(Question.misses),
                col(Question.asker_id),
                col(Question.team_id),
                col(Question.topics_text),
            )
        )
    ).all()
    rows: dict[int, Any] = {int(row[0]): row for row in changed}
    ids = [i for i in was if i in rows]  # in claim-deadline order
    if not ids:
        return []
    await conn.execute(
        update(QuestionAssignment)
        .where(
            tuple_(col(QuestionAssignment.question_id), col(QuestionAssignment.champion_id)).in_(
                [(i, was[i]) for i in ids]
            ),
            col(QuestionAssignment.ended_at).is_(None),
        )
        .values(ended_at=now, outcome="missed")
    )
    plan = await _plan(session, ids, was, rows)
    return await _apply(session, plan, rows, now, deadlines, places)


@dataclasses.dataclass(slots=True)
class _Plan:
    assign: list[tuple[int, routing.Choice]]
    community: list[tuple[int, str]]


async def _plan(
    session: AsyncSession, ids: list[int], was: dict[int, str], rows: dict[int, Any]
) -> _Plan:
    """Route every missed question in memory, keeping the champions' loads in step."""
    conn = await session.connection()
    tried: dict[int, set[str]] = {}
    for question_id, champion in (
        await conn.execute(
            select(col(QuestionAssignment.question_id), col(QuestionAssignment.champion_id)).where(
                col(QuestionAssignment.question_id).in_(ids)
            )
        )
    ).all():
        tried.setdefault(question_id, set()).add(champion)
    candidates = await routing.load_candidates(session=session)
    for question_id in ids:  # loads as before the sweep: a miss frees a place in its turn
        if was[question_id] in candidates:
            old = candidates[was[question_id]]
            candidates[old.user_id] = dataclasses.replace(old, open=old.open + 1)
    plan = _Plan(assign=[], community=[])
    for question_id in ids:
        if was[question_id] in candidates:
            old = candidates[was[question_id]]
            candidates[old.user_id] = dataclasses.replace(old, open=old.open - 1)
        _, misses, asker, team, topics = rows[question_id]
        if misses >= 2:
            plan.community.append((question_id, "two champions could not take it in time"))
            continue
        choice = routing.choose(
            list(candidates.values()),
            asker_id=asker,
            team_id=team,
            topics=frozenset(str(topics).split()),
            exclude=frozenset(tried.get(question_id, ())),
        )
        if choice is None:
            plan.community.append((question_id, "no champion is available"))
            continue
        chosen = candidates[choice.user_id]
        candidates[choice.user_id] = dataclasses.replace(chosen, open=chosen.open + 1)
        plan.assign.append((question_id, choice))
    return plan


async def _apply(
    session: AsyncSession,
    plan: _Plan,
    rows: dict[int, Any],
    now: dt.datetime,
    deadlines: Deadlines,
    places: Places,
) -> list[Notice]:
    conn = await session.connection()
    notices: list[Notice] = []
    if plan.assign:
        assignment_ids = (
            (
                await conn.execute(
                    insert(QuestionAssignment).returning(
                        col(QuestionAssignment.id), sort_by_parameter_order=True
                    ),
                    [
                        {
                            "question_id": q,
                            "champion_id": c.user_id,
                            "reason": c.reason,
                            "assigned_at": now,
                        }
                        for q, c in plan.assign
                    ],
                )
            )
            .scalars()
            .all()
        )
        table: Any = Question.__table__  # type: ignore[attr-defined]
        await conn.execute(
            update(table)
            .where(table.c.id == bindparam("question"))
            .values(
                champion_id=bindparam("champion"),
                route_reason=bindparam("reason"),
                assigned_at=now,
                claim_deadline=deadlines.hours.add(now, deadlines.claim),
            ),
            [{"question": q, "champion": c.user_id, "reason": c.reason} for q, c in plan.assign],
        )
        for (question_id, choice), number in zip(plan.assign, assignment_ids, strict=True):
            asker = rows[question_id][2]
            notices += [
                Notice("champion-dm", choice.user_id, question_id, f"q{question_id}:dm:{number}"),
                Notice(
                    "asker-routed",
                    asker,
                    question_id,
                    f"q{question_id}:routed:{number}",
                    {"champion": choice.user_id, "reason": choice.reason, "held": True},
                ),
            ]
    if plan.community:
        table = Question.__table__  # type: ignore[attr-defined]
        await conn.execute(
            update(table)
            .where(table.c.id == bindparam("question"), table.c.escalation < 1)
            .values(escalation=1, route_reason=bindparam("reason")),
            [{"question": q, "reason": reason} for q, reason in plan.community],
        )
        to = await channels.recipients(session, places.for_questions())
        for question_id, _ in plan.community:
            notices += community_notices(question_id, rows[question_id][2], to)
    return notices


async def _overdue_answers(
    session: AsyncSession, now: dt.datetime, places: Places, limit: int
) -> list[Notice]:
    conn = await session.connection()
    overdue = (
        select(col(Question.id))
        .where(
            col(Question.status).in_(OPEN_STATUSES),
            col(Question.escalation) < 2,
            col(Question.answer_deadline) <= now,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [row[0] for row in (await conn.execute(overdue)).all()]
    if not ids:
        return []
    escalated = (
        (
            await conn.execute(
                update(Question)
                .where(col(Question.id).in_(ids), col(Question.escalation) < 2)
                .values(escalation=2)
                .returning(col(Question.id))
            )
        )
        .scalars()
        .all()
    )
    to = await channels.recipients(session, places.for_coe())
    return [Notice("coe-post", c, int(q), f"q{q}:coe:{c}") for q in escalated if q for c in to]
