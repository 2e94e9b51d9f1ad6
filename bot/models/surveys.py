"""Surveys and digests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import json_column, ts


class Survey(SQLModel, table=True):
    """A loaded survey definition (the validated YAML, kept as JSON)."""

    __tablename__ = "survey"

    id: str = Field(primary_key=True, max_length=60)
    title: str = Field(max_length=150)
    anonymous: bool = True
    definition: dict[str, Any] = json_column()
    version: int = 1
    source: str = Field(default="", max_length=300)
    created_at: dt.datetime = ts()
    updated_at: dt.datetime = ts()


class SurveyRun(SQLModel, table=True):
    """One sending of a survey; `period` makes a scheduled run happen once per period."""

    __tablename__ = "survey_run"
    __table_args__ = (UniqueConstraint("survey_id", "period", name="uq_survey_run_period"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: str = Field(foreign_key="survey.id", index=True)
    period: str = Field(max_length=60)
    definition: dict[str, Any] = json_column()  # as it was when the run started
    status: str = Field(default="open", max_length=12)  # open, closed
    started_by: str = Field(max_length=32)
    started_at: dt.datetime = ts()
    closes_at: dt.datetime = ts(index=True)
    remind_at: dt.datetime | None = ts(nullable=True)
    reminded_at: dt.datetime | None = ts(nullable=True)
    closed_at: dt.datetime | None = ts(nullable=True)
    audience_size: int = 0


class SurveyRecipient(SQLModel, table=True):
    """The delivery of one run to one person: the survey's own outbox row.

    Anonymous answers are never linked to this row: it says only that the person was
    asked, whether the invitation reached them, and whether they answered.
    """

    __tablename__ = "survey_recipient"
    __table_args__ = (
        UniqueConstraint("run_id", "user_id", name="uq_survey_recipient"),
        Index("ix_survey_recipient_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="survey_run.id", index=True)
    user_id: str = Field(max_length=32)
    # pending sending sent failed answered, or left_out (never asked; last_error says why)
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0
    next_attempt_at: dt.datetime = ts()
    claimed_until: dt.datetime | None = ts(nullable=True)
    last_error: str | None = Field(default=None, max_length=100)
    sent_at: dt.datetime | None = ts(nullable=True)
    message_ts: str | None = Field(default=None, max_length=40)
    dm_channel: str | None = Field(default=None, max_length=32)
    reminder_status: str | None = Field(default=None, max_length=12)  # pending, sent, failed


class SurveyResponse(SQLModel, table=True):
    """Answers to one run by one person, keyed by an HMAC of the person (never the ID itself
    for anonymous surveys), so a person can change their answers but never count twice."""

    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("run_id", "respondent_key", name="uq_survey_response"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="survey_run.id", index=True)
    respondent_key: str = Field(max_length=64)
    user_id: str | None = Field(default=None, max_length=32)  # named surveys only
    team: str | None = Field(default=None, max_length=80)
    answers: dict[str, Any] = json_column()
    submitted_at: dt.datetime = ts()
    updated_at: dt.datetime = ts()


class SurveyOptOut(SQLModel, table=True):
    """People who chose "Stop asking me"."""

    __tablename__ = "survey_opt_out"

    user_id: str = Field(primary_key=True, max_length=32)
    created_at: dt.datetime = ts()


class DigestSubscription(SQLModel, table=True):
    """A channel's weekly digest: when (a weekday and a local time) and which sections."""

    __tablename__ = "digest_subscription"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=32, unique=True)
    weekday: int  # 0 = Monday
    time_of_day: str = Field(max_length=5)  # "09:00"
    timezone: str = Field(max_length=60)
    sections: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="active", max_length=12)  # active, paused
    paused_reason: str | None = Field(default=None, max_length=100)
    created_by: str = Field(max_length=32)
    created_at: dt.datetime = ts()
