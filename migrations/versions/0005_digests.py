"""Digests: which channel gets a weekly digest, when, with which sections; and the
indexes a digest's period queries use (questions, prompts and first uses by date).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.models import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_subscription",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.String(32), nullable=False, unique=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("time_of_day", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(60), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("paused_reason", sa.String(100), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_question_created_at", "question", ["created_at"])
    op.create_index("ix_question_answered_at", "question", ["answered_at"])
    op.create_index("ix_prompt_created_at", "prompt", ["created_at"])
    op.create_index("ix_prompt_user_first_used_at", "prompt_user", ["first_used_at"])


def downgrade() -> None:
    for index, table in (
        ("ix_prompt_user_first_used_at", "prompt_user"),
        ("ix_prompt_created_at", "prompt"),
        ("ix_question_answered_at", "question"),
        ("ix_question_created_at", "question"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_table("digest_subscription")
