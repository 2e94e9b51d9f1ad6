"""SQLModel tables. Alembic migrations in `migrations/` create them; nothing else does."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp on every back end (SQLite keeps no zone: store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


def _ts(*, index: bool = False, nullable: bool = False) -> Any:
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PolicyLookup(SQLModel, table=True):
    """One `/ai-policy` question and what it matched, for the CoE."""

    __tablename__ = "policy_lookup"
    __table_args__ = (Index("ix_policy_lookup_created_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_key: str | None = Field(default=None, max_length=120, unique=True)
    user_id: str = Field(max_length=32, index=True)
    team_id: str | None = Field(default=None, max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    query: str = Field(max_length=3000)
    outcome: str = Field(max_length=20, index=True)
    matched: dict[str, Any] = _json()
    pack_version: str = Field(max_length=40)
    created_at: dt.datetime = _ts()


class AuditEvent(SQLModel, table=True):
    """The append-only audit trail: code only ever inserts here."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _ts(index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64, index=True)
    subject: str | None = Field(default=None, max_length=200)
    details: dict[str, Any] = _json()


class ProcessedRequest(SQLModel, table=True):
    """Slack request keys already handled, so a retried delivery is not processed twice."""

    __tablename__ = "processed_request"

    key: str = Field(primary_key=True, max_length=200)
    received_at: dt.datetime = _ts(index=True)


class JobRun(SQLModel, table=True):
    """One row per (job, period): the claim that makes a scheduled job run its work once."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_run_job_period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=80)
    period: str = Field(max_length=80)
    started_at: dt.datetime = _ts()
    result: dict[str, Any] = _json()


class OutboxMessage(SQLModel, table=True):
    """A message that must reach Slack: written first, then sent by the outbox worker."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)
    channel: str = Field(max_length=32)
    text: str = Field(max_length=4000)
    blocks: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    status: str = Field(default="pending", max_length=12)  # pending, sending, sent, failed
    attempts: int = 0
    next_attempt_at: dt.datetime = _ts()
    claimed_until: dt.datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = _ts()
    sent_at: dt.datetime | None = _ts(nullable=True)
    message_ts: str | None = Field(default=None, max_length=40)
