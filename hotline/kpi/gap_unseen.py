"""Queue attempts AMI never saw because the caller entered the queue while the link was down (pure).

:mod:`hotline.kpi.gap` completes the attempts AMI saw begin. Two kinds of attempt leave no trace
on AMI at all and are found here instead:

1. a call that entered AND left a queue entirely inside the gap: the projector holds nothing of it;
2. a further attempt of a call AMI did see: the caller went on into another queue during the gap
   (a blind transfer from the agent, or the dialplan after a timeout). queue_log writes a second
   ENTERQUEUE of the same callid; AMI's attempt 1 is completed by :mod:`hotline.kpi.gap`, and
   attempt 2 must be added under the same source, because the rollups count one source per call
   (:func:`hotline.rollup.contrib.effective`: AMI rows win over queue_log rows).

The :class:`Window` runs from the last event the old connection delivered for the PBX to the
resync. :func:`from_queue_log` takes every queue_log attempt that entered in it, has ended, and is
not an attempt already known of the call (AMI's attempts, from the projector or the store: same
queue, entries within :data:`~hotline.kpi.gap.ENTRY_SLACK_S`), as a *whole* :class:`GapCompletion`
numbered after the call's known attempts. The projector adds it (:func:`merge`) as an AMI attempt
with ``completed_from`` set; an AMI attempt of the same stay, should one turn up, wins.
:func:`from_cdr` is the fallback when the PBX has no queue_log (see there for what a CDR can't say).
A CDR stay begins when the caller's channel was created (before the IVR), so its entry is no match
for AMI's queue join: a stay read from the CDR is told from a known attempt by overlap instead
(:func:`cdr_same_stay`), both when it is read and when the projector merges it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hotline.kpi import facts
from hotline.kpi.cdr_csv import CdrRecord
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.gap import ENTRY_SLACK_S, GapCompletion, interface_of, is_open

Known = Mapping[str, Sequence[QueueAttempt]]
"""call id -> the AMI attempts already known of the call (projector and store)."""


@dataclass(frozen=True, slots=True)
class Window:
    """The gap of one PBX: from the last event the old connection delivered to the resync (epoch s)."""

    since: float
    until: float

    def holds(self, entered_at: float) -> bool:
        """An entry (whole seconds in queue_log) that may have happened while the link was down."""
        return math.floor(self.since) - ENTRY_SLACK_S <= entered_at <= self.until

    def closes(self, ended_at: float) -> bool:
        """An end read from the CDR (whole seconds) that may have happened while the link was down:
        :func:`from_cdr` takes the stays ending so, so their calls are the ones to look up as known."""
        return self.since - ENTRY_SLACK_S <= ended_at <= self.until + ENTRY_SLACK_S


@dataclass(slots=True)
class Unseen:
    """What one file says of the attempts AMI never saw."""

    attempts: list[GapCompletion] = field(default_factory=list)
    """Whole attempts to add, numbered after each call's known ones."""
    unfinished: list[str] = field(default_factory=list)
    """Call ids with an attempt that entered in the window and has no end in the file yet."""


def same_stay(entered_at: float, queue: str, known: QueueAttempt) -> bool:
    """Whether an entry read from a file (whole seconds) is the known attempt's own entry."""
    return queue == known.queue and abs(entered_at - math.floor(known.entered_at)) <= ENTRY_SLACK_S


def cdr_same_stay(started_at: float, ended_at: float | None, queue: str, known: QueueAttempt) -> bool:
    """Whether a stay read from the CDR (its first record's start to its end, whole seconds) is the
    known attempt's own: same queue, and the two overlap (within the slack).

    The start is the caller channel's creation for a call's first queue, so it may precede the join
    by the whole IVR: the entries are no match. A known attempt still open is completed from the
    same records (:func:`hotline.kpi.gap.from_cdr`), so every later stay of its queue is its own.
    """
    if queue != known.queue:
        return False
    known_end = known.ended_at if known.ended_at is not None else math.inf
    stay_end = ended_at if ended_at is not None else math.inf
    return started_at <= known_end + ENTRY_SLACK_S and stay_end >= known.entered_at - ENTRY_SLACK_S


def from_queue_log(logged: Iterable[QueueAttempt], known: Known, window: Window) -> Unseen:
    """The queue_log attempts that entered during ``window`` and are no known attempt of their call."""
    found = Unseen()
    fresh: dict[str, list[QueueAttempt]] = {}
    for attempt in logged:
        if not window.holds(attempt.entered_at):
            continue
        mine = known.get(attempt.call_id, ())
        if any(same_stay(attempt.entered_at, attempt.queue, k) for k in mine):
            continue
        if is_open(attempt):
            found.unfinished.append(attempt.call_id)
            continue
        fresh.setdefault(attempt.call_id, []).append(attempt)
    for call_id, attempts in sorted(fresh.items()):
        first = max((k.attempt for k in known.get(call_id, ())), default=0) + 1
        for number, logged_attempt in enumerate(sorted(attempts, key=lambda a: a.entered_at), first):
            found.attempts.append(_whole(logged_attempt, number))
    found.unfinished.sort()
    return found


def _whole(logged: QueueAttempt, number: int) -> GapCompletion:
    return GapCompletion(
        pbx=logged.pbx,
        call_id=logged.call_id,
        attempt=number,
        queue=logged.queue,
        completed_from=facts.FROM_QUEUE_LOG,
        outcome=logged.outcome,
        ended_at=logged.ended_at,
        wait_s=logged.wait_s,
        agent=logged.agent,
        connected_at=logged.connected_at,
        handle_s=logged.handle_s,
        completed_by=logged.completed_by,
        transfer_target=logged.transfer_target,
        ring_no_answer=logged.ring_no_answer,
        entered_at=logged.entered_at,
        position=logged.position,
        caller_number=logged.caller_number,
    )


def from_cdr(
    pbx: str, records: Iterable[CdrRecord], known: Known, window: Window, agent_names: Mapping[str, str]
) -> Unseen:
    """What the CDR file can honestly tell of the queue stays AMI never saw.

    A stay is a run of a call's ``Queue`` records of one queue (cdr_csv writes one per agent
    dialled). Only stays whose records all name an agent channel (``dstchannel``) are taken: they
    prove the caller was in that queue and who was rung. A Queue() that rang nobody leaves one
    record naming the last application of the channel, which tells neither the queue's end nor,
    after a Hangup, even which queue it was: such calls are left to queue_log. A stay is taken when
    it ended in the window (:meth:`Window.closes`) and is no known attempt of the call
    (:func:`cdr_same_stay`).

    - answered (a record ``ANSWERED``): the agent's interface from its channel, the name from
      QueueStatus (``agent_names``), ended at that record's end; ``completed_by`` transfer when
      the caller then went on into another queue, else unknown (a CDR does not say who hung up);
    - otherwise ended at the last record's end: ``timeout`` when the channel went on in the
      dialplan, else ``abandoned``.

    What a CDR cannot say stays unknown: the queue entry (the first record starts when the
    channel was created, before the IVR, so ``entered_at`` is that start: early by the IVR time
    for a call's first queue, exact after a transfer), hence the wait, the moment of the connect
    and the handle time (the record's answer time is the caller channel's own), and the agents
    rung without answering (a ring cancelled by the caller's hang-up makes a record too).
    Records appear only once the caller's channel has ended, so every stay found has ended.
    """
    calls: dict[str, list[CdrRecord]] = {}
    for record in records:
        calls.setdefault(record.uniqueid, []).append(record)
    found = Unseen()
    for call_id, mine in sorted(calls.items()):
        ordered = sorted(mine, key=lambda r: (r.start, r.end))
        stays = [
            stay
            for stay in _stays(ordered)
            if window.closes(stay[-1].end)
            and all(r.dstchannel for r in stay)
            and not any(_is_known(stay, k) for k in known.get(call_id, ()))
        ]
        first = max((k.attempt for k in known.get(call_id, ())), default=0) + 1
        for number, stay in enumerate(stays, first):
            found.attempts.append(_cdr_stay(pbx, call_id, number, stay, ordered, agent_names))
    return found


def _stays(ordered: Sequence[CdrRecord]) -> list[list[CdrRecord]]:
    stays: list[list[CdrRecord]] = []
    current: list[CdrRecord] = []
    for record in ordered:
        if record.queue is not None and current and current[-1].queue == record.queue:
            current.append(record)
            continue
        if current:
            stays.append(current)
        current = [record] if record.queue is not None else []
    if current:
        stays.append(current)
    return stays


def _is_known(stay: Sequence[CdrRecord], known: QueueAttempt) -> bool:
    queue = stay[0].queue
    return queue is not None and cdr_same_stay(stay[0].start, stay[-1].end, queue, known)


def _cdr_stay(
    pbx: str,
    call_id: str,
    number: int,
    stay: Sequence[CdrRecord],
    ordered: Sequence[CdrRecord],
    agent_names: Mapping[str, str],
) -> GapCompletion:
    queue = stay[0].queue
    assert queue is not None  # a stay is made of Queue records
    last = stay[-1]
    following = next((r for r in ordered if r.start >= last.end and r not in stay), None)
    base = GapCompletion(
        pbx=pbx,
        call_id=call_id,
        attempt=number,
        queue=queue,
        completed_from=facts.FROM_CDR,
        outcome=facts.ABANDONED,
        ended_at=last.end,
        entered_at=float(math.floor(stay[0].start)),
    )
    answered = next((r for r in stay if r.disposition == "ANSWERED"), None)
    if answered is None:
        return dataclasses.replace(base, outcome=facts.TIMEOUT if following is not None else facts.ABANDONED)
    interface = interface_of(answered.dstchannel)
    transferred = following is not None and following.queue is not None and following.queue != queue
    return dataclasses.replace(
        base,
        outcome=facts.ANSWERED,
        ended_at=answered.end,
        agent=agent_names.get(interface),
        agent_interface=interface,
        completed_by=facts.BY_TRANSFER if transferred else None,
        transfer_target=f"{following.dst}@{following.dcontext}" if transferred and following else None,
    )


def to_attempt(completion: GapCompletion) -> QueueAttempt:
    """The AMI attempt a whole completion stands for (hold unknown: None)."""
    assert completion.entered_at is not None, "only a whole attempt carries its entry"
    return QueueAttempt(
        pbx=completion.pbx,
        call_id=completion.call_id,
        attempt=completion.attempt,
        queue=completion.queue,
        linkedid=None,
        caller_number=completion.caller_number,
        entered_at=completion.entered_at,
        position=completion.position,
        outcome=completion.outcome,
        ended_at=completion.ended_at,
        wait_s=completion.wait_s,
        agent=completion.agent,
        agent_interface=completion.agent_interface,
        connected_at=completion.connected_at,
        handle_s=completion.handle_s,
        hold_s=None,
        completed_by=completion.completed_by,
        transfer_target=completion.transfer_target,
        ring_no_answer=completion.ring_no_answer or 0,
        source=facts.SOURCE_AMI,
        completed_from=completion.completed_from,
    )


def merge(derived: list[QueueAttempt], added: Iterable[GapCompletion]) -> list[QueueAttempt]:
    """The call's attempts from AMI plus the whole attempts added after gaps, numbered by entry.

    An added attempt of a stay AMI did see (same queue, entry within the slack; for one read from
    the CDR, overlapping AMI's: :func:`cdr_same_stay`) is dropped: AMI wins. The gap lies between
    the old connection's events and the new one's, so numbering by entry keeps every number
    already given (attempts before the gap keep theirs, later ones follow).
    """
    extra = [
        to_attempt(c) for c in added if c.entered_at is not None and not any(_seen(c, d) for d in derived)
    ]
    if not extra:
        return derived
    rows = sorted([*derived, *extra], key=lambda a: a.entered_at)
    for number, attempt in enumerate(rows, 1):
        attempt.attempt = number
    return rows


def _seen(added: GapCompletion, derived: QueueAttempt) -> bool:
    assert added.entered_at is not None
    if same_stay(added.entered_at, added.queue, derived):
        return True
    return added.completed_from == facts.FROM_CDR and cdr_same_stay(
        added.entered_at, added.ended_at, added.queue, derived
    )


__all__ = [
    "Known",
    "Unseen",
    "Window",
    "cdr_same_stay",
    "from_cdr",
    "from_queue_log",
    "merge",
    "same_stay",
    "to_attempt",
]
