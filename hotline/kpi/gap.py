"""Attempts that ended while an AMI link was down, completed from queue_log or CDR (pure, no IO).

Events Asterisk sent while the link was down are gone for good, so a call that ended meanwhile
would stay ``waiting`` (or answered with no end) in the projection. After every (re)connect:

1. :func:`ended_during_gap`: of the attempts the projector still holds open, those whose caller
   channel is not among the channels Asterisk listed (CoreShowChannels) ended during the gap.
   A call still live stays open: AMI itself will tell how it ends.
2. :func:`from_queue_log` completes one from the PBX's queue_log (what app_queue wrote: the same
   fields as AMI, in whole seconds); else :func:`from_cdr` derives what the CDR file honestly
   tells (see there); else it stays open and is reported as unresolved.
3. The :class:`GapCompletion` travels as a synthetic event (:data:`EVENT`, :func:`to_headers`)
   through the durable event log, and the projector applies it (:func:`apply`) to the attempt it
   derives from the AMI events. So the live projection, the warm-up after a restart and
   ``hotline rebuild`` all read the same log and agree. The completion only fills what AMI did
   not see: once AMI's own events end the attempt, they win. Applying it twice changes nothing.
4. Attempts AMI never saw at all (the caller entered a queue during the gap: a new call, or the
   second queue of a call transferred meanwhile) are found by :mod:`hotline.kpi.gap_unseen` and
   travel as a *whole* attempt: the same fields plus the entry (``EnteredAt``, ``Position``,
   ``CallerIDNum``) in a :data:`EVENT_ATTEMPT` event, which the projector adds to the call.

An attempt completed this way keeps ``source='ami'`` and carries ``completed_from`` (``queue_log``
or ``cdr``); the KPIs count it like any other.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from hotline.kpi import facts
from hotline.kpi.cdr_csv import CdrRecord
from hotline.kpi.facts import QueueAttempt

EVENT: Final = "HotlineGapCompletion"
"""Name of the synthetic event written to the event log for each completion."""
EVENT_ATTEMPT: Final = "HotlineGapAttempt"
"""Name of the synthetic event carrying a whole attempt AMI never saw (entry included)."""
ENTRY_SLACK_S: Final = 2.0
"""queue_log and CDR times are whole seconds (``time(NULL)``); AMI's carry microseconds."""

_HEADERS: Final = (
    ("Uniqueid", "call_id"),
    ("Queue", "queue"),
    ("Attempt", "attempt"),
    ("CompletedFrom", "completed_from"),
    ("Outcome", "outcome"),
    ("EndedAt", "ended_at"),
    ("WaitS", "wait_s"),
    ("Agent", "agent"),
    ("AgentInterface", "agent_interface"),
    ("ConnectedAt", "connected_at"),
    ("HandleS", "handle_s"),
    ("CompletedBy", "completed_by"),
    ("TransferTarget", "transfer_target"),
    ("RingNoAnswer", "ring_no_answer"),
    ("EnteredAt", "entered_at"),
    ("Position", "position"),
    ("CallerIDNum", "caller_number"),
)
_NUMBERS: Final = frozenset({"ended_at", "wait_s", "connected_at", "handle_s", "entered_at"})
_CHANNEL_SUFFIX: Final = re.compile(r"-[0-9a-fA-F]{8}$")


class EventLike(Protocol):
    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class GapCompletion:
    """How one attempt ended, as read from queue_log or CDR. None: the file does not tell."""

    pbx: str
    call_id: str
    attempt: int
    queue: str
    completed_from: str
    outcome: str
    ended_at: float | None
    wait_s: float | None = None
    agent: str | None = None
    agent_interface: str | None = None
    connected_at: float | None = None
    handle_s: float | None = None
    completed_by: str | None = None
    transfer_target: str | None = None
    ring_no_answer: int | None = None
    entered_at: float | None = None
    """Set only for a whole attempt AMI never saw (:data:`EVENT_ATTEMPT`): when the caller joined."""
    position: int | None = None
    caller_number: str | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.pbx, self.call_id, self.attempt)

    @property
    def whole(self) -> bool:
        """A whole attempt AMI never saw, rather than the end of one it did."""
        return self.entered_at is not None


# --- which attempts ----------------------------------------------------------------------------


def is_open(attempt: QueueAttempt) -> bool:
    """Still waiting, or answered and not ended: the source has not told how the stay ended."""
    return attempt.outcome == facts.WAITING or (
        attempt.outcome == facts.ANSWERED and attempt.ended_at is None
    )


def ended_during_gap(open_attempts: Iterable[QueueAttempt], live_uniqueids: set[str]) -> list[QueueAttempt]:
    """The open attempts whose caller channel Asterisk no longer has."""
    return [a for a in open_attempts if is_open(a) and a.call_id not in live_uniqueids]


# --- from queue_log ----------------------------------------------------------------------------


def from_queue_log(attempt: QueueAttempt, logged: Iterable[QueueAttempt]) -> GapCompletion | None:
    """The end of ``attempt`` from the queue_log's attempts of the same call (None if not there yet).

    The queue_log's attempt is the one of the same call and queue whose entry is nearest; its
    numbering may differ (the tail read may start after the call's earlier attempts).
    """
    candidates = [
        q
        for q in logged
        if q.call_id == attempt.call_id
        and q.queue == attempt.queue
        and q.entered_at >= math.floor(attempt.entered_at) - ENTRY_SLACK_S
    ]
    if not candidates:
        return None
    found = min(candidates, key=lambda q: (abs(q.entered_at - attempt.entered_at), q.attempt))
    if is_open(found):
        return None
    return GapCompletion(
        pbx=attempt.pbx,
        call_id=attempt.call_id,
        attempt=attempt.attempt,
        queue=attempt.queue,
        completed_from=facts.FROM_QUEUE_LOG,
        outcome=found.outcome,
        ended_at=found.ended_at,
        wait_s=found.wait_s,
        agent=found.agent,
        connected_at=found.connected_at,
        handle_s=found.handle_s,
        completed_by=found.completed_by,
        transfer_target=found.transfer_target,
        ring_no_answer=found.ring_no_answer,
    )


# --- from CDR ----------------------------------------------------------------------------------


def interface_of(channel: str) -> str:
    """The interface of a channel: ``PJSIP/1001-0000002a`` -> ``PJSIP/1001``,
    ``Local/1001@agents-00000001;1`` -> ``Local/1001@agents``."""
    name = channel.split(";", 1)[0]
    return _CHANNEL_SUFFIX.sub("", name)


def from_cdr(
    attempt: QueueAttempt, records: Iterable[CdrRecord], agent_names: Mapping[str, str]
) -> GapCompletion | None:
    """What the CDR records of the caller's channel honestly tell about how ``attempt`` ended.

    - A ``Queue`` record of the attempt's queue with an agent channel and ``ANSWERED``: answered,
      ended at that record's end; the agent's interface from its channel, the name from the
      QueueStatus members (``agent_names``). Wait and handle time only from what AMI saw before
      the gap: handle = CDR end - the AgentConnect AMI saw, in whole seconds as app_queue counts
      (a connect that happened during the gap leaves both unknown). completed_by is ``transfer``
      when the caller's channel then went on into another queue (a blind transfer; the target is
      that record's ``dst@dcontext``), else unknown: a CDR does not say who hung up.
    - No answered record: the caller left the queue at the end of the attempt's last record;
      ``timeout`` when the channel then went on in the dialplan (a record of another application
      follows: the queue let the caller go; CDR cannot tell a timeout from leavewhenempty or a key),
      else ``abandoned`` (the caller hung up in the queue). Wait: that end - the entry.
    - No Queue record at all (no agent was ever rung, and the channel went on after the queue, so
      its one record names the last application): when that application is ``Hangup`` (Queue()
      followed by Hangup, as the shipped dialplan does) the queue let the caller go at its end:
      ``timeout``. After any other application the moment the queue ended is unknown: None.
    - Nothing of the call (yet): None.
    """
    calls = sorted((r for r in records if r.uniqueid == attempt.call_id), key=lambda r: (r.start, r.end))
    entry = math.floor(attempt.entered_at)
    mine = [r for r in calls if r.queue == attempt.queue and r.end >= entry - ENTRY_SLACK_S]
    base = GapCompletion(
        pbx=attempt.pbx,
        call_id=attempt.call_id,
        attempt=attempt.attempt,
        queue=attempt.queue,
        completed_from=facts.FROM_CDR,
        outcome=facts.WAITING,
        ended_at=None,
    )
    if not mine:
        covering = [r for r in calls if r.start <= attempt.entered_at + ENTRY_SLACK_S and r.end >= entry]
        if covering and all(r.lastapp.lower() == "hangup" for r in covering):
            return _left_queue(base, facts.TIMEOUT, max(r.end for r in covering), entry)
        return None
    answered = next((r for r in mine if r.dstchannel and r.disposition == "ANSWERED"), None)
    if answered is not None:
        interface = attempt.agent_interface or interface_of(answered.dstchannel)
        connected = attempt.connected_at
        handle = float(math.floor(answered.end) - math.floor(connected)) if connected is not None else None
        following = next((r for r in calls if r is not answered and r.start >= answered.end), None)
        transferred = following is not None and following.queue is not None
        return dataclasses.replace(
            base,
            outcome=facts.ANSWERED,
            ended_at=answered.end,
            wait_s=attempt.wait_s,
            agent=attempt.agent or agent_names.get(interface),
            agent_interface=interface,
            connected_at=connected,
            handle_s=handle if handle is not None and handle >= 0 else None,
            completed_by=facts.BY_TRANSFER if transferred else None,
            transfer_target=f"{following.dst}@{following.dcontext}" if transferred and following else None,
        )
    last = max(mine, key=lambda r: r.end)
    went_on = any(r is not last and r.start >= last.end and r.queue != attempt.queue for r in calls)
    return _left_queue(base, facts.TIMEOUT if went_on else facts.ABANDONED, last.end, entry)


def _left_queue(base: GapCompletion, outcome: str, left_at: float, entry: int) -> GapCompletion:
    return dataclasses.replace(
        base, outcome=outcome, ended_at=left_at, wait_s=float(max(0, math.floor(left_at) - entry))
    )


def agent_names(queue_members: Iterable[EventLike]) -> dict[str, str]:
    """Interface -> member name, from QueueStatus ``QueueMember`` events (Location, StateInterface)."""
    names: dict[str, str] = {}
    for member in queue_members:
        name = member.get("Name") or member.get("MemberName")
        if not name:
            continue
        for key in ("Location", "Interface", "StateInterface"):
            interface = member.get(key)
            if interface:
                names.setdefault(interface, name)
    return names


# --- the synthetic event -----------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def to_headers(completion: GapCompletion, at: float) -> tuple[tuple[str, str], ...]:
    """The event-log form of a completion (``Timestamp`` = when it was decided)."""
    return (
        ("Event", EVENT_ATTEMPT if completion.whole else EVENT),
        ("Timestamp", f"{at:.6f}"),
        *((header, _text(getattr(completion, name))) for header, name in _HEADERS),
    )


def _number(raw: str, header: str) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{EVENT}: {header} {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{EVENT}: {header} {raw!r} is not a time")
    return value


def from_event(pbx: str, event: EventLike) -> GapCompletion:
    """Read a completion (or a whole attempt) back from its event; ValueError naming the bad header."""
    raw = {name: (event.get(header) or "").strip() for header, name in _HEADERS}
    whole = event.get("Event") == EVENT_ATTEMPT
    if whole and not raw["entered_at"]:
        raise ValueError(f"{EVENT_ATTEMPT} without EnteredAt")
    for required in ("call_id", "queue", "attempt", "completed_from", "outcome"):
        if not raw[required]:
            header = next(h for h, n in _HEADERS if n == required)
            raise ValueError(f"{EVENT} without {header}")
    if raw["completed_from"] not in facts.COMPLETED_FROM:
        raise ValueError(f"{EVENT}: CompletedFrom {raw['completed_from']!r} is not queue_log or cdr")
    if raw["outcome"] not in facts.OUTCOMES or raw["outcome"] == facts.WAITING:
        raise ValueError(f"{EVENT}: Outcome {raw['outcome']!r} is not an end of an attempt")
    if raw["completed_by"] and raw["completed_by"] not in facts.COMPLETED_BY:
        raise ValueError(f"{EVENT}: CompletedBy {raw['completed_by']!r} is unknown")
    try:
        attempt = int(raw["attempt"])
        rung = int(raw["ring_no_answer"]) if raw["ring_no_answer"] else None
        position = int(raw["position"]) if raw["position"] else None
    except ValueError:
        raise ValueError(f"{EVENT}: Attempt, RingNoAnswer or Position is not a whole number") from None
    if attempt < 1 or (rung is not None and rung < 0) or (position is not None and position < 0):
        raise ValueError(f"{EVENT}: Attempt {attempt}, RingNoAnswer {rung} or Position out of range")
    times = {name: _number(raw[name], name) for name in _NUMBERS}
    return GapCompletion(
        pbx=pbx,
        call_id=raw["call_id"],
        attempt=attempt,
        queue=raw["queue"],
        completed_from=raw["completed_from"],
        outcome=raw["outcome"],
        ended_at=times["ended_at"],
        wait_s=times["wait_s"],
        agent=raw["agent"] or None,
        agent_interface=raw["agent_interface"] or None,
        connected_at=times["connected_at"],
        handle_s=times["handle_s"],
        completed_by=raw["completed_by"] or None,
        transfer_target=raw["transfer_target"] or None,
        ring_no_answer=rung,
        entered_at=times["entered_at"] if whole else None,
        position=position,
        caller_number=raw["caller_number"] or None,
    )


# --- applying it -------------------------------------------------------------------------------


def apply(attempt: QueueAttempt, completion: GapCompletion | None) -> QueueAttempt:
    """``attempt`` (as derived from AMI) completed by ``completion`` where AMI did not see the end.

    AMI wins: an attempt AMI saw end is returned as it is. A waiting attempt takes the whole end
    from the completion; an answered one keeps what AMI saw of the connect (agent, wait, connect
    time) and takes the end. Agent hold during the gap is unknown, so an answered attempt
    completed this way has ``hold_s`` None (its talk time is then its handle time).
    """
    if completion is None or completion.whole or completion.queue != attempt.queue or not is_open(attempt):
        return attempt
    if attempt.outcome == facts.ANSWERED:
        if completion.outcome != facts.ANSWERED or completion.ended_at is None:
            return attempt
        ended = dataclasses.replace(
            attempt,
            ended_at=completion.ended_at,
            handle_s=completion.handle_s,
            hold_s=None,
            completed_by=completion.completed_by,
            transfer_target=completion.transfer_target,
            agent=attempt.agent or completion.agent,
            agent_interface=attempt.agent_interface or completion.agent_interface,
        )
    elif completion.outcome == facts.ANSWERED:
        ended = dataclasses.replace(
            attempt,
            outcome=facts.ANSWERED,
            ended_at=completion.ended_at,
            wait_s=completion.wait_s,
            agent=completion.agent,
            agent_interface=completion.agent_interface,
            connected_at=completion.connected_at,
            handle_s=completion.handle_s,
            hold_s=None,
            completed_by=completion.completed_by,
            transfer_target=completion.transfer_target,
        )
    else:
        ended = dataclasses.replace(
            attempt, outcome=completion.outcome, ended_at=completion.ended_at, wait_s=completion.wait_s
        )
    # AMI counted the agents rung before the gap, queue_log may know them all: the larger is right.
    ended.ring_no_answer = max(attempt.ring_no_answer, completion.ring_no_answer or 0)
    ended.completed_from = completion.completed_from
    return ended


__all__ = [
    "ENTRY_SLACK_S",
    "EVENT",
    "EVENT_ATTEMPT",
    "GapCompletion",
    "agent_names",
    "apply",
    "ended_during_gap",
    "from_cdr",
    "from_event",
    "from_queue_log",
    "interface_of",
    "is_open",
    "to_headers",
]
