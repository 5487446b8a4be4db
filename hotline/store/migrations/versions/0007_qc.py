"""QC: sampled calls, immutable scores with their amendments, calibration picks.

Revision ID: 0007_qc
Revises: 0001
Create Date: 2025-01-22

The tables are defined in recording/qc/tables.py (SQLAlchemy Core); this migration creates them.
A submitted score is evidence about a person's work: the product only ever adds rows (an
amendment references the original), and triggers make the database refuse UPDATE and DELETE on
``qc_score`` and ``qc_score_item`` too, as ``audit_log`` does (migration ``0002_auth``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_qc"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_IMMUTABLE = ("qc_score", "qc_score_item")


def _sqlite_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is immutable: {verb} refused (amend instead)'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def _postgresql_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION qc_score_immutable()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION qc_score_immutable()",
    ]


def upgrade() -> None:
    op.create_table(
        "sampled_call",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("pbx", sa.String(32), nullable=False),
        sa.Column("call_key", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("sample_date", sa.Date(), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("agent_name", sa.String(120), nullable=True),
        sa.Column("team", sa.String(32), nullable=True),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("handle_s", sa.Double(), nullable=True),
        sa.Column("stratum", sa.String(8), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("drawn_at", sa.Double(), nullable=False),
        sa.Column("drawn_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("pbx", "call_key", name="uq_sampled_call_call"),
        sa.CheckConstraint("stratum IN ('peak', 'offpeak')", name="ck_sampled_call_stratum"),
    )
    op.create_index("ix_sampled_call_date_agent", "sampled_call", ["sample_date", "agent"])
    op.create_index("ix_sampled_call_team_date", "sampled_call", ["team", "sample_date"])
    op.create_index("ix_sampled_call_agent_started", "sampled_call", ["agent", "started_at"])

    op.create_table(
        "qc_score",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("sampled_call_id", _ID, sa.ForeignKey("sampled_call.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amends_id", _ID, sa.ForeignKey("qc_score.id"), nullable=True),
        sa.Column("scorer", sa.String(64), nullable=False),
        sa.Column("scorer_role", sa.String(16), nullable=False),
        sa.Column("form", sa.String(16), nullable=False),
        sa.Column("total", sa.Double(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.CheckConstraint("kind IN ('review', 'calibration')", name="ck_qc_score_kind"),
        sa.CheckConstraint("total >= 0 AND total <= 100", name="ck_qc_score_total"),
        sa.CheckConstraint("(amends_id IS NULL) = (reason IS NULL)", name="ck_qc_score_amendment_reason"),
    )
    op.create_index("ix_qc_score_call", "qc_score", ["sampled_call_id"])
    op.create_index("ix_qc_score_created", "qc_score", ["created_at"])
    # One original score of each kind per call; amendments (amends_id set) are as many as needed.
    op.create_index(
        "uq_qc_score_original",
        "qc_score",
        ["sampled_call_id", "kind"],
        unique=True,
        sqlite_where=sa.text("amends_id IS NULL"),
        postgresql_where=sa.text("amends_id IS NULL"),
    )

    op.create_table(
        "qc_score_item",
        sa.Column("score_id", _ID, sa.ForeignKey("qc_score.id"), primary_key=True),
        sa.Column("criterion", sa.String(32), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("rating", sa.Double(), nullable=True),
    )

    op.create_table(
        "qc_calibration",
        sa.Column("sampled_call_id", _ID, sa.ForeignKey("sampled_call.id"), primary_key=True),
        sa.Column("team_leader", sa.String(64), nullable=False),
        sa.Column("selected_at", sa.Double(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_qc_calibration_leader", "qc_calibration", ["team_leader"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION qc_score_immutable() RETURNS trigger LANGUAGE plpgsql AS $body$ "
            "BEGIN RAISE EXCEPTION '% is immutable: % refused (amend instead)', TG_TABLE_NAME, TG_OP; "
            "END $body$"
        )
        statements = [s for table in _IMMUTABLE for s in _postgresql_triggers(table)]
    else:
        statements = [s for table in _IMMUTABLE for s in _sqlite_triggers(table)]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    # Dropping the tables drops their triggers; the PostgreSQL function goes last.
    op.drop_table("qc_calibration")
    op.drop_table("qc_score_item")
    op.drop_table("qc_score")
    op.drop_table("sampled_call")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS qc_score_immutable()")
