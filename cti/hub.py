"""Who is connected, and which socket gets which event.

Routing is by phone interface: Asterisk's queue events name the member's
``Interface`` (``PJSIP/1001``), and a token binds an agent to one. Only the
sockets whose token names that interface (and, when the token names one, that
PBX) receive the event: an agent never sees another agent's call.

Event ids are counted per agent (token subject), not per socket, so an agent
with two screens sees the same id on both, and a reconnect continues the
sequence instead of starting again at 1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cti.connection import AgentConnection
from cti.protocol import normalize_iface


@dataclass
class HubStats:
    """Running totals, read by the metrics endpoint at scrape time."""

    delivered: int = 0
    dropped_slow: int = 0
    auth_failures: int = 0
    abusive_closed: int = 0


class AgentHub:
    def __init__(self) -> None:
        self._by_iface: dict[str, set[AgentConnection]] = {}
        self._next_id: dict[str, int] = {}
        self.stats = HubStats()

    def add(self, conn: AgentConnection) -> None:
        self._by_iface.setdefault(conn.iface, set()).add(conn)

    def remove(self, conn: AgentConnection) -> None:
        conns = self._by_iface.get(conn.iface)
        if conns is None:
            return
        conns.discard(conn)
        if not conns:
            del self._by_iface[conn.iface]

    def dropped(self, conn: AgentConnection) -> None:
        """A connection's send queue overflowed (it closes itself); counted for the metrics."""
        self.stats.dropped_slow += 1

    def listening(self, pbx: str, iface: str) -> bool:
        """Is anyone connected for this phone? (lets the event path skip work for nobody)"""
        return any(c.wants(pbx) for c in self._by_iface.get(normalize_iface(iface), ()))

    def next_id(self, agent: str) -> int:
        value = self._next_id.get(agent, 0) + 1
        self._next_id[agent] = value
        return value

    def deliver(self, pbx: str, iface: str, message: Mapping[str, Any]) -> int:
        """Send ``message`` (without its ``id``) to the sockets of ``iface``; returns how many got it."""
        targets = [
            c for c in self._by_iface.get(normalize_iface(iface), ()) if c.wants(pbx) and not c.closing
        ]
        if not targets:
            return 0
        texts: dict[str, str] = {}
        reached = 0
        for conn in sorted(targets, key=lambda c: c.agent):
            text = texts.get(conn.agent)
            if text is None:
                # "id" first: readable in logs and browser consoles.
                body = {
                    "v": message.get("v"),
                    "type": message.get("type"),
                    "id": self.next_id(conn.agent),
                    **message,
                }
                text = texts[conn.agent] = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            if conn.offer(text):
                reached += 1
        self.stats.delivered += reached
        return reached

    def count(self) -> int:
        return sum(len(conns) for conns in self._by_iface.values())

    def agents(self) -> int:
        return len({c.agent for conns in self._by_iface.values() for c in conns})

    async def close_all(self, code: int, reason: str) -> None:
        conns = [c for conns in self._by_iface.values() for c in conns]
        await asyncio.gather(*(c.close(code, reason) for c in conns), return_exceptions=True)
