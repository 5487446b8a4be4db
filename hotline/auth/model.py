"""Who is who: roles, the users kept in the store, and the principal a request acts as.

Five roles, one per person (no role mixing, so a policy reads as a table):

- ``agent``: takes calls at one phone interface (``PJSIP/1001``), belongs to one team;
- ``team_leader``: leads one team (sees and listens to that team's agents only);
- ``qc``, ``qa``: quality control and assurance (every recording, every agent);
- ``admin``: everything, including user management.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

Role = Literal["agent", "team_leader", "qc", "qa", "admin"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
AGENT: Final[Role] = "agent"
TEAM_LEADER: Final[Role] = "team_leader"
QC: Final[Role] = "qc"
QA: Final[Role] = "qa"
ADMIN: Final[Role] = "admin"
ALL_RECORDINGS: Final[frozenset[Role]] = frozenset({QC, QA, ADMIN})
"""Roles that may listen to (and see) every agent, whatever the team."""

USERNAME_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
"""Lowercase: agent ids (``1001``) and names such as ``qc.dewi``; compared case-insensitively."""
_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_IFACE_PATTERN: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*/[^\s/;,|]{1,80}")
_CHANNEL_SUFFIX: Final = re.compile(r"-[0-9a-f]{8}(;[12])?$")


class UserError(ValueError):
    """A user record (or a change to one) is not acceptable; the message says which field and why."""


def normalize_username(username: str) -> str:
    """The stored form of a username (trimmed, lowercase); :class:`UserError` if it cannot be one."""
    name = username.strip().lower() if isinstance(username, str) else ""
    if not USERNAME_PATTERN.fullmatch(name):
        raise UserError(
            f"username {username!r} must be 1-64 characters: letters, digits, '.', '_', '-' (e.g. 1001)"
        )
    return name


def normalize_iface(iface: str) -> str:
    """``PJSIP/1001`` (technology case as Asterisk shows it is kept; Asterisk matches it case-blind)."""
    text = iface.strip() if isinstance(iface, str) else ""
    if not _IFACE_PATTERN.fullmatch(text):
        raise UserError(f"phone interface {iface!r} must look like PJSIP/1001")
    return text


def interface_of(channel: str) -> str:
    """The phone interface of a channel name: ``PJSIP/1001-0000001a`` -> ``pjsip/1001``.

    The technology is lowercased because Asterisk treats it case-insensitively; the resource keeps
    its case (endpoint names are case-sensitive). Use it on both sides of a comparison.
    """
    base = _CHANNEL_SUFFIX.sub("", channel.strip())
    tech, sep, resource = base.partition("/")
    return f"{tech.lower()}{sep}{resource}"


def same_name(a: str | None, b: str | None) -> bool:
    """Team and site names compare case-blind (``A`` is team ``a``); an unknown name matches nothing."""
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


def _name(value: str | None, what: str) -> str | None:
    # Kept as the administrator wrote it (shown in lists); compared with same_name().
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not _NAME_PATTERN.fullmatch(text):
        raise UserError(f"{what} {value!r} must be 1-32 characters: letters, digits, '_', '-'")
    return text


@dataclass(frozen=True)
class NewUser:
    """What an administrator gives to create a user (validated by :meth:`checked`)."""

    username: str
    display_name: str
    role: str
    team: str | None = None
    site: str | None = None
    iface: str | None = None
    pbx: str | None = None

    def checked(self) -> NewUser:
        """The same user in stored form; :class:`UserError` names the first field that is wrong."""
        if self.role not in ROLES:
            raise UserError(f"role {self.role!r} is not one of {', '.join(ROLES)}")
        name = " ".join(self.display_name.split()) if isinstance(self.display_name, str) else ""
        if not name or len(name) > 120:
            raise UserError("display name must be 1-120 characters")
        team = _name(self.team, "team")
        if self.role in (AGENT, TEAM_LEADER) and team is None:
            raise UserError(f"a user with role {self.role} needs a team (--team)")
        iface = normalize_iface(self.iface) if self.iface else None
        if self.role == AGENT and iface is None:
            raise UserError("an agent needs a phone interface (--iface PJSIP/1001)")
        return NewUser(
            username=normalize_username(self.username),
            display_name=name,
            role=self.role,
            team=team,
            site=_name(self.site, "site"),
            iface=iface,
            pbx=_name(self.pbx, "pbx"),
        )


@dataclass(frozen=True)
class User:
    """One row of ``auth_user``. The password hash never leaves this object through :meth:`public`."""

    id: int
    username: str
    display_name: str
    role: Role
    team: str | None
    site: str | None
    iface: str | None
    pbx: str | None
    password_hash: str
    active: bool
    created_at: float
    updated_at: float

    def public(self) -> dict[str, Any]:
        """The user as the API and the CLI show it (no password hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "team": self.team,
            "site": self.site,
            "iface": self.iface,
            "pbx": self.pbx,
            "active": self.active,
        }

    def __repr__(self) -> str:
        # The hash stays out of reprs (and so out of tracebacks and log lines).
        return f"User(id={self.id}, username={self.username!r}, role={self.role!r}, active={self.active})"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as, read from a verified token (no database lookup needed)."""

    username: str
    role: Role
    iface: str | None = None
    team: str | None = None
    site: str | None = None
    pbx: str | None = None
    expires_at: float = 0.0
