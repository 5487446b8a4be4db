"""Agent time rollup: login, handle and pause-by-reason seconds per agent and 15-minute bucket, hour and day.

Revision ID: 0012_agent_time
Revises: 0009_agent_session
Create Date: 2026-02-20

The tables are defined in hotline/rollup/agent_tables.py. Every agent already in
``agent_session`` is marked as changed from its first span, so the running service (or
``hotline rebuild``) rolls up the history the store already holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_agent_time"
down_revision: str | None = "0009_agent_session"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_time_rollup",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("bucket_start", sa.BigInteger(), primary_key=True),
        sa.Column("agent", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), primary_key=True),
        sa.Column("reason", sa.String(), primary_key=True),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("handle_s", sa.Double(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "agent_time_hourly",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("hour_start", sa.BigInteger(), primary_key=True),
        sa.Column("agent", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), primary_key=True),
        sa.Column("reason", sa.String(), primary_key=True),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("handle_s", sa.Double(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "agent_time_daily",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("day_start", sa.BigInteger(), primary_key=True),
        sa.Column("agent", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), primary_key=True),
        sa.Column("reason", sa.String(), primary_key=True),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("handle_s", sa.Double(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "agent_time_mark",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("agent", sa.String(), primary_key=True),
        sa.Column("through", sa.Double(), nullable=True),
    )
    op.create_table(
        "agent_time_dirty",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("agent", sa.String(), primary_key=True),
        sa.Column("since", sa.Double(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_agent_session_ref", "agent_session", ["pbx", "ref"])
    op.execute(
        "INSERT INTO agent_time_dirty (pbx, agent, since, version) "
        "SELECT pbx, agent, MIN(started_at), 1 FROM agent_session GROUP BY pbx, agent"
    )


def downgrade() -> None:
    op.drop_index("ix_agent_session_ref", table_name="agent_session")
    for table in (
        "agent_time_dirty",
        "agent_time_mark",
        "agent_time_daily",
        "agent_time_hourly",
        "agent_time_rollup",
    ):
        op.drop_table(table)
