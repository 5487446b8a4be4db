"""KPI rollups (15-minute sums per PBX, queue and agent) and the queue_log import ledger.

Revision ID: 0004_kpi
Revises: 0001
Create Date: 2025-01-20

The tables are defined in hotline/rollup/tables.py (SQLAlchemy Core); this migration creates them.
They are projections: ``hotline rebuild`` fills them again from the event log and the stored
queue attempts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_kpi"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUMS = (
    "offered", "answered", "abandoned", "short_abandoned", "timed_out", "exited", "waiting",
    "attempts_offered", "attempts_answered", "attempts_abandoned", "attempts_short_abandoned",
    "attempts_timed_out", "attempts_exited", "attempts_waiting",
    "acd_calls", "hold_unknown", "handle_sum_ms", "hold_sum_ms", "talk_sum_ms", "answered_waits",
    "wait_sum_answered_ms", "answered_within_sl", "transfers", "ring_no_answer",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "kpi_rollup",
        sa.Column("agent", sa.String(), primary_key=True),
        sa.Column("queue", sa.String(), primary_key=True),
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("interval_start", sa.BigInteger(), primary_key=True),
        *(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0") for name in _SUMS),
        sa.Column("longest_wait_ms", sa.BigInteger(), nullable=False, server_default="-1"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_kpi_rollup_interval_start", "kpi_rollup", ["interval_start"])
    op.create_table(
        "queue_log_import",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("path", sa.String(), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.Double(), nullable=False),
    )
    op.create_index("ix_queue_log_import_sha256", "queue_log_import", ["sha256"])


def downgrade() -> None:
    op.drop_table("queue_log_import")
    op.drop_table("kpi_rollup")
