"""Read models for the CoE review API: keyset pages of what the CoE may see.

Anonymity holds here too: responses of an anonymous survey carry no respondent, and a
team with fewer responses than the minimum group size reads "(small group)".
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.csvsafe import defuse_sql
from bot.models import (
    AuditEvent,
    PolicyLookup,
    Prompt,
    Question,
    Survey,
    SurveyResponse,
    SurveyRun,
    Team,
)
from bot.services.survey_definitions import SurveyDefinition
from bot.services.survey_export import SMALL_GROUP


@dataclass(frozen=True, slots=True)
class Window:
    after: int
    limit: int
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    team: str | None = None


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


async def responses(
    *, session: AsyncSession, run: SurveyRun, window: Window, min_group: int
) -> AsyncIterator[dict[str, Any]]:
    """One run's responses in id order from `window.after`, anonymity applied."""
    anonymous = SurveyDefinition.model_validate(run.definition).anonymous
    teams = Counter(
        (
            await session.exec(
                select(SurveyResponse.team).where(col(SurveyResponse.run_id) == run.id)
            )
        ).all()
    )
    query = (
        _span(
            select(SurveyResponse).where(
                col(SurveyResponse.run_id) == run.id, col(SurveyResponse.id) > window.after
            ),
            col(SurveyResponse.updated_at),
            window,
        )
        .order_by(col(SurveyResponse.id))
        .limit(window.limit)
        .execution_options(yield_per=2000)
    )
    stream = await session.stream_scalars(query)
    async for response in stream:
        team = response.team if teams[response.team] >= min_group else SMALL_GROUP
        row: dict[str, Any] = {
            "id": response.id,
            "run_id": run.id,
            "submitted_at": response.updated_at,
            "team": team if response.team else None,
            "answers": response.answers,
        }
        if not anonymous:
            row["respondent"] = response.user_id
        yield row


def responses_copy_sql(
    run_id: int, definition: dict[str, Any], window: Window, min_group: int
) -> tuple[str, list[Any]]:
    """The PostgreSQL query behind a CSV of one run's responses: the same columns and the
    same anonymity rules as `responses` (question ids are validated slugs), every text cell
    defused by `csvsafe.defuse_sql` exactly as the Python writer does.

    The raw values are read in an inner query fenced with `OFFSET 0`, so each JSON field is
    extracted once per row, not once per use in the defusing expression."""
    parsed = SurveyDefinition.model_validate(definition)
    inner = [
        "r.id",
        "r.updated_at AS submitted_at",
        "CASE WHEN r.team IS NULL THEN NULL WHEN t.n >= $2 THEN r.team"
        f" ELSE '{SMALL_GROUP}' END AS team",
    ]
    outer = ["id", "submitted_at", f"{defuse_sql('team')} AS team"]
    if not parsed.anonymous:
        inner.append("r.user_id AS respondent")
        outer.append(f"{defuse_sql('respondent')} AS respondent")
    for question in parsed.questions:
        quoted = question.id.replace('"', "")
        if question.type.value == "multi":
            inner.append(
                "array_to_string(ARRAY(SELECT json_array_elements_text("
                f"r.answers->'{quoted}')), ';') AS \"{quoted}\""
            )
        else:
            inner.append(f"r.answers->>'{quoted}' AS \"{quoted}\"")
        column = f's."{quoted}"'
        outer.append(f'{defuse_sql(column)} AS "{quoted}"')
    args: list[Any] = [run_id, min_group, window.after]
    where = ["r.run_id = $1", "r.id > $3"]
    if window.since:
        args.append(window.since)
        where.append(f"r.updated_at >= ${len(args)}")
    if window.until:
        args.append(window.until)
        where.append(f"r.updated_at < ${len(args)}")
    sql = (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM survey_response r"
        " LEFT JOIN (SELECT team, count(*) AS n FROM survey_response WHERE run_id = $1"
        f" GROUP BY team) t ON t.team = r.team WHERE {' AND '.join(where)} ORDER BY r.id"
        " OFFSET 0) s ORDER BY id"
    )
    return sql, args


async def questions(*, session: AsyncSession, window: Window) -> list[dict[str, Any]]:
    query = (
        select(Question, Team.name)
        .join(Team, col(Team.id) == col(Question.team_id), isouter=True)
        .where(col(Question.id) > window.after)
    )
    if window.team:
        query = query.where(col(Team.name) == window.team)
    query = _span(query, col(Question.created_at), window)
    rows = (await session.exec(query.order_by(col(Question.id)).limit(window.limit + 1))).all()
    return [
        {
            "id": q.id,
            "team": team,
            "status": q.status,
            "topics": q.topics_text.split(),
            "route_reason": q.route_reason,
            "misses": q.misses,
            "escalation": q.escalation,
            "created_at": q.created_at,
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
    query = _span(
        select(PolicyLookup.outcome, PolicyLookup.matched, PolicyLookup.query),
        col(PolicyLookup.created_at),
        window,
    )
    topics: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    for outcome, matched, text in (await session.exec(query)).all():
        for kind in ("categories", "tiers", "tools", "rules"):
            topics.update(
                f"{kind[:-1] if kind != 'categories' else 'category'}:{x}"
                for x in matched.get(kind, [])
            )
        if outcome == "no_match":
            unanswered[text.strip().lower()[:200]] += 1
    return {
        "top_topics": [{"topic": t, "lookups": n} for t, n in topics.most_common(25)],
        "unanswered_queries": [{"query": q, "lookups": n} for q, n in unanswered.most_common(25)],
    }


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
