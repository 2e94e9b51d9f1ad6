"""The prompt library's tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import ts


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
    created_at: dt.datetime = ts()
    updated_at: dt.datetime = ts()

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
    created_at: dt.datetime = ts()


class PromptTag(SQLModel, table=True):
    __tablename__ = "prompt_tag"

    prompt_id: int = Field(foreign_key="prompt.id", primary_key=True)
    tag: str = Field(max_length=40, primary_key=True, index=True)


class PromptVote(SQLModel, table=True):
    """One "helpful" per person per prompt."""

    __tablename__ = "prompt_vote"

    prompt_id: int = Field(foreign_key="prompt.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)
    created_at: dt.datetime = ts(index=True)


class PromptUser(SQLModel, table=True):
    """The first use of a prompt by a person: what `user_count` counts."""

    __tablename__ = "prompt_user"

    prompt_id: int = Field(foreign_key="prompt.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)
    first_used_at: dt.datetime = ts(index=True)


class PromptUse(SQLModel, table=True):
    """Every use: who used which prompt when, and from which team."""

    __tablename__ = "prompt_use"
    __table_args__ = (Index("ix_prompt_use_created_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    user_id: str = Field(max_length=32)
    team: str | None = Field(default=None, max_length=80)
    created_at: dt.datetime = ts()


class PromptReport(SQLModel, table=True):
    """A report by one person; `resolved_at` is set when a CoE admin reviews the prompt."""

    __tablename__ = "prompt_report"
    __table_args__ = (UniqueConstraint("prompt_id", "user_id", name="uq_prompt_report_user"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    user_id: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime = ts()
    resolved_at: dt.datetime | None = ts(nullable=True)


class SearchTerm(SQLModel, table=True):
    """Words that occur in prompts: the vocabulary that search corrects typos against."""

    __tablename__ = "search_term"

    term: str = Field(primary_key=True, max_length=40)
