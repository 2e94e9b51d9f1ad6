"""Cursor usage (per-member days, daily member-list snapshots, each cycle's spend), Claude
Code's per-actor days, whose data each pull brought (`usage_pull.target`, `.standin`), and
each team's owner (`team.owner`), and the CoE's notes on a team's month (`usage_note`).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.models.base import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    "total_accepts",
    "total_applies",
    "total_rejects",
    "total_tabs_shown",
    "total_tabs_accepted",
    "accepted_lines_added",
    "total_lines_added",
    "chat_requests",
    "composer_requests",
    "agent_requests",
    "cmdk_usages",
    "subscription_included_reqs",
    "usage_based_reqs",
    "api_key_reqs",
    "bugbot_usages",
)


def upgrade() -> None:
    with op.batch_alter_table("team") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=32), nullable=True))
    with op.batch_alter_table("usage_pull") as batch:
        batch.add_column(sa.Column("target", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("standin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "cursor_user_day",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("email", sa.String(length=254), primary_key=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.Column("most_used_model", sa.String(length=100), nullable=True),
        sa.Column("client_version", sa.String(length=50), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("pulled_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_cursor_user_day_day", "cursor_user_day", ["day"])
    op.create_table(
        "cursor_member",
        sa.Column("snapshot_day", sa.Date(), primary_key=True),
        sa.Column("member_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("is_removed", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "cursor_spend",
        sa.Column("cycle_start", sa.Date(), primary_key=True),
        sa.Column("email", sa.String(length=254), primary_key=True),
        sa.Column("spend_cents", sa.Integer(), nullable=False),
        sa.Column("fast_premium_requests", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
    )

    op.create_table(
        "claude_code_user_day",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("actor", sa.String(length=254), primary_key=True),
        sa.Column("actor_type", sa.String(length=10), nullable=False),
        sa.Column("customer_type", sa.String(length=20), nullable=True),
        sa.Column("subscription_type", sa.String(length=20), nullable=True),
        sa.Column("terminal_type", sa.String(length=60), nullable=True),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "sessions",
                "lines_added",
                "lines_removed",
                "commits",
                "pull_requests",
                "tool_accepted",
                "tool_rejected",
                "cost_cents",
            )
        ),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("pulled_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_claude_code_user_day_day", "claude_code_user_day", ["day"])

    op.create_table(
        "usage_note",
        sa.Column("team", sa.String(length=80), primary_key=True),
        sa.Column("month", sa.String(length=7), primary_key=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("usage_note")
    with op.batch_alter_table("team") as batch:
        batch.drop_column("owner")
    op.drop_index("ix_claude_code_user_day_day", table_name="claude_code_user_day")
    op.drop_table("claude_code_user_day")
    with op.batch_alter_table("usage_pull") as batch:
        batch.drop_column("standin")
        batch.drop_column("target")
    op.drop_table("cursor_spend")
    op.drop_table("cursor_member")
    op.drop_index("ix_cursor_user_day_day", table_name="cursor_user_day")
    op.drop_table("cursor_user_day")
