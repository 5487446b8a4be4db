"""Queue attempts completed from queue_log or CDR after an AMI gap: ``queue_attempt.completed_from``.

Revision ID: 0010_gap_completion
Revises: 0001
Create Date: 2025-02-03

An attempt that ended while the AMI link was down is completed from the PBX's queue_log or CDR
file (hotline/kpi/gap.py); ``completed_from`` says which (``queue_log`` | ``cdr``), NULL when AMI
saw the end itself. The column is declared on the core's model too (hotline/store/models.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_gap_completion"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("queue_attempt", sa.Column("completed_from", sa.String(), nullable=True))


def downgrade() -> None:
    # batch mode: SQLite rebuilds the table, PostgreSQL drops the column in place.
    with op.batch_alter_table("queue_attempt") as batch:
        batch.drop_column("completed_from")
