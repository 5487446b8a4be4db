"""Agent sessions: login, pause (with reason) and ACD call spans per agent, for the agent KPIs.

Revision ID: 0009_agent_session
Revises: 0001
Create Date: 2025-01-28

The table is defined in hotline/rollup/agent_tables.py (SQLAlchemy Core); this migration creates
it. It is a projection: ``hotline rebuild`` fills it again from the event log.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_agent_session"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_session",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("source", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), primary_key=True),
        sa.Column("agent", sa.String(), primary_key=True),
        sa.Column("ref", sa.String(), primary_key=True),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("interface", sa.String(), nullable=True),
    )
    op.create_index("ix_agent_session_ended_at", "agent_session", ["ended_at"])
    op.create_index("ix_agent_session_started_at", "agent_session", ["started_at"])


def downgrade() -> None:
    op.drop_table("agent_session")
