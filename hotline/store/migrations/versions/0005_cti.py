"""CTI: agent state intervals and call dispositions.

Revision ID: 0005_cti
Revises: 0001
Create Date: 2025-01-20

The tables are defined in cti/tables.py (SQLAlchemy Core); this migration creates them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_cti"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agent_state_interval",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("pbx", sa.String(32), nullable=False),
        sa.Column("iface", sa.String(96), nullable=False),
        sa.Column("member_name", sa.String(120), nullable=True),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
    )
    op.create_index("ix_agent_state_interval_started_at", "agent_state_interval", ["started_at"])
    op.create_index("ix_agent_state_interval_agent", "agent_state_interval", ["pbx", "iface"])
    op.create_table(
        "cti_disposition",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("pbx", sa.String(32), nullable=False),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("iface", sa.String(96), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.UniqueConstraint("pbx", "linkedid", "agent", name="uq_cti_disposition_call_agent"),
    )
    op.create_index("ix_cti_disposition_linkedid", "cti_disposition", ["linkedid"])


def downgrade() -> None:
    op.drop_table("cti_disposition")
    op.drop_table("agent_state_interval")
