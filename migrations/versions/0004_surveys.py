"""Surveys: definitions, runs, recipients (the delivery outbox), responses and opt-outs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.models import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey",
        sa.Column("id", sa.String(60), primary_key=True),
        sa.Column("title", sa.String(150), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "survey_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("survey_id", sa.String(60), sa.ForeignKey("survey.id"), nullable=False),
        sa.Column("period", sa.String(60), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_by", sa.String(32), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("closes_at", UTCDateTime(), nullable=False),
        sa.Column("remind_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("audience_size", sa.Integer(), nullable=False),
        sa.UniqueConstraint("survey_id", "period", name="uq_survey_run_period"),
    )
    op.create_index("ix_survey_run_survey_id", "survey_run", ["survey_id"])
    op.create_index("ix_survey_run_closes_at", "survey_run", ["closes_at"])
    op.create_table(
        "survey_recipient",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("survey_run.id"), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(100), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("message_ts", sa.String(40), nullable=True),
        sa.Column("dm_channel", sa.String(32), nullable=True),
        sa.Column("reminder_status", sa.String(12), nullable=True),
        sa.UniqueConstraint("run_id", "user_id", name="uq_survey_recipient"),
    )
    op.create_index("ix_survey_recipient_run_id", "survey_recipient", ["run_id"])
    op.create_index("ix_survey_recipient_due", "survey_recipient", ["status", "next_attempt_at"])
    op.create_table(
        "survey_response",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("survey_run.id"), nullable=False),
        sa.Column("respondent_key", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("team", sa.String(80), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("run_id", "respondent_key", name="uq_survey_response"),
    )
    op.create_index("ix_survey_response_run_id", "survey_response", ["run_id"])
    op.create_table(
        "survey_opt_out",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "survey_opt_out",
        "survey_response",
        "survey_recipient",
        "survey_run",
        "survey",
    ):
        op.drop_table(table)
