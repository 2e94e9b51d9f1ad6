"""A question's life: asked, routed, claimed, passed, answered, rated, reused, escalated.

Every state change is a compare-and-set UPDATE (it names the state it expects), so a
button pressed twice, two replicas sweeping at once or a sweep repeated after a restart
changes a question once. Each change returns `Notice`s: what must reach Slack, which the
caller turns into outbox rows in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import BadInput, NotAllowed
from bot.models import Champion, Question, QuestionAssignment
from bot.services import channels, routing
from bot.services.business_hours import BusinessHours
from bot.services.channels import Places
from bot.services.prompt_search import STOPWORDS


@dataclass(frozen=True, slots=True)
class Deadlines:
    hours: BusinessHours
    claim: dt.timedelta
    answer: dt.timedelta


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a person or channel must be told; `key` makes it once-only."""

    kind: str  # champion-dm, asker-routed, asker-claimed, asker-answered, asker-community,
    #            community-post, coe-post
    to: str
    question_id: int
    key: str
    data: dict[str, Any] = field(default_factory=dict)


ASKER_COMMUNITY = "q{}:asker-community"  # the asker's notice that it went to the community


def held_by(kind: str, dedupe_key: str) -> str | None:
    """The key of the asker's notice held until the row (`kind`, `dedupe_key`) is sent: a
    champion's DM "q12:dm:3" holds "q12:routed:3" ("<@champion> has your question"), a
    community post "q12:community:C…" holds "q12:asker-community"; else None."""
    question, _, rest = dedupe_key.partition(":")
    if kind == "question-champion-dm" and rest.startswith("dm:"):
        return f"{question}:routed:{rest.removeprefix('dm:')}"
    if kind == "question-community-post":
        return f"{question}:asker-community"
    return None


class QuestionGone(BadInput):
    def __init__(self) -> None:
        super().__init__("That question no longer exists.")


async def _get(session: AsyncSession, question_id: int) -> Question:
    question = await session.get(Question, question_id)
    if question is None:
        raise QuestionGone()
    return question


async def ask(
    *,
    session: AsyncSession,
    asker_id: str,
    team_id: int | None,
    text_: str,
    now: dt.datetime,
    deadlines: Deadlines,
    places: Places,
) -> tuple[Question, list[Notice]]:
    known = await routing.known_topics(session=session)
    question = Question(
        asker_id=asker_id,
        team_id=team_id,
        text=text_,
        topics_text=" ".join(sorted(routing.question_topics(text_, known))),
        created_at=now,
        answer_deadline=deadlines.hours.add(now, deadlines.answer),
    )
    session.add(question)
    await session.flush()
    notices = await route(session, question, now, deadlines, places)
    return question, notices


async def route(
    session: AsyncSession,
    question: Question,
    now: dt.datetime,
    deadlines: Deadlines,
    places: Places,
) -> list[Notice]:
    """Give the question to the best champion, or to the community channel if nobody fits."""
    assert question.id is not None
    tried = frozenset(
        (
            await session.exec(
                select(QuestionAssignment.champion_id).where(
                    col(QuestionAssignment.question_id) == question.id
                )
            )
        ).all()
    )
    choice = await routing.pick(
        session=session,
        asker_id=question.asker_id,
        team_id=question.team_id,
        topics=frozenset(question.topics_text.split()),
        exclude=tried,
    )
    if choice is None:
        return await to_community(session, question, places, reason="no champion is available")
    assignment = QuestionAssignment(
        question_id=question.id, champion_id=choice.user_id, reason=choice.reason, assigned_at=now
    )
    session.add(assignment)
    question.champion_id = choice.user_id
    question.route_reason = choice.reason
    question.assigned_at = now
    question.claim_deadline = deadlines.hours.add(now, deadlines.claim)
    session.add(question)
    await session.flush()
    n = assignment.id
    return [
        Notice("champion-dm", choice.user_id, question.id, f"q{question.id}:dm:{n}"),
        Notice(
            "asker-routed",
            question.asker_id,
            question.id,
            f"q{question.id}:routed:{n}",
            {"champion": choice.user_id, "reason": choice.reason, "held": True},
        ),
    ]


async def to_community(
    session: AsyncSession, question: Question, places: Places, *, reason: str
) -> list[Notice]:
    """Nobody could take the question: post it where `places` allows (see
    `community_notices`); `reason` is kept as the question's `route_reason`."""
    assert question.id is not None
    question.champion_id = None
    question.claim_deadline = None
    question.escalation = max(question.escalation, 1)
    question.route_reason = reason
    session.add(question)
    to = await channels.recipients(session, places.for_questions())
    return community_notices(question.id, question.asker_id, to)


def community_notices(question_id: int, asker_id: str, to: list[str]) -> list[Notice]:
    """A question for the community: a post to each of `to` (one channel, or the CoE
    admins by DM), and the asker's notice, held until one post is sent (the outbox
    releases it: `ASKER_COMMUNITY`) so the asker is never told of a post Slack refused.
    With nowhere to post, the asker is told that at once."""
    notices = [
        Notice("community-post", place, question_id, f"q{question_id}:community:{place}")
        for place in to
    ]
    where = to[0] if len(to) == 1 and channels.is_channel(to[0]) else ("admins" if to else None)
    notices.append(
        Notice(
            "asker-community",
            asker_id,
            question_id,
            ASKER_COMMUNITY.format(question_id),
            {"where": where, "held": bool(to)},
        )
    )
    return notices


async def claim(
    *, session: AsyncSession, question_id: int, user_id: str, now: dt.datetime
) -> list[Notice]:
    question = await _get(session, question_id)
    champion = await session.get(Champion, user_id)
    if champion is None or not champion.active:
        raise NotAllowed("Only champions can claim questions.")
    changed = await session.exec(
        update(Question)
        .where(
            col(Question.id) == question_id,
            col(Question.status) == "open",
            (col(Question.champion_id) == user_id) | col(Question.champion_id).is_(None),
        )
        .values(status="claimed", claimed_at=now, champion_id=user_id, claim_deadline=None)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:
        raise _why_not(question, user_id, "claim")
    await end_assignment(session, question_id, user_id, "claimed", now)
    return [
        Notice(
            "asker-claimed",
            question.asker_id,
            question_id,
            f"q{question_id}:claimed",
            {"champion": user_id},
        )
    ]


def _why_not(question: Question, user_id: str, verb: str) -> NotAllowed:
    if question.status in {"answered", "resolved", "closed"}:
        return NotAllowed("This question has been answered already.")
    if question.champion_id and question.champion_id != user_id:
        holder = "claimed by" if question.status == "claimed" else "with"
        return NotAllowed(f"This question is {holder} <@{question.champion_id}>; nothing changed.")
    return NotAllowed(f"You can't {verb} this question.")


async def end_assignment(
    session: AsyncSession, question_id: int, champion_id: str, outcome: str, now: dt.datetime
) -> None:
    await session.exec(
        update(QuestionAssignment)
        .where(
            col(QuestionAssignment.question_id) == question_id,
            col(QuestionAssignment.champion_id) == champion_id,
            col(QuestionAssignment.ended_at).is_(None),
        )
        .values(ended_at=now, outcome=outcome)
        .execution_options(synchronize_session=False)
    )


async def pass_on(
    *,
    session: AsyncSession,
    question_id: int,
    user_id: str,
    now: dt.datetime,
    deadlines: Deadlines,
    places: Places,
) -> list[Notice]:
    question = await _get(session, question_id)
    changed = await session.exec(
        update(Question)
        .where(
            col(Question.id) == question_id,
            col(Question.status).in_(["open", "claimed"]),
            col(Question.champion_id) == user_id,
        )
        .values(status="open", champion_id=None, claimed_at=None)
    )
    if not changed.rowcount:
        raise _why_not(question, user_id, "pass")
    await end_assignment(session, question_id, user_id, "passed", now)
    await session.refresh(question)
    return await route(session, question, now, deadlines, places)


async def answer(
    *, session: AsyncSession, question_id: int, user_id: str, text_: str, now: dt.datetime
) -> list[Notice]:
    """The assigned champion (or any champion, once it is in the community channel) answers."""
    question = await _get(session, question_id)
    champion = await session.get(Champion, user_id)
    if champion is None or not champion.active:
        raise NotAllowed("Only champions can answer questions here.")
    changed = await session.exec(
        update(Question)
        .where(
            col(Question.id) == question_id,
            col(Question.status).in_(["open", "claimed"]),
            (col(Question.champion_id) == user_id) | col(Question.champion_id).is_(None),
        )
        .values(
            status="answered",
            answer=text_,
            answered_by=user_id,
            answered_at=now,
            champion_id=user_id,
            claimed_at=func.coalesce(col(Question.claimed_at), now),
            claim_deadline=None,
        )
    )
    if not changed.rowcount:
        raise _why_not(question, user_id, "answer")
    await end_assignment(session, question_id, user_id, "answered", now)
    return [
        Notice(
            "asker-answered",
            question.asker_id,
            question_id,
            f"q{question_id}:answered",
            {"champion": user_id},
        )
    ]


async def rate(*, session: AsyncSession, question_id: int, user_id: str, helpful: bool) -> Question:
    question = await _get(session, question_id)
    if question.asker_id != user_id:
        raise NotAllowed("Only the person who asked can rate the answer.")
    if question.status != "answered":
        raise NotAllowed("This question has no answer to rate yet.")
    question.helpful = helpful
    session.add(question)
    return question


async def resolve_by_reuse(
    *,
    session: AsyncSession,
    asker_id: str,
    team_id: int | None,
    text_: str,
    reused_from: int,
    now: dt.datetime,
) -> Question:
    original = await _get(session, reused_from)
    question = Question(
        asker_id=asker_id,
        team_id=team_id,
        text=text_,
        status="resolved",
        created_at=now,
        reused_from=original.id,
    )
    session.add(question)
    await session.exec(
        update(Question)
        .where(col(Question.id) == reused_from)
        .values(reuse_count=Question.reuse_count + 1)
    )
    await session.flush()
    return question


async def similar_answered(*, session: AsyncSession, text_: str, limit: int = 3) -> list[Question]:
    """Earlier answered questions that match, best first (answers rated unhelpful left out).

    A match shares at least two of the question's content words (English stopwords, as
    PostgreSQL's english configuration drops them, do not count) and at least half of
    them: "how do I review React components?" is not "how do I test code that calls an
    LLM?" because both say "how" and "for"."""
    words = [
        w for w in routing.words_of(text_) if w.isalnum() and len(w) > 2 and w not in STOPWORDS
    ][:12]
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sql = (
            "SELECT q.id FROM question q, to_tsquery('english', :q) query"
            " WHERE q.search_vector @@ query AND q.status = 'answered'"
            " AND q.helpful IS NOT FALSE"
            " ORDER BY ts_rank_cd(q.search_vector, query) DESC, q.id DESC LIMIT :limit"
        )
        params: dict[str, Any] = {"q": " | ".join(f"{w}:*" for w in words), "limit": limit * 4}
    else:
        sql = (
            "SELECT q.id FROM question_fts f JOIN question q ON q.id = f.rowid"
            " WHERE question_fts MATCH :q AND q.status = 'answered'"
            " AND (q.helpful IS NULL OR q.helpful = 1)"
            " ORDER BY bm25(question_fts, 4.0, 1.0), q.id DESC LIMIT :limit"
        )
        params = {"q": " OR ".join(f'"{w}"*' for w in words), "limit": limit * 4}
    ids = [int(r[0]) for r in await session.exec(text(sql), params=params)]  # type: ignore[call-overload]
    found = {q.id: q for q in await session.exec(select(Question).where(col(Question.id).in_(ids)))}
    ranked = [found[i] for i in ids if i in found]
    needed = max(min(2, len(words)), (len(words) + 1) // 2)
    return [q for q in ranked if _overlap(q.text, words) >= needed][:limit]


def _overlap(text_: str, words: list[str]) -> int:
    mine = set(routing.words_of(text_))
    return sum(1 for w in set(words) if any(m.startswith(w[:5]) for m in mine))


async def queue(
    *, session: AsyncSession, champion_id: str, limit: int = 25, offset: int = 0
) -> tuple[Sequence[Question], int]:
    """A champion's queue — their open and claimed questions and the unclaimed ones —
    oldest first, `limit` of them from `offset`, and how many there are in all."""
    waiting = (
        col(Question.status).in_(["open", "claimed"]),
        (col(Question.champion_id) == champion_id) | col(Question.champion_id).is_(None),
    )
    found = await session.exec(
        select(Question)
        .where(*waiting)
        .order_by(col(Question.created_at), col(Question.id))
        .offset(offset)
        .limit(limit)
    )
    total = await session.exec(select(func.count()).select_from(Question).where(*waiting))
    return found.all(), int(total.one())


async def champion_left(
    *,
    session: AsyncSession,
    user_id: str,
    now: dt.datetime,
    deadlines: Deadlines,
    places: Places,
) -> list[Notice]:
    """A champion left (Slack says user_not_found / account_inactive): reroute their work."""
    from bot.services import champions

    await champions.retire(session=session, user_id=user_id, reason="left Slack", now=now)
    open_ones = (
        await session.exec(
            select(Question).where(
                col(Question.champion_id) == user_id, col(Question.status).in_(["open", "claimed"])
            )
        )
    ).all()
    notices: list[Notice] = []
    for question in open_ones:
        await end_assignment(session, question.id or 0, user_id, "left", now)
        question.status, question.champion_id, question.claimed_at = "open", None, None
        session.add(question)
        notices += await route(session, question, now, deadlines, places)
    return notices
