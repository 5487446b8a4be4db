"""The auth tables (SQLAlchemy Core); migration ``0002_auth`` creates them and the audit triggers."""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

metadata = sa.MetaData()

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""SQLite only autoincrements an INTEGER PRIMARY KEY."""

ROLE_CHECK: Final = "role IN ('agent', 'team_leader', 'qc', 'qa', 'admin')"
OUTCOME_CHECK: Final = "outcome IN ('ok', 'refused')"

auth_user = sa.Table(
    "auth_user",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("team", sa.String(32), nullable=True),
    sa.Column("site", sa.String(32), nullable=True),
    sa.Column("iface", sa.String(96), nullable=True),
    sa.Column("pbx", sa.String(32), nullable=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("updated_at", sa.Double(), nullable=False),
    sa.UniqueConstraint("username", name="uq_auth_user_username"),
    sa.CheckConstraint(ROLE_CHECK, name="ck_auth_user_role"),
)
sa.Index("ix_auth_user_team", auth_user.c.team)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Double(), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("actor_role", sa.String(16), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(255), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.CheckConstraint(OUTCOME_CHECK, name="ck_audit_log_outcome"),
)
sa.Index("ix_audit_log_at", audit_log.c.at)
sa.Index("ix_audit_log_actor", audit_log.c.actor)
sa.Index("ix_audit_log_target", audit_log.c.target)
