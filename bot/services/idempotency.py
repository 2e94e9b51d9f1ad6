"""Once-only claims: a Slack delivery key or a scheduled job's period is handled once.

Both work by inserting a row under a unique key inside the caller's transaction; the
insert that loses the race (or comes after a retry or a restart) reports False. On
PostgreSQL and SQLite alike this is an `INSERT ... ON CONFLICT DO NOTHING`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import insert_for
from bot.models import JobRun, ProcessedRequest


async def claim_request(*, session: AsyncSession, key: str, now: dt.datetime) -> bool:
    """True the first time `key` is seen; False for a retried or repeated delivery."""
    stmt = insert_for(session, ProcessedRequest).values(key=key[:200], received_at=now)
    result = await session.exec(stmt.on_conflict_do_nothing())
    return bool(result.rowcount)


async def claim_job_period(
    *,
    session: AsyncSession,
    job: str,
    period: str,
    now: dt.datetime,
    result: dict[str, Any] | None = None,
    formerly: Sequence[str] = (),
) -> bool:
    """True when this (job, period) had not run yet; the row is the proof it has now.
    `formerly`: keys the same period had under an earlier key scheme; any of them claimed
    means it ran."""
    if formerly:
        earlier = await session.exec(
            select(JobRun.id).where(col(JobRun.job) == job, col(JobRun.period).in_(list(formerly)))
        )
        if earlier.first() is not None:
            return False
    stmt = insert_for(session, JobRun).values(
        job=job, period=period, started_at=now, result=result or {}
    )
    outcome = await session.exec(stmt.on_conflict_do_nothing())
    return bool(outcome.rowcount)


async def forget_requests_before(*, session: AsyncSession, before: dt.datetime) -> int:
    """Slack retries within minutes; keys older than a day or two can go."""
    outcome = await session.exec(
        delete(ProcessedRequest).where(col(ProcessedRequest.received_at) < before)
    )
    return int(outcome.rowcount)
