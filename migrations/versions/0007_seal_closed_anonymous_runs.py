"""Seal anonymous runs that closed before sealing existed.

Revision ID: 0007
Revises: 0006

From this version on, closing an anonymous run replaces each respondent key (an HMAC of the
person) with a random value, coarsens times to the run's date, stores released team labels
and clears the recipients' "answered" marks (`services/survey_disclosure.seal`). Runs closed
earlier still carry re-linkable keys; this does the same to them, once. The minimum group
for team labels is SURVEY_MIN_GROUP from the environment (5 when unset).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.services.survey_disclosure import merge_labels

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


RESPONSE = sa.table(
    "survey_response",
    sa.column("id", sa.Integer),
    sa.column("respondent_key", sa.String),
    sa.column("team", sa.String),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    bind = op.get_bind()
    min_group = int(os.environ.get("SURVEY_MIN_GROUP") or 5)
    runs = bind.execute(
        sa.text("SELECT id, definition, started_at FROM survey_run WHERE status = 'closed'")
    ).all()
    for run_id, definition, started_at in runs:
        parsed = json.loads(definition) if isinstance(definition, str) else definition
        if not (parsed or {}).get("anonymous", True):
            continue
        started = (
            dt.datetime.fromisoformat(started_at) if isinstance(started_at, str) else started_at
        )
        day = dt.datetime(started.year, started.month, started.day, tzinfo=dt.UTC)
        found = bind.execute(
            sa.text("SELECT id, team FROM survey_response WHERE run_id = :run"), {"run": run_id}
        ).all()
        sizes: dict[str | None, int] = {}
        for _, team in found:
            sizes[team] = sizes.get(team, 0) + 1
        labels = merge_labels(sizes, min_group)
        if found:
            bind.execute(
                RESPONSE.update()
                .where(RESPONSE.c.id == sa.bindparam("row"))
                .values(
                    respondent_key=sa.bindparam("key"),
                    team=sa.bindparam("label"),
                    submitted_at=day,
                    updated_at=day,
                ),
                [
                    {"key": secrets.token_hex(32), "label": labels[t][:80], "row": i}
                    for i, t in found
                ],
            )
        bind.execute(
            sa.text(
                "UPDATE survey_recipient SET status = 'sent'"
                " WHERE run_id = :run AND status = 'answered'"
            ),
            {"run": run_id},
        )


def downgrade() -> None:
    """Nothing to undo: sealed answers cannot be re-linked, by design."""
