"""Event log, queue attempts and call context.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ami_event",
        sa.Column("id", _EVENT_ID, primary_key=True, autoincrement=True),
        sa.Column("pbx", sa.String(), nullable=False),
        sa.Column("session", sa.String(), nullable=False),
        sa.Column("connection", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("uniqueid", sa.String(), nullable=True),
        sa.Column("linkedid", sa.String(), nullable=True),
        sa.Column("event_ts", sa.Double(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.UniqueConstraint("pbx", "session", "connection", "seq", name="uq_ami_event_origin"),
    )
    op.create_index("ix_ami_event_name", "ami_event", ["name"])
    op.create_index("ix_ami_event_uniqueid", "ami_event", ["uniqueid"])
    op.create_index("ix_ami_event_linkedid", "ami_event", ["linkedid"])
    op.create_index("ix_ami_event_received_at", "ami_event", ["received_at"])

    op.create_table(
        "queue_attempt",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("call_id", sa.String(), primary_key=True),
        sa.Column("attempt", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(), primary_key=True),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("linkedid", sa.String(), nullable=True),
        sa.Column("caller_number", sa.String(), nullable=True),
        sa.Column("entered_at", sa.Double(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=True),
        sa.Column("wait_s", sa.Double(), nullable=True),
        sa.Column("agent", sa.String(), nullable=True),
        sa.Column("agent_interface", sa.String(), nullable=True),
        sa.Column("connected_at", sa.Double(), nullable=True),
        sa.Column("handle_s", sa.Double(), nullable=True),
        sa.Column("hold_s", sa.Double(), nullable=True),
        sa.Column("completed_by", sa.String(), nullable=True),
        sa.Column("transfer_target", sa.String(), nullable=True),
        sa.Column("ring_no_answer", sa.Integer(), nullable=False),
    )
    op.create_index("ix_queue_attempt_entered_at", "queue_attempt", ["entered_at"])
    op.create_index("ix_queue_attempt_queue", "queue_attempt", ["queue"])
    op.create_index("ix_queue_attempt_agent", "queue_attempt", ["agent"])

    op.create_table(
        "call_context",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("uniqueid", sa.String(), primary_key=True),
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("linkedid", sa.String(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
    )
    op.create_index("ix_call_context_linkedid", "call_context", ["linkedid"])


def downgrade() -> None:
    op.drop_table("call_context")
    op.drop_table("queue_attempt")
    op.drop_table("ami_event")
