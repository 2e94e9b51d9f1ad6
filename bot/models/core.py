"""The foundation's tables: lookups, the audit trail, request keys, job runs, the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import json_column, ts


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
    matched: dict[str, Any] = json_column()
    pack_version: str = Field(max_length=40)
    created_at: dt.datetime = ts()


class PolicyFeedback(SQLModel, table=True):
    """A 👍 or 👎 on one `/ai-policy` answer: one vote per person and answer (the last
    one counts), so the CoE can grow the evaluation set from real questions."""

    __tablename__ = "policy_feedback"
    __table_args__ = (Index("ix_policy_feedback_created_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    vote_key: str = Field(max_length=120, unique=True)  # person + question + choices
    user_id: str = Field(max_length=32, index=True)
    query: str = Field(max_length=3000)
    intent: str = Field(max_length=20)
    verdict: str = Field(max_length=24)  # what the answer's first line said, or "ask"
    tier: str | None = Field(default=None, max_length=60)
    tier_source: str | None = Field(default=None, max_length=12)  # asked, team, chosen
    category: str | None = Field(default=None, max_length=60)
    helpful: bool
    pack_version: str = Field(max_length=40)
    created_at: dt.datetime = ts()


class AuditEvent(SQLModel, table=True):
    """The append-only audit trail: code only ever inserts here."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = ts(index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64, index=True)
    subject: str | None = Field(default=None, max_length=200)
    details: dict[str, Any] = json_column()


class ProcessedRequest(SQLModel, table=True):
    """Slack request keys already handled, so a retried delivery is not processed twice."""

    __tablename__ = "processed_request"

    key: str = Field(primary_key=True, max_length=200)
    received_at: dt.datetime = ts(index=True)


class JobRun(SQLModel, table=True):
    """One row per (job, period): the claim that makes a scheduled job run its work once."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_run_job_period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=80)
    period: str = Field(max_length=80)
    started_at: dt.datetime = ts()
    result: dict[str, Any] = json_column()


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
    status: str = Field(default="pending", max_length=12)  # held, pending, sending, sent, failed
    attempts: int = 0
    next_attempt_at: dt.datetime = ts()
    claimed_until: dt.datetime | None = ts(nullable=True)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = ts()
    sent_at: dt.datetime | None = ts(nullable=True)
    message_ts: str | None = Field(default=None, max_length=40)
    ref: str | None = Field(default=None, max_length=80, index=True)  # e.g. "question:12"
    thread_ts: str | None = Field(default=None, max_length=40)  # a reply in this thread
