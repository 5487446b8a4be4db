"""Queue attempts from live AMI events: an incremental, idempotent, order-tolerant projector.

``AmiProjector().feed(pbx, event)`` takes one AMI event (anything with ``.name`` and
``.get(key)``, e.g. :class:`hotline.ami.protocol.Event`) and returns the attempts whose row changed,
so the store can upsert them; :meth:`AmiProjector.attempts` returns all of them. No IO.

Which events decide what (times are the event's ``Timestamp:`` header, so AMI must run with
``timestampevents=yes``; without it the injected clock stands in and order tolerance is lost):

- ``QueueCallerJoin`` (Uniqueid = caller = ``call_id``): a new attempt in ``Queue``; entered_at,
  ``Position``, ``Linkedid``, ``CallerIDNum``. Attempts of a call are numbered by join time.
  Every other queue event belongs to the latest join of the same queue before it; queue events
  without any join (we started listening mid-call) still make an attempt, its entry estimated.
- ``AgentRingNoAnswer``: ring_no_answer + 1 (``AgentCalled`` is recorded, decides nothing).
- ``AgentConnect``: answered; wait_s = ``HoldTime`` (queue wait, s), agent = ``MemberName``,
  agent_interface = ``Interface``, connected_at; ``DestUniqueid`` maps the agent's channel to it.
- ``Hold`` / ``Unhold`` on that agent channel (pjsip raises them on the channel that sent the
  re-INVITE, the agent's): hold_s = sum of Hold -> Unhold intervals between connect and end; an
  Unhold without a Hold (what a blind transfer leaves behind) adds nothing; a Hold open at the
  end counts until the end. hold_s never exceeds handle_s (TalkTime is truncated to seconds).
- ``AgentComplete``: ended_at, handle_s = ``TalkTime`` (answer -> end, hold included),
  completed_by = ``Reason`` (caller | agent | transfer).
- ``BlindTransfer`` / ``AttendedTransfer`` with ``Result: Success`` involving the agent's or the
  caller's channel during the conversation: completed_by = transfer, transfer_target =
  ``Extension@Context`` (blind) or ``BRIDGE|id``, ``APP|name``, ``LINK|chan1|chan2`` (attended,
  as queue_log writes it). The caller's next ``QueueCallerJoin`` is the next attempt.
- ``QueueCallerAbandon`` (``HoldTime`` = wait_s): Asterisk sends it for a caller's abandon AND
  for a queue timeout (also leavewhenempty and withdraw). It is an abandon when the caller's
  ``HangupRequest``/``SoftHangupRequest`` is timestamped between the join and the
  QueueCallerAbandon (the BYE comes first, then app_queue notices); otherwise the channel was
  alive when the queue let it go: a timeout. With no call-class event of the caller's channel
  in sight (filtered out), it stays abandoned, Asterisk's own word. The decision is re-made on
  every event, so a hang-up request that arrives late turns a provisional timeout into an
  abandon and the attempt is emitted again.
- ``QueueCallerLeave`` with no connect and no abandon, followed (by timestamp) by a
  ``Newexten``, ``Hangup`` or a later join of the caller: exit with a key (EXITWITHKEY sends no
  QueueCallerAbandon). A caller ``Hangup`` with no queue verdict at all makes it abandoned.
- ``HotlineGapCompletion`` (synthetic, written to the event log by hotline itself after an AMI
  reconnect, :mod:`hotline.kpi.gap`): how an attempt that ended while the link was down ended, from
  queue_log or CDR. It fills only what AMI did not see (AMI's own end wins) and sets
  ``completed_from``. :meth:`AmiProjector.open_attempts` lists the attempts it may be needed for.
- ``HotlineGapAttempt`` (synthetic, likewise): a whole attempt AMI never saw, the caller having
  entered a queue while the link was down (:mod:`hotline.kpi.gap_unseen`). It is added to the
  call (made if unknown) and the call's attempts are numbered by entry; an AMI attempt of the
  same stay wins over it.

Idempotent: queue events are stored by ``(name, Timestamp, Queue, DestUniqueid)``, channel facts
are sets, minima and maxima, and attempts are re-derived from the whole record of the call, so an
event fed twice changes nothing and :meth:`feed` returns ``[]`` for it.

Memory: call :meth:`prune` now and then (e.g. every minute with ``now - 3600``); facts of a call
or channel not heard of since then are dropped. A late event for a pruned call makes a new,
partial attempt, as for a call already in progress at start-up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

from hotline.ami.protocol import Message
from hotline.kpi import gap, gap_unseen
from hotline.kpi.ami_calls import (
    COMPLETE,
    CONNECT,
    QUEUE_EVENTS,
    ChannelFacts,
    QueueEventRecord,
    derive_attempts,
)
from hotline.kpi.facts import QueueAttempt


class AmiEventLike(Protocol):
    """What the projector needs of an event (hotline.ami.protocol.Event fits)."""

    @property
    def name(self) -> str: ...

    def get(self, key: str) -> str | None: ...


_CALL_CLASS: Final = frozenset({"Newchannel", "Newstate", "Hangup", "HangupRequest", "SoftHangupRequest"})
_CHANNEL_EVENTS: Final = _CALL_CLASS | {"Newexten", "Hold", "Unhold"}
_TRANSFER_EVENTS: Final = frozenset({"BlindTransfer", "AttendedTransfer"})
_ATTENDED_PARTIES: Final = (
    "OrigTransfererUniqueid",
    "SecondTransfererUniqueid",
    "TransfereeUniqueid",
    "TransferTargetUniqueid",
)

_READ: Final = frozenset({*QUEUE_EVENTS, *_CHANNEL_EVENTS, *_TRANSFER_EVENTS, gap.EVENT, gap.EVENT_ATTEMPT})
"""Every event name the projector reads; the others (most of the stream) are skipped at once."""
_LOWER: dict[str, str] = {}
"""Header name as received -> its lower case (AMI speaks a few hundred names)."""
_MAX_LOWER: Final = 4096


class _Headers:
    """An event read through dicts of its headers (first value wins), as a parsed event is read.

    A stored event (:class:`hotline.store.events.StoredEvent`) looks a header up by scanning its
    pairs; the projector asks a queue event a dozen times, so the pairs are indexed once instead:
    by exact name (what Asterisk sends), and by lower-case name only when a lookup misses.
    """

    __slots__ = ("_exact", "_headers", "_lower", "name")

    def __init__(self, name: str, headers: tuple[tuple[str, str], ...]) -> None:
        self.name = name
        self._headers = headers
        exact = dict(headers)
        self._exact = exact if len(exact) == len(headers) else dict(reversed(headers))
        self._lower: dict[str, str] | None = None

    def get(self, key: str) -> str | None:
        value = self._exact.get(key)
        if value is not None:
            return value
        lower = self._lower
        if lower is None:
            lower = self._lower = {}
            for name, header_value in reversed(self._headers):
                low = _LOWER.get(name)
                if low is None:
                    low = name.lower()
                    if len(_LOWER) < _MAX_LOWER:
                        _LOWER[name] = low
                lower[low] = header_value
        return lower.get(key.lower())


def _readable(event: AmiEventLike) -> AmiEventLike:
    """``event``, or a :class:`_Headers` view of it when its own lookups scan (a stored event)."""
    if isinstance(event, Message):
        return event  # already indexed by exact and lower-case name
    headers = getattr(event, "headers", None)
    if type(headers) is not tuple:
        return event
    return _Headers(event.name, headers)


@dataclass(slots=True)
class _Call:
    events: dict[tuple[str, float, str, str | None], QueueEventRecord] = field(default_factory=dict)
    attempts: list[QueueAttempt] = field(default_factory=list)
    last_seen: float = 0.0
    completions: dict[tuple[int, str], gap.GapCompletion] = field(default_factory=dict)
    """Ends read from queue_log/CDR after an AMI gap, by (attempt, queue)."""
    added: dict[tuple[str, float], gap.GapCompletion] = field(default_factory=dict)
    """Whole attempts AMI never saw, read from queue_log/CDR after a gap, by (queue, entry)."""


class AmiProjector:
    """Folds AMI events of one or more PBXs into :class:`QueueAttempt` rows."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._calls: dict[tuple[str, str], _Call] = {}
        self._channels: dict[tuple[str, str], ChannelFacts] = {}
        self._agent_call: dict[tuple[str, str], str] = {}
        """(pbx, agent channel uniqueid) -> call_id, from AgentConnect/AgentComplete."""

    def feed(self, pbx: str, event: AmiEventLike) -> list[QueueAttempt]:
        """Record one event; return the attempts whose row changed because of it."""
        name = event.name
        if name not in _READ:
            return []
        event = _readable(event)
        if name in QUEUE_EVENTS:
            affected = self._queue_event(pbx, name, event)
        elif name in _CHANNEL_EVENTS:
            affected = self._channel_event(pbx, name, event)
        elif name in _TRANSFER_EVENTS:
            affected = self._transfer_event(pbx, name, event)
        elif name == gap.EVENT:
            affected = self._gap_completion(pbx, event)
        else:
            affected = self._gap_attempt(pbx, event)
        return self._rederive(pbx, affected)

    def attempts(self) -> list[QueueAttempt]:
        """Every attempt known, ordered by (pbx, call_id, attempt)."""
        rows = [a for call in self._calls.values() for a in call.attempts]
        return sorted(rows, key=lambda a: a.key)

    def open_attempts(self, pbx: str) -> list[QueueAttempt]:
        """The attempts of ``pbx`` whose end is not known yet (waiting, or answered without end)."""
        rows = [
            attempt
            for (call_pbx, _), call in self._calls.items()
            if call_pbx == pbx
            for attempt in call.attempts
            if gap.is_open(attempt)
        ]
        return sorted(rows, key=lambda a: a.key)

    def attempts_of(self, pbx: str, call_id: str) -> list[QueueAttempt]:
        """The attempts known of one call (empty when it is unknown or forgotten)."""
        call = self._calls.get((pbx, call_id))
        return list(call.attempts) if call is not None else []

    def prune(self, older_than: float) -> int:
        """Forget calls and channels last heard of before ``older_than``; return how many calls."""
        stale = {key for key, call in self._calls.items() if call.last_seen < older_than}
        for key in stale:
            del self._calls[key]
        self._agent_call = {k: cid for k, cid in self._agent_call.items() if (k[0], cid) in self._calls}
        self._channels = {k: c for k, c in self._channels.items() if c.last_seen >= older_than}
        return len(stale)

    # --- recording -------------------------------------------------------------------------

    def _timestamp(self, event: AmiEventLike) -> float:
        raw = event.get("Timestamp")
        if raw:
            try:
                return float(raw)
            except ValueError:
                pass
        return self._clock()

    def _queue_event(self, pbx: str, name: str, event: AmiEventLike) -> set[str]:
        call_id, queue = event.get("Uniqueid"), event.get("Queue")
        if not call_id or not queue:
            return set()
        record = QueueEventRecord(
            name=name,
            ts=self._timestamp(event),
            queue=queue,
            dest_uid=event.get("DestUniqueid") or None,
            member=event.get("MemberName") or None,
            interface=event.get("Interface") or None,
            hold_time=_number(event.get("HoldTime")),
            talk_time=_number(event.get("TalkTime")),
            reason=event.get("Reason") or None,
            position=_integer(event.get("Position")),
            caller_number=_caller_number(event.get("CallerIDNum")),
            linkedid=event.get("Linkedid") or None,
        )
        call = self._calls.setdefault((pbx, call_id), _Call())
        call.events[record.key] = record
        call.last_seen = max(call.last_seen, record.ts)
        if name in (CONNECT, COMPLETE) and record.dest_uid:
            self._agent_call[(pbx, record.dest_uid)] = call_id
        return {call_id}

    def _channel(self, pbx: str, uid: str, ts: float) -> ChannelFacts:
        known = self._channels.get((pbx, uid))
        if known is None:
            known = self._channels[(pbx, uid)] = ChannelFacts(last_seen=ts)
        known.last_seen = max(known.last_seen, ts)
        return known

    def _channel_event(self, pbx: str, name: str, event: AmiEventLike) -> set[str]:
        uid = event.get("Uniqueid")
        if not uid:
            return set()
        ts = self._timestamp(event)
        facts_of = self._channel(pbx, uid, ts)
        if name in _CALL_CLASS:
            facts_of.call_events_seen = True
        if name in ("HangupRequest", "SoftHangupRequest"):
            facts_of.hangup_requests.add(ts)
        elif name == "Hangup":
            facts_of.hungup_at = ts if facts_of.hungup_at is None else min(facts_of.hungup_at, ts)
        elif name == "Newexten":
            facts_of.last_newexten = ts if facts_of.last_newexten is None else max(facts_of.last_newexten, ts)
        elif name in ("Hold", "Unhold"):
            facts_of.hold_marks.add((ts, name == "Hold"))
        return self._calls_of(pbx, [uid], ts)

    def _transfer_event(self, pbx: str, name: str, event: AmiEventLike) -> set[str]:
        if (event.get("Result") or "").lower() != "success":
            return set()
        if name == "BlindTransfer":
            target = f"{event.get('Extension') or ''}@{event.get('Context') or ''}"
            parties = [event.get("TransfererUniqueid"), event.get("TransfereeUniqueid")]
        else:
            target = _attended_target(event)
            parties = [event.get(key) for key in _ATTENDED_PARTIES]
        ts = self._timestamp(event)
        uids = [uid for uid in parties if uid]
        for uid in uids:
            self._channel(pbx, uid, ts).transfers[ts] = target
        return self._calls_of(pbx, uids, ts)

    def _gap_completion(self, pbx: str, event: AmiEventLike) -> set[str]:
        completion = gap.from_event(pbx, event)
        call = self._calls.get((pbx, completion.call_id))
        if call is None:  # a call already forgotten (or never seen): nothing to complete
            return set()
        call.completions[(completion.attempt, completion.queue)] = completion
        return {completion.call_id}

    def _gap_attempt(self, pbx: str, event: AmiEventLike) -> set[str]:
        added = gap.from_event(pbx, event)
        assert added.entered_at is not None  # from_event requires it of this event
        call = self._calls.setdefault((pbx, added.call_id), _Call())
        call.added[(added.queue, added.entered_at)] = added
        # Remembered from when it was written, like any event: prune() counts from there.
        call.last_seen = max(call.last_seen, self._timestamp(event))
        return {added.call_id}

    def _calls_of(self, pbx: str, uids: list[str], ts: float) -> set[str]:
        """Calls a channel belongs to, as the caller or as a connected agent."""
        found: set[str] = set()
        for uid in uids:
            for call_id in (uid, self._agent_call.get((pbx, uid))):
                if call_id is not None and (call := self._calls.get((pbx, call_id))) is not None:
                    call.last_seen = max(call.last_seen, ts)
                    found.add(call_id)
        return found

    def _rederive(self, pbx: str, call_ids: set[str]) -> list[QueueAttempt]:
        changed: list[QueueAttempt] = []

        def channel(uid: str) -> ChannelFacts | None:
            return self._channels.get((pbx, uid))

        for call_id in sorted(call_ids):
            call = self._calls[(pbx, call_id)]
            fresh = derive_attempts(pbx, call_id, call.events.values(), channel)
            if call.added:
                fresh = gap_unseen.merge(fresh, call.added.values())
            if call.completions:
                fresh = [gap.apply(a, call.completions.get((a.attempt, a.queue))) for a in fresh]
            old = call.attempts
            changed.extend(a for i, a in enumerate(fresh) if i >= len(old) or old[i] != a)
            call.attempts = fresh
        return changed


def _attended_target(event: AmiEventLike) -> str:
    """The destination as queue_log's ATTENDEDTRANSFER writes it, so both sources agree."""
    dest_type = (event.get("DestType") or "").lower()
    if dest_type == "bridge":
        return f"BRIDGE|{event.get('DestBridgeUniqueid') or ''}"
    if dest_type == "app":
        return f"APP|{event.get('DestApp') or ''}"
    if dest_type == "link":
        return f"LINK|{event.get('LocalOneChannel') or ''}|{event.get('LocalTwoChannel') or ''}"
    return dest_type.upper() or "UNKNOWN"


def _number(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _integer(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _caller_number(raw: str | None) -> str | None:
    return raw if raw and raw != "<unknown>" else None
