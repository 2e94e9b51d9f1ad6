"""GitHub Copilot usage: per-user days, user↔team rows, daily seat snapshots, pulls, and
who a GitHub login is.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.models.base import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "copilot_user_day",
        sa.Column("entity", sa.String(length=120), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_login", sa.String(length=100), nullable=False),
        sa.Column("user_initiated_interaction_count", sa.Integer(), nullable=False),
        sa.Column("code_generation_activity_count", sa.Integer(), nullable=False),
        sa.Column("code_acceptance_activity_count", sa.Integer(), nullable=False),
        sa.Column("loc_suggested_to_add_sum", sa.Integer(), nullable=False),
        sa.Column("loc_added_sum", sa.Integer(), nullable=False),
        sa.Column("loc_deleted_sum", sa.Integer(), nullable=False),
        sa.Column("used_chat", sa.Boolean(), nullable=False),
        sa.Column("used_agent", sa.Boolean(), nullable=False),
        sa.Column("used_cli", sa.Boolean(), nullable=False),
        sa.Column("used_code_review", sa.Boolean(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("pulled_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_copilot_user_day_day", "copilot_user_day", ["day"])
    op.create_table(
        "copilot_user_period",
        sa.Column("entity", sa.String(length=120), primary_key=True),
        sa.Column("kind", sa.String(length=5), primary_key=True),
        sa.Column("start", sa.Date(), primary_key=True),
        sa.Column("user_login", sa.String(length=100), primary_key=True),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.Column("generations", sa.Integer(), nullable=False),
        sa.Column("acceptances", sa.Integer(), nullable=False),
        sa.Column("chat_days", sa.Integer(), nullable=False),
        sa.Column("agent_days", sa.Integer(), nullable=False),
    )
    op.create_table(
        "copilot_user_team",
        sa.Column("entity", sa.String(length=120), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("team_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_login", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
    )
    op.create_table(
        "copilot_seat",
        sa.Column("org", sa.String(length=100), primary_key=True),
        sa.Column("snapshot_day", sa.Date(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("user_login", sa.String(length=100), nullable=False),
        sa.Column("plan_type", sa.String(length=20), nullable=False),
        sa.Column("assigning_team", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_activity_at", UTCDateTime(), nullable=True),
        sa.Column("last_activity_editor", sa.String(length=200), nullable=True),
        sa.Column("last_authenticated_at", UTCDateTime(), nullable=True),
        sa.Column("pending_cancellation_date", sa.Date(), nullable=True),
    )
    op.create_index("ix_copilot_seat_day", "copilot_seat", ["snapshot_day"])
    op.create_table(
        "person_identity",
        sa.Column("github_login", sa.String(length=100), primary_key=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("slack_user_id", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_person_identity_email", "person_identity", ["email"])
    op.create_table(
        "usage_pull",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("days_stored", sa.Integer(), nullable=False),
        sa.Column("days_not_ready", sa.Integer(), nullable=False),
        sa.Column("rows_stored", sa.Integer(), nullable=False),
        sa.Column("seats_stored", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
    )
    op.create_index("ix_usage_pull_started_at", "usage_pull", ["started_at"])


def downgrade() -> None:
    op.drop_table("usage_pull")
    op.drop_index("ix_person_identity_email", table_name="person_identity")
    op.drop_table("person_identity")
    op.drop_index("ix_copilot_seat_day", table_name="copilot_seat")
    op.drop_table("copilot_seat")
    op.drop_table("copilot_user_team")
    op.drop_table("copilot_user_period")
    op.drop_index("ix_copilot_user_day_day", table_name="copilot_user_day")
    op.drop_table("copilot_user_day")
