"""The CTI's tables (SQLAlchemy Core); migration ``0005_cti`` creates them.

``agent_state_interval``: one row per closed span of an agent's state (ready, not
ready with its reason, ringing, on call, wrap-up, logged out), for the KPI reports
(pause time by reason, login time, occupancy). ``cti_disposition``: what the agent
filed about a call (category and notes), keyed by the call's linkedid.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

metadata = sa.MetaData()

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""SQLite only autoincrements an INTEGER PRIMARY KEY."""

MAX_NOTES: Final = 4000
MAX_CATEGORY: Final = 64

agent_state_interval = sa.Table(
    "agent_state_interval",
    metadata,
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
sa.Index("ix_agent_state_interval_started_at", agent_state_interval.c.started_at)
sa.Index("ix_agent_state_interval_agent", agent_state_interval.c.pbx, agent_state_interval.c.iface)

disposition = sa.Table(
    "cti_disposition",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("pbx", sa.String(32), nullable=False),
    sa.Column("linkedid", sa.String(64), nullable=False),
    sa.Column("agent", sa.String(64), nullable=False),
    sa.Column("iface", sa.String(96), nullable=False),
    sa.Column("category", sa.String(MAX_CATEGORY), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.UniqueConstraint("pbx", "linkedid", "agent", name="uq_cti_disposition_call_agent"),
)
sa.Index("ix_cti_disposition_linkedid", disposition.c.linkedid)
