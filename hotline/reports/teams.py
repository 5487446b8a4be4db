"""Which team an agent of the queue attempts is in, from hotline's users (``auth_user``).

An attempt names its agent by Asterisk's ``MemberName`` (``Siti Rahma`` or ``1001``, as the queue
member was added) and by the interface that rang (``PJSIP/1001``). The user is found by the
interface first (on the user's PBX, when the user names one: both sites may have an extension
1001), then by username, then by display name; without a match the agent is in no team, and a
team leader does not see them. Disabled users count too: last month's calls of an agent who has
since left still belong to that agent's team.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.model import AGENT, User, interface_of, same_name
from hotline.auth.users import list_users
from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt


class TeamDirectory:
    """Agent (MemberName, interface, PBX) -> team, from a list of users."""

    def __init__(self, users: Iterable[User]) -> None:
        self._by_iface: dict[str, list[User]] = {}
        self._by_name: dict[str, User] = {}
        agents = [user for user in users if user.role == AGENT]
        for user in agents:
            if user.iface:
                self._by_iface.setdefault(interface_of(user.iface), []).append(user)
            self._by_name[user.username.casefold()] = user
        for user in agents:  # a username wins over somebody else's display name
            self._by_name.setdefault(user.display_name.casefold(), user)

    def user_of(
        self, member: str | None, interface: str | None = None, pbx: str | None = None
    ) -> User | None:
        """The agent user behind a queue member, or None."""
        for user in self._by_iface.get(interface_of(interface), []) if interface else []:
            if user.pbx is None or pbx is None or user.pbx == pbx:
                return user
        return self._by_name.get(member.strip().casefold()) if member else None

    def team_of(self, member: str | None, interface: str | None = None, pbx: str | None = None) -> str | None:
        """The team of a queue member (MemberName), or None when no agent user matches."""
        user = self.user_of(member, interface, pbx)
        return user.team if user is not None else None

    def handled_by(self, attempts: Iterable[QueueAttempt], team: str) -> list[QueueAttempt]:
        """The ACD calls (answered attempts) that agents of ``team`` handled."""
        return [
            a
            for a in attempts
            if a.outcome == facts.ANSWERED
            and a.agent
            and same_name(self.team_of(a.agent, a.agent_interface, a.pbx), team)
        ]


async def load_team_directory(engine: AsyncEngine) -> TeamDirectory:
    """The directory of every agent user in the store (one query)."""
    return TeamDirectory(await list_users(engine, role=AGENT))
