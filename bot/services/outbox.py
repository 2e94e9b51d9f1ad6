"""The outbox: messages that must reach Slack are rows first, then claimed and sent.

Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL so several workers or replicas
never take the same row; on SQLite (one writer at a time) a compare-and-set on the
status does the same. A row left in `sending` by a crashed worker is claimable again
once its lease has run out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import insert_for
from bot.models import OutboxMessage

LEASE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 8
UNKNOWN_OUTCOME = "unknown_outcome"  # could not learn whether Slack posted it
EVENT_TYPE = "coe_outbox"  # message metadata naming the row, for settling from history
EPHEMERAL = "ephemeral:"  # a row whose `ref` is "ephemeral:U…" is shown to that user only


async def enqueue(
    *,
    session: AsyncSession,
    dedupe_key: str,
    kind: str,
    channel: str,
    text: str,
    now: dt.datetime,
    blocks: list[dict[str, Any]] | None = None,
    not_before: dt.datetime | None = None,
    ref: str | None = None,
    thread_ts: str | None = None,
    held: bool = False,
) -> bool:
    """Add a message unless one with the same key exists; True when it was added. A `held`
    row is not sent until `release` makes it pending (or `drop_held` deletes it)."""
    stmt = (
        insert_for(session, OutboxMessage)
        .values(
            dedupe_key=dedupe_key,
            kind=kind,
            channel=channel,
            text=text[:4000],
            blocks=blocks,
            status="held" if held else "pending",
            attempts=0,
            next_attempt_at=not_before or now,
            created_at=now,
            ref=ref,
            thread_ts=thread_ts,
        )
        .on_conflict_do_nothing()
    )
    result = await session.exec(stmt)
    return bool(result.rowcount)


async def claim_due(
    *, session: AsyncSession, now: dt.datetime, limit: int = 50
) -> Sequence[OutboxMessage]:
    """Take up to `limit` due messages for this worker; commit soon after."""
    due = or_(
        (col(OutboxMessage.status) == "pending") & (col(OutboxMessage.next_attempt_at) <= now),
        (col(OutboxMessage.status) == "sending") & (col(OutboxMessage.claimed_until) < now),
    )
    query = (
        select(OutboxMessage)
        .where(due)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.exec(query)).all()
    claimed: list[OutboxMessage] = []
    for row in rows:
        result = await session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == row.id,
                col(OutboxMessage.status) == row.status,
                # a lease that ran out is taken by one worker: the one that saw it first
                col(OutboxMessage.claimed_until).is_(None)
                if row.claimed_until is None
                else col(OutboxMessage.claimed_until) == row.claimed_until,
            )
            .values(status="sending", claimed_until=now + LEASE, attempts=row.attempts + 1)
            # the row keeps the state it was claimed in: one that was "sending" (a crash, a
            # lost answer) is settled from the conversation's history before any resend
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            claimed.append(row)
    return claimed


async def mark_sent(
    *, session: AsyncSession, message_id: int, now: dt.datetime, message_ts: str | None
) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status="sent", sent_at=now, message_ts=message_ts, claimed_until=None)
    )


async def mark_retry(
    *, session: AsyncSession, message_id: int, attempts: int, at: dt.datetime, error: str
) -> None:
    """Try again at `at`, or give up after MAX_ATTEMPTS."""
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status=status, next_attempt_at=at, last_error=error[:200], claimed_until=None)
    )


async def mark_unknown(
    *, session: AsyncSession, message_id: int, attempts: int, at: dt.datetime, error: str
) -> None:
    """Slack may or may not have posted it: keep it `sending` until `at`, when the worker
    settles it from history; after MAX_ATTEMPTS it fails as `unknown_outcome`, never resent."""
    values: dict[str, Any] = (
        {"status": "failed", "last_error": UNKNOWN_OUTCOME, "claimed_until": None}
        if attempts >= MAX_ATTEMPTS
        else {"status": "sending", "last_error": error[:200], "claimed_until": at}
    )
    await session.exec(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
    )


async def mark_failed(*, session: AsyncSession, message_id: int, error: str) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(status="failed", last_error=error[:200], claimed_until=None)
    )


async def list_messages(
    *, session: AsyncSession, kind: str | None = None
) -> Sequence[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if kind:
        query = query.where(col(OutboxMessage.kind) == kind)
    return (await session.exec(query)).all()


async def find_sent(
    *, session: AsyncSession, message_ts: str, kind_prefix: str
) -> OutboxMessage | None:
    """The sent message with this Slack `ts` (a thread reply points at it)."""
    query = select(OutboxMessage).where(
        col(OutboxMessage.message_ts) == message_ts,
        col(OutboxMessage.kind).startswith(kind_prefix),
    )
    return (await session.exec(query.limit(1))).first()


async def release(*, session: AsyncSession, dedupe_key: str, now: dt.datetime) -> bool:
    """Send now the held row with this key; True if there was one."""
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.dedupe_key) == dedupe_key, col(OutboxMessage.status) == "held")
        .values(status="pending", next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def drop_held(*, session: AsyncSession, dedupe_key: str) -> bool:
    """Delete the held row with this key (to be written again, differently); True if one was."""
    result = await session.exec(
        delete(OutboxMessage).where(
            col(OutboxMessage.dedupe_key) == dedupe_key, col(OutboxMessage.status) == "held"
        )
    )
    return bool(result.rowcount)


async def siblings(
    *, session: AsyncSession, ref: str, kind: str, other_than: int
) -> Sequence[OutboxMessage]:
    """The other rows of `kind` about `ref`, oldest first."""
    return (
        await session.exec(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.ref) == ref,
                col(OutboxMessage.kind) == kind,
                col(OutboxMessage.id) != other_than,
            )
            .order_by(col(OutboxMessage.id))
        )
    ).all()


async def release_channel(*, session: AsyncSession, channel: str, now: dt.datetime) -> int:
    """Send now every row held for `channel` (it opened again); how many."""
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.channel) == channel, col(OutboxMessage.status) == "held")
        .values(status="pending", next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
