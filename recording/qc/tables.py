"""The QC tables (SQLAlchemy Core); migration ``0007_qc`` creates them and the immutability triggers.

- ``sampled_call``: one row per call drawn for QC, unique on the call (``pbx`` + ``call_key``, the
  call's Linkedid like the recording's ``call_id``), so no call is ever drawn twice.
- ``qc_score`` / ``qc_score_item``: a submitted score and its criteria. Never updated, never
  deleted (the database refuses both): a correction is a new row whose ``amends_id`` names the
  original, with a ``reason``. The newest row of a chain is the score in force.
- ``qc_calibration``: the team leaders' scored calls chosen for QC to score again.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

metadata = sa.MetaData()

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""SQLite only autoincrements an INTEGER PRIMARY KEY."""

PEAK: Final = "peak"
OFFPEAK: Final = "offpeak"
REVIEW: Final = "review"
"""The score of record of a sampled call (by QC or the agent's team leader)."""
CALIBRATION: Final = "calibration"
"""QC's second score of a call a team leader scored."""

sampled_call = sa.Table(
    "sampled_call",
    metadata,
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
sa.Index("ix_sampled_call_date_agent", sampled_call.c.sample_date, sampled_call.c.agent)
sa.Index("ix_sampled_call_team_date", sampled_call.c.team, sampled_call.c.sample_date)
sa.Index("ix_sampled_call_agent_started", sampled_call.c.agent, sampled_call.c.started_at)

qc_score = sa.Table(
    "qc_score",
    metadata,
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
sa.Index("ix_qc_score_call", qc_score.c.sampled_call_id)
sa.Index("ix_qc_score_created", qc_score.c.created_at)
sa.Index(
    "uq_qc_score_original",
    qc_score.c.sampled_call_id,
    qc_score.c.kind,
    unique=True,
    sqlite_where=qc_score.c.amends_id.is_(None),
    postgresql_where=qc_score.c.amends_id.is_(None),
)

qc_score_item = sa.Table(
    "qc_score_item",
    metadata,
    sa.Column("score_id", _ID, sa.ForeignKey("qc_score.id"), primary_key=True),
    sa.Column("criterion", sa.String(32), primary_key=True),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("weight", sa.Double(), nullable=False),
    sa.Column("rating", sa.Double(), nullable=True),
)

qc_calibration = sa.Table(
    "qc_calibration",
    metadata,
    sa.Column("sampled_call_id", _ID, sa.ForeignKey("sampled_call.id"), primary_key=True),
    sa.Column("team_leader", sa.String(64), nullable=False),
    sa.Column("selected_at", sa.Double(), nullable=False),
    sa.Column("seed", sa.BigInteger(), nullable=False),
)
sa.Index("ix_qc_calibration_leader", qc_calibration.c.team_leader)
