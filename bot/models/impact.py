"""Delivery data from GitHub for the impact comparisons: each pull request as the impact
importer stored it, and where each repository's pull stands (for incremental pulls and a
resume after a kill). A pull request names its author: these rows never leave the database
except through the impact figures, which apply the minimum-group rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from bot.models.base import UTCDateTime, ts


def _when(*, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=index))


class PullRequest(SQLModel, table=True):
    """One pull request (GitHub's GraphQL fields): `ready_at` is when review was asked for
    (its `ReadyForReviewEvent`, or `created_at` for one never a draft); `first_review_at`
    the first review by a person other than its author; `reviewers` those people; reviews
    by Bot accounts (Copilot code review) only set `ai_reviewed`. `reverts_title` /
    `reverts_sha` say what it reverts (GitHub's Revert button titles it `Revert "<title>"`,
    its body "This reverts commit <sha>"); `reverted_by` is the number of the pull request
    that reverted this one within 30 days."""

    __tablename__ = "pull_request"
    __table_args__ = (Index("ix_pull_request_merged_at", "merged_at"),)

    repo: str = Field(max_length=200, primary_key=True)
    number: int = Field(primary_key=True)
    author: str | None = Field(default=None, max_length=100, index=True)  # None: a ghost
    author_is_bot: bool = False
    title: str = Field(default="", max_length=400)
    created_at: dt.datetime = ts()
    ready_at: dt.datetime | None = _when()
    first_review_at: dt.datetime | None = _when()
    merged_at: dt.datetime | None = _when()
    closed_at: dt.datetime | None = _when()
    updated_at: dt.datetime = ts()
    additions: int = 0
    deletions: int = 0
    review_count: int = 0  # reviews by people other than the author
    reviewers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    ai_reviewed: bool = False
    labels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    merge_commit: str | None = Field(default=None, max_length=40)
    reverts_title: str | None = Field(default=None, max_length=400)
    reverts_sha: str | None = Field(default=None, max_length=40)
    reverted_by: int | None = None
    pulled_at: dt.datetime = ts()


class PullRequestCursor(SQLModel, table=True):
    """Where the pull of one repository stands: `watermark`, the newest `updatedAt` every
    earlier pull request is stored up to (an incremental pull stops there); during a pull,
    `after` is the cursor of the last page stored and `newest` the newest `updatedAt` seen
    (a pull killed midway resumes from `after`, fetching nothing twice); `completed_run`,
    the pull that last completed it. The row with `repo` "" keeps the ETag of the
    organisation's repository list and the number of the latest pull (`run`), `running`
    until it ends: a pull that finds one still running resumes it, and does not ask again
    for the repositories it completed."""

    __tablename__ = "pull_request_cursor"

    repo: str = Field(max_length=200, primary_key=True)
    watermark: dt.datetime | None = _when()
    after: str | None = Field(default=None, max_length=200)
    newest: dt.datetime | None = _when()
    completed_run: int | None = None
    org: str | None = Field(default=None, max_length=100)  # whose pull requests these are
    run: int = 0
    running: bool = False
    etag: str | None = Field(default=None, max_length=100)
    repos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
