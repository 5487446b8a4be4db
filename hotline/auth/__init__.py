"""Users, roles, login and the access rules shared by the CTI and the recordings features.

- :mod:`hotline.auth.model`: roles, :class:`User`, :class:`Principal`;
- :mod:`hotline.auth.passwords`: scrypt hashes with their parameters inside;
- :mod:`hotline.auth.users`: the users repository; :mod:`hotline.auth.auditlog`: the append-only audit log;
- :mod:`hotline.auth.policy`: ``can_listen``, ``can_see_agent``, ``can_control_call``;
- :mod:`hotline.auth.guard`: ``require(request, roles=...)`` and ``principal_from_token``;
- :mod:`hotline.auth.web`: ``POST /api/login``, wired by the composition root with ``setup``;
- :mod:`hotline.auth.cli`: ``hotline users add|list|set-password|disable|enable``.

See docs/security.md.
"""

from hotline.auth.auditlog import AuditEntry, audit, audit_entries
from hotline.auth.guard import client_address, forbidden, principal_from_token, require, require_active
from hotline.auth.model import (
    ADMIN,
    AGENT,
    QA,
    QC,
    ROLES,
    TEAM_LEADER,
    NewUser,
    Principal,
    Role,
    User,
    UserError,
)
from hotline.auth.policy import can_control_call, can_listen, can_see_agent

__all__ = [
    "ADMIN",
    "AGENT",
    "QA",
    "QC",
    "ROLES",
    "TEAM_LEADER",
    "AuditEntry",
    "NewUser",
    "Principal",
    "Role",
    "User",
    "UserError",
    "audit",
    "audit_entries",
    "can_control_call",
    "can_listen",
    "can_see_agent",
    "client_address",
    "forbidden",
    "principal_from_token",
    "require",
    "require_active",
]
