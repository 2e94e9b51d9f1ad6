"""`/ai-policy` answers: a team's default tier, and 👍 / 👎 on answers.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.models.base import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("team") as batch:
        batch.add_column(sa.Column("tier", sa.String(length=60), nullable=True))
    op.create_table(
        "policy_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vote_key", sa.String(length=120), nullable=False, unique=True),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("query", sa.String(length=3000), nullable=False),
        sa.Column("intent", sa.String(length=20), nullable=False),
        sa.Column("verdict", sa.String(length=24), nullable=False),
        sa.Column("tier", sa.String(length=60), nullable=True),
        sa.Column("tier_source", sa.String(length=12), nullable=True),
        sa.Column("category", sa.String(length=60), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("pack_version", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_policy_feedback_user_id", "policy_feedback", ["user_id"])
    op.create_index("ix_policy_feedback_created_at", "policy_feedback", ["created_at"])


def downgrade() -> None:
    op.drop_table("policy_feedback")
    with op.batch_alter_table("team") as batch:
        batch.drop_column("tier")
