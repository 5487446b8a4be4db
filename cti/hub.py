"""Who is connected, and which socket gets which event.

Routing is by phone interface: Asterisk's queue events name the member's
``Interface`` (``PJSIP/1001``), and an agent token binds an agent to one. Only the
sockets whose token names that interface (and, when the token names one, that
PBX) receive the event: an agent never sees another agent's call. Watchers (team
leaders, QC, QA, admins) receive ``agent.state`` of the agents they may see
(:func:`hotline.auth.policy.can_see_agent`: a team leader, their own team).

Event ids are counted per subject (token ``sub``), not per socket, so an agent
with two screens sees the same id on both, and a reconnect continues the
sequence. A subject stays bound to its interface after it disconnects, so what
happens while its browser reloads is kept (bounded, :mod:`cti.replay`) and sent
again when it comes back with the last id it saw.

Other hotline instances get every message through the broker (:mod:`cti.broker`)
and deliver it to their own sockets; a message is delivered locally first, so a
broker outage never delays a pop on this instance.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cti.connection import AgentConnection
from cti.protocol import normalize_iface
from cti.replay import Streams
from hotline.auth.policy import can_see_agent

MAX_SEEN_KEYS: Final = 50_000
"""Messages remembered by key so one coming back through the broker is not delivered twice."""


def content_key(pbx: str, iface: str, message: Mapping[str, Any]) -> str:
    """A message's identity: two instances reading one PBX build the same message for the same event
    (its time is Asterisk's Timestamp), so the copy that comes back through the broker is skipped."""
    text = json.dumps([pbx, normalize_iface(iface), message], sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@dataclass
class HubStats:
    """Running totals, read by the metrics endpoint at scrape time."""

    delivered: int = 0
    dropped_slow: int = 0
    auth_failures: int = 0
    abusive_closed: int = 0
    rate_limited: int = 0
    remote_received: int = 0
    replayed: int = 0
    gaps: int = 0


class AgentHub:
    def __init__(self, *, streams: Streams | None = None, publisher: Any = None) -> None:
        self._by_iface: dict[str, set[AgentConnection]] = {}
        self._watchers: set[AgentConnection] = set()
        self._bound: dict[str, dict[str, str | None]] = {}
        """iface -> {subject: pbx scope}: who gets (and keeps) this phone's events."""
        self._last_state: dict[tuple[str, str], dict[str, Any]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.streams = streams if streams is not None else Streams()
        self.publisher = publisher
        """``publisher(pbx, iface, message, key)`` sends to the other instances (None: alone)."""
        self.stats = HubStats()

    # -- connections ---------------------------------------------------------------------------

    def add(self, conn: AgentConnection) -> None:
        if conn.iface is not None:
            self._by_iface.setdefault(conn.iface, set()).add(conn)
            self._bound.setdefault(conn.iface, {})[conn.agent] = conn.pbx
            self.streams.stream(conn.agent)
        if conn.watcher:
            self._watchers.add(conn)

    def remove(self, conn: AgentConnection) -> None:
        self._watchers.discard(conn)
        conns = self._by_iface.get(conn.iface or "")
        if conns is None:
            return
        conns.discard(conn)
        if not conns:
            del self._by_iface[conn.iface or ""]

    def dropped(self, conn: AgentConnection) -> None:
        """A connection's send queue overflowed (it closes itself); counted for the metrics."""
        self.stats.dropped_slow += 1

    def listening(self, pbx: str, iface: str) -> bool:
        """Might anyone want this phone's events? (lets the event path skip work for nobody)"""
        if self.publisher is not None:
            return True  # another instance may have the agent
        bound = self._bound.get(normalize_iface(iface), {})
        return any(scope is None or scope == pbx for scope in bound.values())

    # -- delivery ------------------------------------------------------------------------------

    def deliver(self, pbx: str, iface: str, message: Mapping[str, Any], *, key: str | None = None) -> int:
        """Send ``message`` (without its ``id``) to whoever may see it, here and on other instances."""
        if self.publisher is None:
            return self.deliver_local(pbx, iface, message)
        key = key or content_key(pbx, iface, message)
        if not self.seen(key):
            return 0  # another instance read the same event first and sent it here already
        reached = self.deliver_local(pbx, iface, message)
        self.publisher(pbx, iface, message, key)
        return reached

    def deliver_remote(self, pbx: str, iface: str, message: Mapping[str, Any], key: str | None) -> int:
        """A message another instance delivered; skipped when this instance already did (same key)."""
        if not self.seen(key or content_key(pbx, iface, message)):
            return 0
        self.stats.remote_received += 1
        return self.deliver_local(pbx, iface, message)

    def seen(self, key: str) -> bool:
        """Remember ``key``; False when it was already there."""
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > MAX_SEEN_KEYS:
            self._seen.popitem(last=False)
        return True

    def deliver_local(self, pbx: str, iface: str, message: Mapping[str, Any]) -> int:
        iface = normalize_iface(iface)
        if message.get("type") == "agent.state":
            self._last_state[(pbx, iface)] = dict(message)
            reached = self._to_watchers(message)
        else:
            reached = 0
        bound = self._bound.get(iface)
        if not bound:
            self.stats.delivered += reached
            return reached
        conns = self._by_iface.get(iface, ())
        for subject, scope in sorted(bound.items()):
            if scope is not None and scope != pbx:
                continue
            if self.streams.get(subject) is None:
                del bound[subject]  # forgotten by the replay buffer: nobody has come back for it
                continue
            text = self._stamp(subject, message)
            for conn in conns:
                if conn.agent == subject and not conn.closing and conn.offer(text):
                    reached += 1
        self.stats.delivered += reached
        return reached

    def _stamp(self, subject: str, message: Mapping[str, Any]) -> str:
        number = self.streams.next_id(subject)
        # "id" first: readable in logs and browser consoles.
        body = {"v": message.get("v"), "type": message.get("type"), "id": number, **message}
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        self.streams.record(subject, number, text)
        return text

    def _to_watchers(self, message: Mapping[str, Any]) -> int:
        reached = 0
        texts: dict[str, str] = {}
        for conn in sorted(self._watchers, key=lambda c: c.agent):
            if conn.closing or not conn.wants(str(message.get("pbx"))):
                continue
            if not can_see_agent(conn.principal, str(message.get("agent") or ""), message.get("team")):
                continue
            text = texts.get(conn.agent)
            if text is None:
                text = texts[conn.agent] = self._stamp(conn.agent, message)
            if conn.offer(text):
                reached += 1
        return reached

    # -- (re)connecting ------------------------------------------------------------------------

    def missed(self, conn: AgentConnection, last_seen: int) -> tuple[list[str], int | None]:
        """What ``conn``'s subject missed after ``last_seen``, and the first lost id when too old."""
        stream = self.streams.get(conn.agent)
        if stream is None:
            return [], (1 if last_seen > 0 else None)
        texts, missing = stream.replay_after(last_seen)
        if last_seen > stream.last_id:
            missing = stream.last_id + 1  # ids from an earlier life of this process (a restart)
        self.stats.replayed += len(texts)
        if missing is not None:
            self.stats.gaps += 1
        return texts, missing

    def states_for(self, conn: AgentConnection) -> list[dict[str, Any]]:
        """The last known ``agent.state`` of every agent ``conn`` may see (sent after hello)."""
        found = []
        for (pbx, iface), message in sorted(self._last_state.items()):
            if not conn.wants(pbx):
                continue
            if conn.iface == iface or (
                conn.watcher
                and can_see_agent(conn.principal, str(message.get("agent") or ""), message.get("team"))
            ):
                found.append(message)
        return found

    @staticmethod
    def send_snapshot(conn: AgentConnection, message: Mapping[str, Any]) -> None:
        """A state as it stands (after hello): unnumbered, since it repeats what the stream said."""
        body = {"v": message.get("v"), "type": message.get("type"), "id": None, **message, "snapshot": True}
        conn.offer(json.dumps(body, ensure_ascii=False, separators=(",", ":")))

    # -- introspection -------------------------------------------------------------------------

    def count(self) -> int:
        return sum(len(conns) for conns in self._by_iface.values()) + sum(
            1 for c in self._watchers if c.iface is None
        )

    def agents(self) -> int:
        return len({c.agent for conns in self._by_iface.values() for c in conns})

    def connections(self) -> list[AgentConnection]:
        found = {c for conns in self._by_iface.values() for c in conns} | self._watchers
        return list(found)

    async def close_all(self, code: int, reason: str) -> None:
        conns = self.connections()
        await asyncio.gather(*(c.close(code, reason) for c in conns), return_exceptions=True)
