"""Whose phone is which: agent usernames and teams by phone interface.

The users are hotline's own (``hotline users add``, table ``auth_user``). They are
read at start and every ``refresh_s`` seconds, never on the event path; an agent's
token (which names its interface and team) fills in between two reads. Without a
users table (a store not yet migrated) the directory is just empty: team leaders
then see only agents whose tokens carried a team.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from cti.protocol import normalize_iface
from hotline.logs import get_logger

log = get_logger(__name__)

DEFAULT_REFRESH_S: Final = 60.0


@dataclass(frozen=True)
class PhoneOwner:
    username: str
    team: str | None
    pbx: str | None
    display_name: str | None = None


class Directory:
    def __init__(self, engine: AsyncEngine | None = None, *, refresh_s: float = DEFAULT_REFRESH_S) -> None:
        self._engine = engine
        self._refresh_s = refresh_s
        self._owners: dict[str, list[PhoneOwner]] = {}
        self._task: asyncio.Task[None] | None = None
        self._warned = False

    def owner(self, pbx: str, iface: str) -> PhoneOwner | None:
        """The user at this phone of this PBX (a user bound to no PBX matches every PBX)."""
        for owner in self._owners.get(normalize_iface(iface), ()):
            if owner.pbx is None or owner.pbx == pbx:
                return owner
        return None

    def agent_of(self, pbx: str, iface: str) -> str | None:
        owner = self.owner(pbx, iface)
        return owner.username if owner else None

    def learn(self, iface: str, owner: PhoneOwner) -> None:
        """What a verified token says (it is signed, so it is as good as the store until the next read)."""
        owners = [o for o in self._owners.get(normalize_iface(iface), []) if o.username != owner.username]
        self._owners[normalize_iface(iface)] = [owner, *owners]

    async def refresh(self) -> int:
        """Read the users again; how many phones are known (errors are logged, the old map kept)."""
        if self._engine is None:
            return len(self._owners)
        from hotline.auth.users import list_users

        try:
            users = await list_users(self._engine, active=True)
        except Exception as exc:  # no auth table yet, or the database is down: keep what we know
            if not self._warned:
                log.warning("cti cannot read the users; teams come from tokens only", error=repr(exc)[:200])
                self._warned = True
            return len(self._owners)
        owners: dict[str, list[PhoneOwner]] = {}
        for user in users:
            if user.iface:
                owner = PhoneOwner(user.username, user.team, user.pbx, user.display_name)
                owners.setdefault(normalize_iface(user.iface), []).append(owner)
        self._owners = owners
        self._warned = False
        return len(owners)

    def start(self) -> None:
        if self._engine is not None and self._task is None:
            self._task = asyncio.create_task(self._run(), name="cti-directory")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self._refresh_s)
