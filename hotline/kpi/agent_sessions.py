"""Agent sessions (login, pause with reason) from live AMI events: idempotent, order-tolerant, no IO.

``projector.feed(pbx, event)`` records what a queue member event says; :meth:`changes` then
derives the spans of every agent touched since the last call (:func:`derive_spans`) and returns
those that changed (to upsert) and those that no longer exist (to delete). Feed a whole committed
batch, then call :meth:`changes` once: one derivation per agent per batch.

What each event tells (times are whole seconds, see :mod:`hotline.kpi.agent_spans`):

- every member event (``QueueMemberAdded/Removed/Pause/Status/Penalty/Ringinuse`` and the
  ``QueueMember`` items of a QueueStatus answer) carries the member's whole state: it is a
  member since ``LoginTime``; ``Paused: 1`` means paused since ``LastPause`` with
  ``PausedReason`` (since LoginTime when it was added paused); ``Paused: 0`` means a pause that
  began at or before ``LastPause`` has ended by now. So a projector started mid-shift (or a
  resync snapshot) still finds each agent's true login and pause starts;
- ``QueueMemberAdded``: added at ``LoginTime``; ``QueueMemberRemoved``: removed now (closing a
  pause still open in that queue: a logout while paused ends the pause);
- ``QueueMemberPause``: paused at ``LastPause`` with ``PausedReason`` (a new reason while paused
  starts a new pause span), or unpaused now;
- a complete QueueStatus answer (``QueueParams`` ... ``QueueStatusComplete``, matched by ActionID)
  is the truth for the queues it lists: an agent it does not list in such a queue left it.

Events without a ``Timestamp`` (list items) take the latest timestamp seen from the same PBX.
Identity: ``MemberName`` (``Name`` in list items), else the interface, as attempts name agents.

Memory: facts older than :data:`MEMORY_S` (event time) are folded away every ten minutes of
event time; a fact older than that arriving later is ignored (counted in :attr:`late`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, Protocol

from hotline.kpi.agent_spans import (
    LOGIN,
    PAUSE,
    AgentMarks,
    AgentSpan,
    Fact,
    derive_spans,
    fold,
    is_idle,
)

MEMORY_S: Final = 2 * 3600
"""Facts older than this (event time) are folded into the state they left."""
_MAX_LISTINGS: Final = 64
"""QueueStatus answers collected at once (by ActionID) until their Complete event."""
_PRUNE_EVERY_S: Final = 600
"""Event-time seconds between two folds of the past (a fold derives every agent once)."""

STATE_EVENTS: Final = frozenset(
    {"QueueMemberStatus", "QueueMemberPenalty", "QueueMemberRinginuse", "QueueMember"}
)
PAUSE_EVENTS: Final = frozenset({"QueueMemberPause", "QueueMemberPaused"})
MEMBER_EVENTS: Final = STATE_EVENTS | PAUSE_EVENTS | {"QueueMemberAdded", "QueueMemberRemoved"}
SNAPSHOT_EVENTS: Final = frozenset({"QueueParams", "QueueStatusComplete"})
EVENTS: Final = MEMBER_EVENTS | SNAPSHOT_EVENTS
"""Every event name the projector reads; others are ignored at once."""

AgentKey = tuple[str, str]
SpanKey = tuple[str, str, str, str, str]


class EventLike(Protocol):
    @property
    def name(self) -> str: ...

    def get(self, key: str) -> str | None: ...


@dataclass(slots=True)
class SpanChanges:
    """What to write: spans new or changed, and keys of spans that no longer exist."""

    upserts: list[AgentSpan] = field(default_factory=list)
    deletes: list[SpanKey] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.deletes)


@dataclass(slots=True)
class _Listing:
    queues: set[str] = field(default_factory=set)
    members: set[tuple[str, str]] = field(default_factory=set)


_WANTED: Final = frozenset(
    {"queue", "membername", "name", "interface", "location", "logintime", "paused", "pausedreason",
     "lastpause", "timestamp", "actionid"}
)  # fmt: skip
_KEYS: dict[str, str | None] = {}
"""Header name as received -> the lower-case name the projector reads, or None (a few dozen names)."""


def _key(header: str) -> str | None:
    known = _KEYS.get(header, "")
    if known != "":
        return known
    low = header.lower()
    found = low if low in _WANTED else None
    if len(_KEYS) < 4096:  # AMI has a few dozen header names; odd input must not grow this forever
        _KEYS[header] = found
    return found


def _fields(event: EventLike) -> dict[str, str]:
    """The headers the projector reads, by lower-case name (one dict lookup per header)."""
    headers = getattr(event, "headers", None)
    if headers is None:
        return {k: v for k in _WANTED if (v := event.get(k)) is not None}
    known = _KEYS
    out: dict[str, str] = {}
    for k, v in headers:
        key = known.get(k, "")  # inline: a member event has a score of headers, most not wanted
        if key == "":
            key = _key(str(k))
        if key is not None:
            out[key] = v if type(v) is str else str(v)
    return out


def _int(raw: str | None) -> int:
    try:
        return int(float(raw)) if raw else 0
    except (ValueError, OverflowError):
        return 0


class AgentSessionProjector:
    """Folds queue member events of one or more PBXs into agent login and pause spans."""

    def __init__(self, *, clock: Callable[[], float] = time.time, memory_s: float = MEMORY_S) -> None:
        self._clock = clock
        self.memory_s = memory_s
        self._agents: dict[AgentKey, AgentMarks] = {}
        self._emitted: dict[AgentKey, dict[SpanKey, AgentSpan]] = {}
        self._touched: set[AgentKey] = set()
        self._listings: dict[tuple[str, str], _Listing] = {}
        self._latest: dict[str, float] = {}
        self._pruned_at = -math.inf
        self.late = 0
        """Facts older than the folded past, ignored."""

    # --- feeding ----------------------------------------------------------------------------

    def feed(self, pbx: str, event: EventLike) -> bool:
        """Record one event; True when it told something new."""
        name = event.name
        if name not in EVENTS:
            return False
        f = _fields(event)
        ts = self._timestamp(pbx, f, event)
        if name in SNAPSHOT_EVENTS:
            return self._snapshot(pbx, name, f, ts)
        queue = f.get("queue")
        agent = f.get("membername") or f.get("name") or f.get("interface") or f.get("location")
        if not queue or not agent:
            return False
        if name == "QueueMember" and (listing := self._listings.get((pbx, f.get("actionid") or ""))):
            listing.members.add((agent, queue))  # its QueueParams came first, as Asterisk sends them
        return self._member(pbx, name, agent, queue, f, ts)

    def _timestamp(self, pbx: str, f: dict[str, str], event: EventLike) -> float:
        try:
            ts = float(f["timestamp"])
        except (KeyError, ValueError):
            known = self._latest.get(pbx)
            if known is not None:
                return known
            received = getattr(event, "received_at", None)
            return float(received) if isinstance(received, int | float) else self._clock()
        if math.isfinite(ts):
            self._latest[pbx] = max(self._latest.get(pbx, ts), ts)
            return ts
        return self._clock()

    def _marks(self, pbx: str, agent: str) -> AgentMarks:
        marks = self._agents.get((pbx, agent))
        if marks is None:
            marks = self._agents[(pbx, agent)] = AgentMarks()
        return marks

    def _member(self, pbx: str, name: str, agent: str, queue: str, f: dict[str, str], ts: float) -> bool:
        second = math.floor(ts)
        marks = self._marks(pbx, agent)
        if marks.floor is not None and second < marks.floor:
            self.late += 1
            return False
        iface = f.get("interface") or f.get("location")
        changed = bool(iface) and marks.interface != iface
        marks.interface = iface or marks.interface
        member = marks.queue(queue)
        login = _int(f.get("logintime"))
        since = login if 0 < login <= second + 1 else second
        changed |= member.add(since, ts if name == "QueueMemberAdded" else None)
        if (f.get("paused") or "").strip() == "1":
            last_pause = _int(f.get("lastpause"))
            start = last_pause if last_pause >= since else since  # added paused: paused from the add
            reason = (f.get("pausedreason") or "").strip()
            changed |= member.pause(start, reason, ts if name in PAUSE_EVENTS else None)
        elif name in PAUSE_EVENTS:
            changed |= member.unpause(second, ts)
        else:
            changed |= member.unpaused_since(_int(f.get("lastpause")), second)
        if name == "QueueMemberRemoved":
            changed |= member.remove(second, ts)
        if changed:
            self._touched.add((pbx, agent))
        return changed

    def _snapshot(self, pbx: str, name: str, f: dict[str, str], ts: float) -> bool:
        action = f.get("actionid")
        if not action:
            return False
        if name == "QueueParams":
            if queue := f.get("queue"):
                if (pbx, action) not in self._listings and len(self._listings) >= _MAX_LISTINGS:
                    del self._listings[next(iter(self._listings))]  # an answer that never completed
                self._listings.setdefault((pbx, action), _Listing()).queues.add(queue)
            return False
        listing = self._listings.pop((pbx, action), None)
        if listing is None or not listing.queues:
            return False
        second = math.floor(ts)
        listed_agents = {agent for agent, _ in listing.members}
        known_queues = {q for (p, _), m in self._agents.items() if p == pbx for q in m.queues}
        changed = False
        for (p, agent), marks in self._agents.items():
            if p != pbx or (marks.floor is not None and second < marks.floor):
                continue
            touched = False
            for queue in listing.queues & marks.queues.keys():
                if (agent, queue) not in listing.members:
                    touched |= marks.queues[queue].remove(second, ts)
            if agent not in listed_agents and known_queues <= listing.queues and second not in marks.absent:
                # Listed nowhere in an answer covering every known queue: a member of none.
                marks.absent[second] = Fact.at(second, ts)
                touched = True
            if touched:
                self._touched.add((pbx, agent))
                changed = True
        return changed

    # --- results ----------------------------------------------------------------------------

    def changes(self) -> SpanChanges:
        """Spans changed since the last call (and keys of spans gone), for every agent touched."""
        result = SpanChanges()
        for key in sorted(self._touched):
            marks = self._agents.get(key)
            if marks is None:
                continue
            fresh = {span.key: span for span in derive_spans(key[0], key[1], marks)}
            old = self._emitted.get(key, {})
            result.upserts.extend(span for k, span in fresh.items() if old.get(k) != span)
            result.deletes.extend(k for k in old if k not in fresh)
            self._emitted[key] = fresh
        self._touched.clear()
        latest = max(self._latest.values(), default=None)
        if latest is not None and latest - self._pruned_at >= _PRUNE_EVERY_S:
            self.prune(latest - self.memory_s)
        return result

    def spans(self) -> list[AgentSpan]:
        """Every span known now (derived afresh), ordered by agent and start."""
        out = [
            span for (pbx, agent), marks in self._agents.items() for span in derive_spans(pbx, agent, marks)
        ]
        return sorted(out, key=lambda s: (s.pbx, s.agent, s.started_at, s.kind))

    def seed(self, spans: Iterable[AgentSpan]) -> None:
        """Spans stored before a restart and still open: the login and pause they tell go on.

        A stored open pause becomes a pause in every queue the agent turns out to be a member of
        (so its unpause closes it); a stored open login holds until the agent's queues are known.
        """
        for span in spans:
            if span.ended_at is not None or span.kind not in (LOGIN, PAUSE):
                continue
            key = (span.pbx, span.agent)
            marks = self._marks(*key)
            marks.interface = marks.interface or span.interface
            start = int(span.started_at)
            if span.kind == LOGIN:
                marks.assumed_since = start
            else:
                marks.pause_all[start] = Fact.at(start, None, span.reason)
            self._emitted.setdefault(key, {})[span.key] = span

    def prune(self, older_than: float) -> int:
        """Fold facts older than ``older_than``; forget agents with nothing left; how many forgotten."""
        before = math.floor(older_than)
        self._pruned_at = older_than + self.memory_s
        gone = 0
        for key in list(self._agents):
            marks = self._agents[key]
            if is_idle(key[0], key[1], marks, before):
                del self._agents[key]
                self._emitted.pop(key, None)
                gone += 1
                continue
            fold(key[0], key[1], marks, before)
            emitted = self._emitted.get(key)
            if emitted:
                self._emitted[key] = {
                    k: s for k, s in emitted.items() if s.ended_at is None or s.ended_at > before
                }
        return gone


__all__ = ["EVENTS", "MEMORY_S", "AgentSessionProjector", "SpanChanges"]
