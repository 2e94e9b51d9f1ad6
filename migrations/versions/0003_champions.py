"""Champions: teams, user-group mappings, champions, questions and their assignments.

Answered questions are searchable for reuse: an FTS5 table on SQLite (kept in step by
triggers), a generated weighted tsvector with a GIN index on PostgreSQL. The outbox gets
a `ref` so a Slack message can be traced back to what it was about (a thread reply in a
champion's DM finds its question).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.models import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE question_fts USING fts5(
        text, answer, content='question', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER question_fts_insert AFTER INSERT ON question BEGIN
        INSERT INTO question_fts(rowid, text, answer) VALUES (new.id, new.text, new.answer);
    END""",
    """CREATE TRIGGER question_fts_delete AFTER DELETE ON question BEGIN
        INSERT INTO question_fts(question_fts, rowid, text, answer)
        VALUES ('delete', old.id, old.text, old.answer);
    END""",
    """CREATE TRIGGER question_fts_update AFTER UPDATE OF text, answer ON question BEGIN
        INSERT INTO question_fts(question_fts, rowid, text, answer)
        VALUES ('delete', old.id, old.text, old.answer);
        INSERT INTO question_fts(rowid, text, answer) VALUES (new.id, new.text, new.answer);
    END""",
]
POSTGRES_SEARCH = [
    """ALTER TABLE question ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(text, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(answer, '')), 'B')) STORED""",
    "CREATE INDEX ix_question_search_vector ON question USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "team_usergroup",
        sa.Column("usergroup_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=False),
    )
    op.create_index("ix_team_usergroup_team_id", "team_usergroup", ["team_id"])
    op.create_table(
        "team_member",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_team_member_team_id", "team_member", ["team_id"])
    op.create_table(
        "champion",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=False),
        sa.Column("topics_text", sa.String(600), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deactivated_at", UTCDateTime(), nullable=True),
        sa.Column("deactivated_reason", sa.String(100), nullable=True),
    )
    op.create_index("ix_champion_team_id", "champion", ["team_id"])
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("asker_id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id"), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("topics_text", sa.String(300), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("champion_id", sa.String(32), nullable=True),
        sa.Column("route_reason", sa.String(200), nullable=True),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("escalation", sa.Integer(), nullable=False),
        sa.Column("claim_deadline", UTCDateTime(), nullable=True),
        sa.Column("answer_deadline", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(32), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("reused_from", sa.Integer(), sa.ForeignKey("question.id"), nullable=True),
        sa.Column("reuse_count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_question_asker_id", "question", ["asker_id"])
    op.create_index("ix_question_champion_id", "question", ["champion_id"])
    op.create_index("ix_question_team_id", "question", ["team_id"])
    op.create_index("ix_question_status_deadline", "question", ["status", "claim_deadline"])
    op.create_table(
        "question_assignment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("question.id"), nullable=False),
        sa.Column("champion_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(12), nullable=True),
    )
    op.create_index("ix_question_assignment_question_id", "question_assignment", ["question_id"])
    op.create_index("ix_question_assignment_champion_id", "question_assignment", ["champion_id"])
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("ref", sa.String(80), nullable=True))
        batch.create_index("ix_outbox_message_ref", ["ref"])

    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_SEARCH if dialect == "postgresql" else SQLITE_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS question_fts")
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS question_fts_{trigger}")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_message_ref")
        batch.drop_column("ref")
    for table in (
        "question_assignment",
        "question",
        "champion",
        "team_member",
        "team_usergroup",
        "team",
    ):
        op.drop_table(table)
