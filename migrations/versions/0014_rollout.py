"""Each team's rollout wave and start day (`/ai-coe rollout`): what the impact comparisons
take as the day the team started with the AI tools.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("team") as batch:
        batch.add_column(sa.Column("rollout_wave", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("rollout_start", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("team") as batch:
        batch.drop_column("rollout_start")
        batch.drop_column("rollout_wave")
