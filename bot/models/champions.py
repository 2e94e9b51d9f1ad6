"""Teams, champions and questions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.models.base import ts


class Team(SQLModel, table=True):
    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    created_at: dt.datetime = ts()
    # The policy tier this team's code is in unless a question says otherwise (a pack
    # tier id; one the pack no longer has is ignored).
    tier: str | None = Field(default=None, max_length=60)
    # Who answers for the team's AI-tool spend (a Slack user ID; the teams CSV `owner`):
    # named when the team crosses a soft guardrail.
    owner: str | None = Field(default=None, max_length=32)
    # When the team started with the AI tools (`/ai-coe rollout`): its wave ("pilot",
    # "10%", "25%", "50%", "everyone") and first UTC day; the impact comparisons use them.
    rollout_wave: str | None = Field(default=None, max_length=16)
    rollout_start: dt.date | None = Field(default=None)


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
    updated_at: dt.datetime = ts()


class Champion(SQLModel, table=True):
    __tablename__ = "champion"

    user_id: str = Field(primary_key=True, max_length=32)
    team_id: int = Field(foreign_key="team.id", index=True)
    topics_text: str = Field(default="", max_length=600)
    available: bool = True
    capacity: int = 5
    active: bool = True
    created_at: dt.datetime = ts()
    deactivated_at: dt.datetime | None = ts(nullable=True)
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
    claim_deadline: dt.datetime | None = ts(nullable=True)
    answer_deadline: dt.datetime | None = ts(nullable=True)
    created_at: dt.datetime = ts()
    assigned_at: dt.datetime | None = ts(nullable=True)
    claimed_at: dt.datetime | None = ts(nullable=True)
    answered_at: dt.datetime | None = ts(nullable=True)
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
    assigned_at: dt.datetime = ts()
    ended_at: dt.datetime | None = ts(nullable=True)
    outcome: str | None = Field(default=None, max_length=12)  # claimed passed missed left
