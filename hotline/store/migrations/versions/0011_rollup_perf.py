"""Event log throughput: drop the index on ``ami_event.name``.

Revision ID: 0011_rollup_perf
Revises: 0001
Create Date: 2026-02-10

No query reads ``ami_event`` by event name (replays page on ``id``, rebuilds filter on ``pbx``
and ``received_at``), and a hundred-odd distinct names make a poor index anyway; keeping it
cost every appended event about a fifth of its insert and commit time. The model no longer
declares it (hotline/store/models.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_rollup_perf"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_ami_event_name"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="ami_event")


def downgrade() -> None:
    op.create_index(INDEX, "ami_event", ["name"])
