"""Read models for the CoE review API: keyset pages of what the CoE may see.

Survey answers are not read here: `survey_disclosure` decides what may leave about a run.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import (
    AuditEvent,
    PolicyFeedback,
    PolicyLookup,
    Prompt,
    Question,
    QuestionAssignment,
    Survey,
    SurveyResponse,
    SurveyRun,
    Team,
)


@dataclass(frozen=True, slots=True)
class Window:
    after: int
    limit: int
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    team: str | None = None
    status: str | None = None  # questions: open, claimed, answered, resolved, closed
    champion: str | None = None  # questions: given to (or answered by) this user ID


def _span(query: Any, column: Any, window: Window) -> Any:
    if window.since:
        query = query.where(column >= window.since)
    if window.until:
        query = query.where(column < window.until)
    return query


async def surveys(*, session: AsyncSession) -> list[dict[str, Any]]:
    rows = (await session.exec(select(Survey).order_by(col(Survey.id)))).all()
    return [
        {
            "id": s.id,
            "title": s.title,
            "anonymous": s.anonymous,
            "version": s.version,
            "definition": s.definition,
        }
        for s in rows
    ]


async def runs(*, session: AsyncSession, survey_id: str) -> list[dict[str, Any]]:
    found = (
        await session.exec(
            select(SurveyRun)
            .where(col(SurveyRun.survey_id) == survey_id)
            .order_by(col(SurveyRun.id))
        )
    ).all()
    counts = dict(
        (
            await session.exec(
                select(SurveyResponse.run_id, func.count())
                .where(col(SurveyResponse.run_id).in_([r.id for r in found]))
                .group_by(col(SurveyResponse.run_id))
            )
        ).all()
    )
    return [
        {
            "id": r.id,
            "survey_id": r.survey_id,
            "period": r.period,
            "status": r.status,
            "started_at": r.started_at,
            "closes_at": r.closes_at,
            "audience": r.audience_size,
            "responses": counts.get(r.id or 0, 0),
        }
        for r in found
    ]


async def run(*, session: AsyncSession, run_id: int) -> SurveyRun | None:
    return await session.get(SurveyRun, run_id)


async def questions(*, session: AsyncSession, window: Window) -> list[dict[str, Any]]:
    """A page of questions by id, oldest first: what was asked and by whom, every champion
    it went to (in order, with what they did), the answer and who gave it, its rating and
    timings (seconds). Filters: team, status, champion (one it went to, or who answered),
    created since/until. Free text is what retention left (RETENTION_DAYS purges it)."""
    query = (
        select(Question, Team.name)
        .join(Team, col(Team.id) == col(Question.team_id), isouter=True)
        .where(col(Question.id) > window.after)
    )
    if window.team:
        query = query.where(col(Team.name) == window.team)
    if window.status:
        query = query.where(col(Question.status) == window.status)
    if window.champion:
        went = select(QuestionAssignment.question_id).where(
            col(QuestionAssignment.champion_id) == window.champion
        )
        query = query.where(
            col(Question.id).in_(went) | (col(Question.answered_by) == window.champion)
        )
    query = _span(query, col(Question.created_at), window)
    rows = (await session.exec(query.order_by(col(Question.id)).limit(window.limit + 1))).all()
    tried: dict[int, list[dict[str, Any]]] = {}
    ids = [q.id for q, _ in rows]
    if ids:
        for a in (
            await session.exec(
                select(QuestionAssignment)
                .where(col(QuestionAssignment.question_id).in_(ids))
                .order_by(col(QuestionAssignment.id))
            )
        ).all():
            tried.setdefault(a.question_id, []).append(
                {"champion": a.champion_id, "outcome": a.outcome, "assigned_at": a.assigned_at}
            )
    return [
        {
            "id": q.id,
            "team": team,
            "status": q.status,
            "asker": q.asker_id,
            "text": q.text,
            "topics": q.topics_text.split(),
            "champion": q.champion_id,
            "champions_tried": tried.get(q.id or 0, []),
            "route_reason": q.route_reason,
            "answer": q.answer,
            "answered_by": q.answered_by,
            "misses": q.misses,
            "escalation": q.escalation,
            "created_at": q.created_at,
            "claimed_at": q.claimed_at,
            "answered_at": q.answered_at,
            "seconds_to_claim": _seconds(q.created_at, q.claimed_at),
            "seconds_to_answer": _seconds(q.created_at, q.answered_at),
            "helpful": q.helpful,
            "resolved_by_reuse_of": q.reused_from,
            "reuse_count": q.reuse_count,
        }
        for q, team in rows
    ]


def _seconds(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return (end - start).total_seconds() if end else None


async def prompts(*, session: AsyncSession, window: Window) -> list[dict[str, Any]]:
    query = _span(
        select(Prompt).where(col(Prompt.id) > window.after), col(Prompt.created_at), window
    )
    if window.team:
        query = query.where(col(Prompt.team) == window.team)
    rows = (await session.exec(query.order_by(col(Prompt.id)).limit(window.limit + 1))).all()
    return [
        {
            "id": p.id,
            "title": p.title,
            "tags": p.tags,
            "status": p.status,
            "author": p.author_id,
            "team": p.team,
            "helpful": p.helpful_count,
            "people": p.user_count,
            "uses": p.use_count,
            "score": round(p.score, 4),
            "created_at": p.created_at,
        }
        for p in rows
    ]


async def lookups(*, session: AsyncSession, window: Window) -> list[dict[str, Any]]:
    query = _span(
        select(PolicyLookup).where(col(PolicyLookup.id) > window.after),
        col(PolicyLookup.created_at),
        window,
    )
    rows = (await session.exec(query.order_by(col(PolicyLookup.id)).limit(window.limit + 1))).all()
    return [
        {
            "id": r.id,
            "user": r.user_id,
            "query": r.query,
            "outcome": r.outcome,
            "matched": r.matched,
            "pack_version": r.pack_version,
            "created_at": r.created_at,
        }
        for r in rows
    ]


async def lookup_topics(*, session: AsyncSession, window: Window) -> dict[str, Any]:
    """Top topics, then what the CoE should read to grow the evaluation set: questions
    that matched nothing, questions asked back (and what people chose), and answers
    voted wrong. Shapes: lists of {"query", "lookups" | "votes", ...}, 25 each."""
    query = _span(
        select(PolicyLookup.outcome, PolicyLookup.matched, PolicyLookup.query),
        col(PolicyLookup.created_at),
        window,
    )
    topics: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    chosen: dict[str, Counter[str]] = {}
    for outcome, matched, text in (await session.exec(query)).all():
        for kind in ("categories", "tiers", "tools", "rules"):
            topics.update(
                f"{kind[:-1] if kind != 'categories' else 'category'}:{x}"
                for x in matched.get(kind, [])
            )
        key = text.strip().lower()[:200]
        if outcome == "no_match":
            unanswered[key] += 1
        if outcome == "ambiguous":
            asked[key] += 1
        for what, picked in (matched.get("chosen") or {}).items():
            chosen.setdefault(key, Counter())[f"{what}:{picked}"] += 1
    votes = _span(
        select(PolicyFeedback.query, PolicyFeedback.verdict, PolicyFeedback.helpful),
        col(PolicyFeedback.created_at),
        window,
    )
    up = 0
    wrong: Counter[tuple[str, str]] = Counter()
    for text, verdict, helpful in (await session.exec(votes)).all():
        if helpful:
            up += 1
        else:
            wrong[(text.strip().lower()[:200], verdict)] += 1
    return {
        "top_topics": [{"topic": t, "lookups": n} for t, n in topics.most_common(25)],
        "unanswered_queries": [{"query": q, "lookups": n} for q, n in unanswered.most_common(25)],
        "asked_back": [
            {"query": q, "lookups": n, "chosen": dict(chosen.get(q, Counter()))}
            for q, n in asked.most_common(25)
        ],
        "voted_wrong": [
            {"query": q, "verdict": v, "votes": n} for (q, v), n in wrong.most_common(25)
        ],
        "votes": {"right": up, "wrong": sum(wrong.values()), "asked_back": sum(asked.values())},
    }


async def policy_votes(*, session: AsyncSession, window: Window) -> list[dict[str, Any]]:
    """Each 👍 / 👎 with who gave it (the `responses` scope), oldest first."""
    query = _span(
        select(PolicyFeedback).where(col(PolicyFeedback.id) > window.after),
        col(PolicyFeedback.created_at),
        window,
    )
    rows = (
        await session.exec(query.order_by(col(PolicyFeedback.id)).limit(window.limit + 1))
    ).all()
    return [
        {
            "id": r.id,
            "user": r.user_id,
            "query": r.query,
            "intent": r.intent,
            "verdict": r.verdict,
            "tier": r.tier,
            "tier_source": r.tier_source,
            "category": r.category,
            "helpful": r.helpful,
            "pack_version": r.pack_version,
            "created_at": r.created_at,
        }
        for r in rows
    ]


async def audit_log(*, session: AsyncSession, window: Window) -> list[dict[str, Any]]:
    query = _span(
        select(AuditEvent).where(col(AuditEvent.id) > window.after), col(AuditEvent.at), window
    )
    rows = (await session.exec(query.order_by(col(AuditEvent.id)).limit(window.limit + 1))).all()
    return [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "details": e.details,
        }
        for e in rows
    ]


COUNTED = {
    "lookups": (PolicyLookup, "created_at"),
    "questions": (Question, "created_at"),
    "prompts": (Prompt, "created_at"),
    "audit": (AuditEvent, "at"),
}


async def count(*, session: AsyncSession, resource: str, since: dt.datetime | None) -> int:
    """How many rows an export of `resource` will write (for its progress bar)."""
    model, column = COUNTED[resource]
    query = select(func.count()).select_from(model)
    if since is not None:
        query = query.where(getattr(model, column) >= since)
    return int((await session.exec(query)).one())
