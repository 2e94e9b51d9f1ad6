"""Pull requests from GitHub for the impact comparisons (`pull_request`) and where each
repository's pull stands (`pull_request_cursor`).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.models.base import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pull_request",
        sa.Column("repo", sa.String(length=200), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("author_is_bot", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ready_at", UTCDateTime(), nullable=True),
        sa.Column("first_review_at", UTCDateTime(), nullable=True),
        sa.Column("merged_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("additions", sa.Integer(), nullable=False),
        sa.Column("deletions", sa.Integer(), nullable=False),
        sa.Column("review_count", sa.Integer(), nullable=False),
        sa.Column("reviewers", sa.JSON(), nullable=False),
        sa.Column("ai_reviewed", sa.Boolean(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("merge_commit", sa.String(length=40), nullable=True),
        sa.Column("reverts_title", sa.String(length=400), nullable=True),
        sa.Column("reverts_sha", sa.String(length=40), nullable=True),
        sa.Column("reverted_by", sa.Integer(), nullable=True),
        sa.Column("pulled_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_pull_request_author", "pull_request", ["author"])
    op.create_index("ix_pull_request_merged_at", "pull_request", ["merged_at"])
    op.create_table(
        "pull_request_cursor",
        sa.Column("repo", sa.String(length=200), primary_key=True),
        sa.Column("watermark", UTCDateTime(), nullable=True),
        sa.Column("after", sa.String(length=200), nullable=True),
        sa.Column("newest", UTCDateTime(), nullable=True),
        sa.Column("completed_run", sa.Integer(), nullable=True),
        sa.Column("org", sa.String(length=100), nullable=True),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(length=100), nullable=True),
        sa.Column("repos", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pull_request_cursor")
    op.drop_index("ix_pull_request_merged_at", table_name="pull_request")
    op.drop_index("ix_pull_request_author", table_name="pull_request")
    op.drop_table("pull_request")
