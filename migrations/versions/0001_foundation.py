"""Foundation: policy lookups, audit trail, request dedupe, job runs and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.models import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_event_action", "audit_event", ["action"])
    op.create_index("ix_audit_event_at", "audit_event", ["at"])

    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job", sa.String(80), nullable=False),
        sa.Column("period", sa.String(80), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.UniqueConstraint("job", "period", name="uq_job_run_job_period"),
    )

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("message_ts", sa.String(40), nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox_message", ["status", "next_attempt_at"])

    op.create_table(
        "policy_lookup",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_key", sa.String(120), nullable=True, unique=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("query", sa.String(3000), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("pack_version", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_policy_lookup_created_at", "policy_lookup", ["created_at"])
    op.create_index("ix_policy_lookup_outcome", "policy_lookup", ["outcome"])
    op.create_index("ix_policy_lookup_user_id", "policy_lookup", ["user_id"])

    op.create_table(
        "processed_request",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_processed_request_received_at", "processed_request", ["received_at"])


def downgrade() -> None:
    for table in (
        "processed_request",
        "policy_lookup",
        "outbox_message",
        "job_run",
        "audit_event",
    ):
        op.drop_table(table)
