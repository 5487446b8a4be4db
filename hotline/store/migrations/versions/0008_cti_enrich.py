"""CTI screen-pop enrichment: the caller's recent contacts by number, newest first.

Revision ID: 0008_cti_enrich
Revises: 0001
Create Date: 2025-01-27

Every screen-pop reads the caller's last contacts from ``queue_attempt``
(``WHERE caller_number = ? ORDER BY entered_at DESC LIMIT n``). Without this index
that is a scan of every attempt ever stored, on the path of each pop; with it, a
few index pages. The index is declared on the core's model too (hotline/store/models.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008_cti_enrich"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_queue_attempt_caller_number"


def upgrade() -> None:
    op.create_index(INDEX, "queue_attempt", ["caller_number", "entered_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="queue_attempt")
