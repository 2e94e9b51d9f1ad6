"""Prompts: the library, its versions, tags, votes, uses, reports, and full-text search.

Search is native on each back end: an FTS5 table kept in step by triggers on SQLite,
a generated, weighted tsvector column with a GIN index on PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.models import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE prompt_fts USING fts5(
        title, tags_text, body, content='prompt', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER prompt_fts_insert AFTER INSERT ON prompt BEGIN
        INSERT INTO prompt_fts(rowid, title, tags_text, body)
        VALUES (new.id, new.title, new.tags_text, new.body);
    END""",
    """CREATE TRIGGER prompt_fts_delete AFTER DELETE ON prompt BEGIN
        INSERT INTO prompt_fts(prompt_fts, rowid, title, tags_text, body)
        VALUES ('delete', old.id, old.title, old.tags_text, old.body);
    END""",
    """CREATE TRIGGER prompt_fts_update AFTER UPDATE OF title, tags_text, body ON prompt BEGIN
        INSERT INTO prompt_fts(prompt_fts, rowid, title, tags_text, body)
        VALUES ('delete', old.id, old.title, old.tags_text, old.body);
        INSERT INTO prompt_fts(rowid, title, tags_text, body)
        VALUES (new.id, new.title, new.tags_text, new.body);
    END""",
]
POSTGRES_SEARCH = [
    """ALTER TABLE prompt ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(tags_text, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(body, '')), 'C')) STORED""",
    "CREATE INDEX ix_prompt_search_vector ON prompt USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "prompt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(150), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags_text", sa.String(600), nullable=False),
        sa.Column("stack", sa.String(60), nullable=True),
        sa.Column("use_case", sa.String(150), nullable=True),
        sa.Column("tool", sa.String(75), nullable=True),
        sa.Column("author_id", sa.String(32), nullable=False),
        sa.Column("team", sa.String(80), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("helpful_count", sa.Integer(), nullable=False),
        sa.Column("user_count", sa.Integer(), nullable=False),
        sa.Column("use_count", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_prompt_author_id", "prompt", ["author_id"])
    op.create_index("ix_prompt_body_hash", "prompt", ["body_hash"])
    op.create_index("ix_prompt_status_score", "prompt", ["status", "score"])

    op.create_table(
        "prompt_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("prompt.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(150), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags_text", sa.String(600), nullable=False),
        sa.Column("stack", sa.String(60), nullable=True),
        sa.Column("use_case", sa.String(150), nullable=True),
        sa.Column("tool", sa.String(75), nullable=True),
        sa.Column("editor_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("prompt_id", "version", name="uq_prompt_version"),
    )
    op.create_index("ix_prompt_version_prompt_id", "prompt_version", ["prompt_id"])

    op.create_table(
        "prompt_tag",
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("prompt.id"), primary_key=True),
        sa.Column("tag", sa.String(40), primary_key=True),
    )
    op.create_index("ix_prompt_tag_tag", "prompt_tag", ["tag"])

    op.create_table(
        "prompt_vote",
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("prompt.id"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_prompt_vote_created_at", "prompt_vote", ["created_at"])

    op.create_table(
        "prompt_user",
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("prompt.id"), primary_key=True),
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("first_used_at", UTCDateTime(), nullable=False),
    )

    op.create_table(
        "prompt_use",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("prompt.id"), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("team", sa.String(80), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_prompt_use_created_at", "prompt_use", ["created_at"])
    op.create_index("ix_prompt_use_prompt_id", "prompt_use", ["prompt_id"])

    op.create_table(
        "prompt_report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("prompt.id"), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("prompt_id", "user_id", name="uq_prompt_report_user"),
    )
    op.create_index("ix_prompt_report_prompt_id", "prompt_report", ["prompt_id"])

    op.create_table("search_term", sa.Column("term", sa.String(40), primary_key=True))

    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_SEARCH if dialect == "postgresql" else SQLITE_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS prompt_fts")
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS prompt_fts_{trigger}")
    for table in (
        "search_term",
        "prompt_report",
        "prompt_use",
        "prompt_user",
        "prompt_vote",
        "prompt_tag",
        "prompt_version",
        "prompt",
    ):
        op.drop_table(table)
