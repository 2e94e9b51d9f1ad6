"""SQLModel tables. Alembic migrations in `migrations/` create them; nothing else does."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, TypeDecorator, UniqueConstraint
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
    ref: str | None = Field(default=None, max_length=80, index=True)  # e.g. "question:12"


class Prompt(SQLModel, table=True):
    """A shared prompt. Counters are kept per distinct person, so one user cannot inflate them.

    Full-text search lives beside the table: an FTS5 index (`prompt_fts`) on SQLite, a
    generated `search_vector` column with a GIN index on PostgreSQL (see migration 0002).
    """

    __tablename__ = "prompt"
    __table_args__ = (
        Index("ix_prompt_status_score", "status", "score"),
        Index("ix_prompt_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=150)
    body: str = Field(sa_column=Column(Text, nullable=False))
    tags_text: str = Field(default="", max_length=600)
    stack: str | None = Field(default=None, max_length=60)
    use_case: str | None = Field(default=None, max_length=150)
    tool: str | None = Field(default=None, max_length=75)
    author_id: str = Field(max_length=32, index=True)
    team: str | None = Field(default=None, max_length=80)
    status: str = Field(default="published", max_length=16)  # published, pending, hidden, deleted
    body_hash: str = Field(max_length=64, index=True)
    version: int = 1
    helpful_count: int = 0  # distinct people who marked it helpful
    user_count: int = 0  # distinct people who used it
    use_count: int = 0  # every use
    score: float = 0.0  # Wilson lower bound of helpful over people: what "top" ranks by
    created_at: dt.datetime = _ts()
    updated_at: dt.datetime = _ts()

    @property
    def tags(self) -> list[str]:
        return self.tags_text.split()


class PromptVersion(SQLModel, table=True):
    """Every edit of a prompt, kept."""

    __tablename__ = "prompt_version"
    __table_args__ = (UniqueConstraint("prompt_id", "version", name="uq_prompt_version"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    version: int
    title: str = Field(max_length=150)
    body: str = Field(sa_column=Column(Text, nullable=False))
    tags_text: str = Field(default="", max_length=600)
    stack: str | None = Field(default=None, max_length=60)
    use_case: str | None = Field(default=None, max_length=150)
    tool: str | None = Field(default=None, max_length=75)
    editor_id: str = Field(max_length=32)
    created_at: dt.datetime = _ts()


class PromptTag(SQLModel, table=True):
    __tablename__ = "prompt_tag"

    prompt_id: int = Field(foreign_key="prompt.id", primary_key=True)
    tag: str = Field(max_length=40, primary_key=True, index=True)


class PromptVote(SQLModel, table=True):
    """One "helpful" per person per prompt."""

    __tablename__ = "prompt_vote"

    prompt_id: int = Field(foreign_key="prompt.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)
    created_at: dt.datetime = _ts(index=True)


class PromptUser(SQLModel, table=True):
    """The first use of a prompt by a person: what `user_count` counts."""

    __tablename__ = "prompt_user"

    prompt_id: int = Field(foreign_key="prompt.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)
    first_used_at: dt.datetime = _ts(index=True)


class PromptUse(SQLModel, table=True):
    """Every use: who used which prompt when, and from which team."""

    __tablename__ = "prompt_use"
    __table_args__ = (Index("ix_prompt_use_created_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    user_id: str = Field(max_length=32)
    team: str | None = Field(default=None, max_length=80)
    created_at: dt.datetime = _ts()


class PromptReport(SQLModel, table=True):
    """A report by one person; `resolved_at` is set when a CoE admin reviews the prompt."""

    __tablename__ = "prompt_report"
    __table_args__ = (UniqueConstraint("prompt_id", "user_id", name="uq_prompt_report_user"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    user_id: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime = _ts()
    resolved_at: dt.datetime | None = _ts(nullable=True)


class SearchTerm(SQLModel, table=True):
    """Words that occur in prompts: the vocabulary that search corrects typos against."""

    __tablename__ = "search_term"

    term: str = Field(primary_key=True, max_length=40)


class Team(SQLModel, table=True):
    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    created_at: dt.datetime = _ts()


class TeamUsergroup(SQLModel, table=True):
    """A Slack user group whose members belong to a team."""

    __tablename__ = "team_usergroup"

    usergroup_id: str = Field(primary_key=True, max_length=32)
    team_id: int = Field(foreign_key="team.id", index=True)


class TeamMember(SQLModel, table=True):
    """An explicit mapping of a person to a team (from an import or an admin)."""

    __tablename__ = "team_member"

    user_id: str = Field(primary_key=True, max_length=32)
    team_id: int = Field(foreign_key="team.id", index=True)
    updated_at: dt.datetime = _ts()


class Champion(SQLModel, table=True):
    __tablename__ = "champion"

    user_id: str = Field(primary_key=True, max_length=32)
    team_id: int = Field(foreign_key="team.id", index=True)
    topics_text: str = Field(default="", max_length=600)
    available: bool = True
    capacity: int = 5
    active: bool = True
    created_at: dt.datetime = _ts()
    deactivated_at: dt.datetime | None = _ts(nullable=True)
    deactivated_reason: str | None = Field(default=None, max_length=100)

    @property
    def topics(self) -> list[str]:
        return self.topics_text.split()


class Question(SQLModel, table=True):
    """A question to the champions, with its whole life: routing, claim, answer, rating.

    Full-text search over answered questions is an FTS5 table (`question_fts`) on SQLite and
    a generated `search_vector` column on PostgreSQL (migration 0003).
    """

    __tablename__ = "question"
    __table_args__ = (
        Index("ix_question_status_deadline", "status", "claim_deadline"),
        Index("ix_question_created_at", "created_at"),
        Index("ix_question_answered_at", "answered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    asker_id: str = Field(max_length=32, index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    topics_text: str = Field(default="", max_length=300)
    # open (waiting for a claim), claimed, answered, resolved (by an earlier answer), closed
    status: str = Field(default="open", max_length=12)
    champion_id: str | None = Field(default=None, max_length=32, index=True)
    route_reason: str | None = Field(default=None, max_length=200)
    misses: int = 0
    escalation: int = 0  # 1: posted in the community channel, 2: also in the CoE channel
    claim_deadline: dt.datetime | None = _ts(nullable=True)
    answer_deadline: dt.datetime | None = _ts(nullable=True)
    created_at: dt.datetime = _ts()
    assigned_at: dt.datetime | None = _ts(nullable=True)
    claimed_at: dt.datetime | None = _ts(nullable=True)
    answered_at: dt.datetime | None = _ts(nullable=True)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: str | None = Field(default=None, max_length=32)
    helpful: bool | None = None
    reused_from: int | None = Field(default=None, foreign_key="question.id")
    reuse_count: int = 0  # later questions this answer resolved


class QuestionAssignment(SQLModel, table=True):
    """Each champion a question was given to, and how that ended."""

    __tablename__ = "question_assignment"

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    champion_id: str = Field(max_length=32, index=True)
    reason: str = Field(max_length=200)
    assigned_at: dt.datetime = _ts()
    ended_at: dt.datetime | None = _ts(nullable=True)
    outcome: str | None = Field(default=None, max_length=12)  # claimed passed missed left


class Survey(SQLModel, table=True):
    """A loaded survey definition (the validated YAML, kept as JSON)."""

    __tablename__ = "survey"

    id: str = Field(primary_key=True, max_length=60)
    title: str = Field(max_length=150)
    anonymous: bool = True
    definition: dict[str, Any] = _json()
    version: int = 1
    source: str = Field(default="", max_length=300)
    created_at: dt.datetime = _ts()
    updated_at: dt.datetime = _ts()


class SurveyRun(SQLModel, table=True):
    """One sending of a survey; `period` makes a scheduled run happen once per period."""

    __tablename__ = "survey_run"
    __table_args__ = (UniqueConstraint("survey_id", "period", name="uq_survey_run_period"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: str = Field(foreign_key="survey.id", index=True)
    period: str = Field(max_length=60)
    definition: dict[str, Any] = _json()  # as it was when the run started
    status: str = Field(default="open", max_length=12)  # open, closed
    started_by: str = Field(max_length=32)
    started_at: dt.datetime = _ts()
    closes_at: dt.datetime = _ts(index=True)
    remind_at: dt.datetime | None = _ts(nullable=True)
    reminded_at: dt.datetime | None = _ts(nullable=True)
    closed_at: dt.datetime | None = _ts(nullable=True)
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
    status: str = Field(default="pending", max_length=12)  # pending sending sent failed answered
    attempts: int = 0
    next_attempt_at: dt.datetime = _ts()
    claimed_until: dt.datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, max_length=100)
    sent_at: dt.datetime | None = _ts(nullable=True)
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
    answers: dict[str, Any] = _json()
    submitted_at: dt.datetime = _ts()
    updated_at: dt.datetime = _ts()


class SurveyOptOut(SQLModel, table=True):
    """People who chose "Stop asking me"."""

    __tablename__ = "survey_opt_out"

    user_id: str = Field(primary_key=True, max_length=32)
    created_at: dt.datetime = _ts()


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
    created_at: dt.datetime = _ts()
