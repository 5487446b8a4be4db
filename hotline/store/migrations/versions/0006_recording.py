"""Recordings: one row per recorded call, and the intervals its recording was muted.

Revision ID: 0006_recording
Revises: 0001
Create Date: 2025-01-20

The tables are defined in recording/tables.py (SQLAlchemy Core); this migration creates them.
The indexes serve the QC searches: a time range, usually with an agent, a team, a queue or a
site, newest first (each index ends with ``started_at`` so the order comes from it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_recording"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "recording",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("pbx", sa.String(32), nullable=False),
        sa.Column("site", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("uniqueid", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("agent_name", sa.String(120), nullable=True),
        sa.Column("team", sa.String(32), nullable=True),
        sa.Column("caller_number", sa.String(64), nullable=True),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("duration_s", sa.Double(), nullable=True),
        sa.Column("talk_s", sa.Double(), nullable=True),
        sa.Column("hold_s", sa.Double(), nullable=True),
        sa.Column("disposition", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("problem", sa.String(255), nullable=True),
        sa.Column("file_path", sa.String(512), nullable=True),
        sa.Column("format", sa.String(16), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("qc_score", sa.Double(), nullable=True),
        sa.Column("purged_at", sa.Double(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.UniqueConstraint("pbx", "call_id", name="uq_recording_call"),
    )
    op.create_index("ix_recording_started_at", "recording", ["started_at"])
    op.create_index("ix_recording_agent_started", "recording", ["agent", "started_at"])
    op.create_index("ix_recording_team_started", "recording", ["team", "started_at"])
    op.create_index("ix_recording_queue_started", "recording", ["queue", "started_at"])
    op.create_index("ix_recording_site_started", "recording", ["site", "started_at"])
    op.create_index("ix_recording_caller", "recording", ["caller_number"])
    op.create_index("ix_recording_status", "recording", ["status", "ended_at"])
    op.create_index("ix_recording_uniqueid", "recording", ["pbx", "uniqueid"])

    op.create_table(
        "recording_mute",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("recording_id", _ID, sa.ForeignKey("recording.id"), nullable=False),
        sa.Column("muted_at", sa.Double(), nullable=False),
        sa.Column("unmuted_at", sa.Double(), nullable=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_index("ix_recording_mute_recording", "recording_mute", ["recording_id"])


def downgrade() -> None:
    op.drop_table("recording_mute")
    op.drop_table("recording")
