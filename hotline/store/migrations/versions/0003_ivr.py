"""IVR: call records, payment attempts, the SAPA outlet directory.

Revision ID: 0003_ivr
Revises: 0001
Create Date: 2025-01-15

The tables are defined in ivr/records.py (SQLAlchemy Core); this migration creates them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_ivr"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ivr_call",
        sa.Column("pbx", sa.String(), primary_key=True),
        sa.Column("uniqueid", sa.String(), primary_key=True),
        sa.Column("script", sa.String(), primary_key=True),
        sa.Column("linkedid", sa.String(), nullable=True),
        sa.Column("caller_number", sa.String(), nullable=True),
        sa.Column("lang", sa.String(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("choice", sa.String(), nullable=False),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("verified", sa.String(), nullable=False),
        sa.Column("customer_no", sa.String(), nullable=False),
        sa.Column("outlet_code", sa.String(), nullable=False),
        sa.Column("ticket_key", sa.String(), nullable=False),
        sa.Column("payment_ref", sa.String(), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=False),
    )
    op.create_index("ix_ivr_call_linkedid", "ivr_call", ["linkedid"])
    op.create_index("ix_ivr_call_started_at", "ivr_call", ["started_at"])
    op.create_table(
        "payment_attempt",
        sa.Column("idempotency_key", sa.String(), primary_key=True),
        sa.Column("pbx", sa.String(), nullable=False),
        sa.Column("uniqueid", sa.String(), nullable=False),
        sa.Column("contract_no", sa.String(), nullable=False),
        sa.Column("option_code", sa.String(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
    )
    op.create_index("ix_payment_attempt_call", "payment_attempt", ["pbx", "uniqueid"])
    op.create_index("ix_payment_attempt_status", "payment_attempt", ["status"])
    op.create_table(
        "outlet",
        sa.Column("code", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("pin_hash", sa.String(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
    )
    op.create_table(
        "outlet_phone",
        sa.Column("phone", sa.String(), primary_key=True),
        sa.Column("outlet_code", sa.String(), nullable=False),
    )
    op.create_index("ix_outlet_phone_outlet_code", "outlet_phone", ["outlet_code"])


def downgrade() -> None:
    op.drop_table("outlet_phone")
    op.drop_table("outlet")
    op.drop_table("payment_attempt")
    op.drop_table("ivr_call")
