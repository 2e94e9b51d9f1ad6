"""What the AI tools report about their own use: GitHub Copilot's per-user days, its
user↔team rows and daily seat snapshots, and each pull's record.

Rows about a person (a GitHub user's day, their seat) never leave the database except
through `bot.services.usage_figures`, which applies the minimum-group rules; they are kept
`USAGE_RAW_RETENTION_DAYS`. Field names are GitHub's
(https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, Index
from sqlmodel import Field, SQLModel

from bot.models.base import ts


class CopilotUserDay(SQLModel, table=True):
    """One GitHub user's Copilot day from a `users-1-day` report (`entity`: "org:NAME" or
    "enterprise:NAME"). Counters are GitHub's; `extra` keeps top-level keys this version of
    coe-bot does not know (GitHub adds fields), ETL noise (`etl_id`, `day_partition`,
    `entity_id_partition`) left out. A re-pulled day replaces the row (days settle late)."""

    __tablename__ = "copilot_user_day"
    __table_args__ = (Index("ix_copilot_user_day_day", "day"),)

    entity: str = Field(max_length=120, primary_key=True)
    day: dt.date = Field(sa_column=Column(Date, primary_key=True))
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    user_login: str = Field(max_length=100)
    user_initiated_interaction_count: int = 0
    code_generation_activity_count: int = 0
    code_acceptance_activity_count: int = 0
    loc_suggested_to_add_sum: int = 0
    loc_added_sum: int = 0
    loc_deleted_sum: int = 0
    used_chat: bool = False
    used_agent: bool = False
    used_cli: bool = False
    used_code_review: bool = False  # used_copilot_code_review_active or _passive
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    pulled_at: dt.datetime = ts()


class CopilotUserPeriod(SQLModel, table=True):
    """One GitHub user's use in one ISO week or calendar month (`kind`, `start`: its first
    day), summed from `copilot_user_day` by the importer whenever a day in it is stored:
    what the figures read, so a year of 20,000 people is a few hundred thousand rows."""

    __tablename__ = "copilot_user_period"

    entity: str = Field(max_length=120, primary_key=True)
    kind: str = Field(max_length=5, primary_key=True)  # week, month
    start: dt.date = Field(sa_column=Column(Date, primary_key=True))
    user_login: str = Field(max_length=100, primary_key=True)  # lower case
    active_days: int = 0  # days with user_initiated_interaction_count > 0
    generations: int = 0
    acceptances: int = 0
    chat_days: int = 0
    agent_days: int = 0


class CopilotUserTeam(SQLModel, table=True):
    """A `user-teams-1-day` row: the GitHub team a user was in that day (one per team).
    GitHub leaves out teams with fewer than 5 seated users on the day."""

    __tablename__ = "copilot_user_team"
    entity: str = Field(max_length=120, primary_key=True)
    day: dt.date = Field(sa_column=Column(Date, primary_key=True))
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    team_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    user_login: str = Field(max_length=100)
    slug: str = Field(max_length=100)


class CopilotSeat(SQLModel, table=True):
    """A seat as `/orgs/{org}/copilot/billing/seats` listed it on `snapshot_day` (UTC): the
    API has no history, so each day's list is kept."""

    __tablename__ = "copilot_seat"
    org: str = Field(max_length=100, primary_key=True)
    snapshot_day: dt.date = Field(sa_column=Column(Date, primary_key=True))
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    user_login: str = Field(max_length=100)
    plan_type: str = Field(default="unknown", max_length=20)
    assigning_team: str | None = Field(default=None, max_length=100)  # the team's slug
    created_at: dt.datetime = ts()  # when access was last granted
    last_activity_at: dt.datetime | None = ts(nullable=True)
    last_activity_editor: str | None = Field(default=None, max_length=200)
    last_authenticated_at: dt.datetime | None = ts(nullable=True)
    pending_cancellation_date: dt.date | None = Field(
        default=None, sa_column=Column(Date, nullable=True)
    )


class PersonIdentity(SQLModel, table=True):
    """Who a GitHub login is: their e-mail and, when known, their Slack user. Written by
    `coe-bot people import` (source "csv") and `coe-bot usage demo` ("demo"); a login is
    matched to Slack by `slack_user_id`, else by `email` through the people directory,
    and never guessed (`bot.services.identities`)."""

    __tablename__ = "person_identity"

    github_login: str = Field(primary_key=True, max_length=100)  # lower case
    email: str | None = Field(default=None, max_length=254, index=True)
    slack_user_id: str | None = Field(default=None, max_length=32)
    source: str = Field(default="csv", max_length=16)
    updated_at: dt.datetime = ts()


class UsagePull(SQLModel, table=True):
    """One pull of one source: what it asked for, what it stored, and what it skipped
    (`skipped`: a list of {"file", "line", "reason"}, the first 100; `skipped_count` all)."""

    __tablename__ = "usage_pull"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)  # "copilot", "cursor"
    # Whose data: Copilot's entity ("org:NAME"), Cursor's "cursor:HOST"; `standin` when it
    # came from a stand-in (`coe-bot usage demo`): invented figures, never mixed with real.
    target: str | None = Field(default=None, max_length=200)
    standin: bool = False
    started_at: dt.datetime = ts(index=True)
    finished_at: dt.datetime | None = ts(nullable=True)
    first_day: dt.date = Field(sa_column=Column(Date, nullable=False))
    last_day: dt.date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(default="running", max_length=12)  # running, done, failed
    days_stored: int = 0
    days_not_ready: int = 0
    rows_stored: int = 0
    seats_stored: int = 0
    skipped_count: int = 0
    skipped: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    error: str | None = Field(default=None, max_length=500)


class CursorUserDay(SQLModel, table=True):
    """One Cursor team member's day from `POST /teams/daily-usage-data` (field names are
    Cursor's, snake_cased; MEASUREMENT_FACTS §3), keyed by e-mail (lower case), Cursor's
    join key. Counters missing on an inactive day are 0; `extra` keeps keys this version of
    coe-bot does not know. A re-pulled day replaces its rows (Cursor re-aggregates hourly)."""

    __tablename__ = "cursor_user_day"
    __table_args__ = (Index("ix_cursor_user_day_day", "day"),)

    day: dt.date = Field(sa_column=Column(Date, primary_key=True))
    email: str = Field(max_length=254, primary_key=True)
    is_active: bool = False
    total_accepts: int = 0
    total_applies: int = 0
    total_rejects: int = 0
    total_tabs_shown: int = 0
    total_tabs_accepted: int = 0
    accepted_lines_added: int = 0
    total_lines_added: int = 0
    chat_requests: int = 0
    composer_requests: int = 0
    agent_requests: int = 0
    cmdk_usages: int = 0
    subscription_included_reqs: int = 0
    usage_based_reqs: int = 0
    api_key_reqs: int = 0
    bugbot_usages: int = 0
    most_used_model: str | None = Field(default=None, max_length=100)
    client_version: str | None = Field(default=None, max_length=50)
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    pulled_at: dt.datetime = ts()


class CursorMember(SQLModel, table=True):
    """A member as `GET /teams/members` listed them on `snapshot_day` (UTC): Cursor keeps no
    history of its member list, so each day's list is kept, as Copilot's seats are."""

    __tablename__ = "cursor_member"

    snapshot_day: dt.date = Field(sa_column=Column(Date, primary_key=True))
    member_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    email: str = Field(max_length=254)  # lower case
    name: str = Field(default="", max_length=200)
    role: str = Field(default="member", max_length=40)
    is_removed: bool = False


class CursorSpend(SQLModel, table=True):
    """A member's usage-based spend in one subscription cycle (`POST /teams/spend`), in
    cents, as of the last pull: each pull replaces the cycle's rows."""

    __tablename__ = "cursor_spend"

    cycle_start: dt.date = Field(sa_column=Column(Date, primary_key=True))
    email: str = Field(max_length=254, primary_key=True)  # lower case
    spend_cents: int = 0
    fast_premium_requests: int = 0
    as_of: dt.date = Field(sa_column=Column(Date, nullable=False))


class ClaudeCodeUserDay(SQLModel, table=True):
    """One actor's Claude Code day from Anthropic's Claude Code analytics (Admin API,
    MEASUREMENT_FACTS §4): a person (`actor` their e-mail, lower case) or an API key
    (`actor` "api:NAME"). Tool actions are summed over tools (`edit_tool`, `write_tool`, …);
    `cost_cents` sums the model breakdown's estimated cost (USD cents). People signed in
    with a claude.ai subscription do not appear in this source (a documented gap)."""

    __tablename__ = "claude_code_user_day"
    __table_args__ = (Index("ix_claude_code_user_day_day", "day"),)

    day: dt.date = Field(sa_column=Column(Date, primary_key=True))
    actor: str = Field(max_length=254, primary_key=True)
    actor_type: str = Field(default="user", max_length=10)  # user, api
    customer_type: str | None = Field(default=None, max_length=20)
    subscription_type: str | None = Field(default=None, max_length=20)
    terminal_type: str | None = Field(default=None, max_length=60)
    sessions: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    commits: int = 0
    pull_requests: int = 0
    tool_accepted: int = 0
    tool_rejected: int = 0
    cost_cents: int = 0
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    pulled_at: dt.datetime = ts()


class UsageNote(SQLModel, table=True):
    """A CoE note on a team's AI-tool figures for one month (`/ai-coe usage note <team>
    <text>`): the justification asked for when the team crossed a soft guardrail. Shown
    beside that month's figures in the API and the digest; a later note replaces it."""

    __tablename__ = "usage_note"

    team: str = Field(max_length=80, primary_key=True)  # as shown (a label), lower case
    month: str = Field(max_length=7, primary_key=True)  # "2026-11"
    text: str = Field(max_length=500)
    author: str = Field(max_length=32)
    at: dt.datetime = ts()
