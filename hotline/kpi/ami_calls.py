"""What the AMI projector remembers, and the pure function that turns it into attempts.

The projector (:mod:`hotline.kpi.from_ami`) only *records* facts: queue events of a call, keyed by
their identity, and a few order-free facts per channel (sets, minima, maxima). Every attempt is
then re-derived from all recorded facts, sorted by the AMI ``Timestamp``. That is what makes the
projection idempotent (a repeated event overwrites itself) and tolerant of any arrival order
(the derivation never looks at arrival order, only at timestamps).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt

JOIN: Final = "QueueCallerJoin"
LEAVE: Final = "QueueCallerLeave"
ABANDON: Final = "QueueCallerAbandon"
CALLED: Final = "AgentCalled"
RING_NO_ANSWER: Final = "AgentRingNoAnswer"
CONNECT: Final = "AgentConnect"
COMPLETE: Final = "AgentComplete"
QUEUE_EVENTS: Final = (JOIN, CALLED, RING_NO_ANSWER, LEAVE, ABANDON, CONNECT, COMPLETE)
# Ties on the timestamp (microseconds) are broken by the order Asterisk publishes them in.
_RANK: Final = {name: rank for rank, name in enumerate(QUEUE_EVENTS)}
_REASONS: Final = {"caller": facts.BY_CALLER, "agent": facts.BY_AGENT, "transfer": facts.BY_TRANSFER}


@dataclass(frozen=True, slots=True)
class QueueEventRecord:
    """The part of one app_queue event (Uniqueid = the caller) that the KPIs need."""

    name: str
    ts: float
    queue: str
    dest_uid: str | None = None
    member: str | None = None
    interface: str | None = None
    hold_time: float | None = None
    """``HoldTime``: seconds the caller waited in the queue (not agent hold)."""
    talk_time: float | None = None
    """``TalkTime``: answer -> end in seconds, agent hold included."""
    reason: str | None = None
    position: int | None = None
    caller_number: str | None = None
    linkedid: str | None = None

    @property
    def key(self) -> tuple[str, float, str, str | None]:
        """Identity of the event: feeding it again replaces it with itself."""
        return (self.name, self.ts, self.queue, self.dest_uid)


@dataclass(slots=True)
class ChannelFacts:
    """Order-free facts about one channel (a caller's or an agent's)."""

    last_seen: float
    call_events_seen: bool = False
    """A call-class event (Newchannel, Newstate, Hangup, *HangupRequest) of it reached us."""
    hangup_requests: set[float] = field(default_factory=set)
    hold_marks: set[tuple[float, bool]] = field(default_factory=set)
    """(timestamp, True for Hold / False for Unhold)."""
    transfers: dict[float, str] = field(default_factory=dict)
    """Successful transfers this channel took part in: timestamp -> target."""
    last_newexten: float | None = None
    hungup_at: float | None = None


ChannelLookup = Callable[[str], ChannelFacts | None]


@dataclass(slots=True)
class _Segment:
    """One stay in one queue: its join (None when the join was never seen) and later events."""

    queue: str
    join: QueueEventRecord | None
    events: list[QueueEventRecord] = field(default_factory=list)

    def first(self, name: str) -> QueueEventRecord | None:
        return next((e for e in self.events if e.name == name), None)


def derive_attempts(
    pbx: str, call_id: str, events: Iterable[QueueEventRecord], channel: ChannelLookup
) -> list[QueueAttempt]:
    """All attempts of one call, numbered in the order the caller entered queues."""
    segments: list[_Segment] = []
    current: dict[str, _Segment] = {}
    for event in sorted(events, key=lambda e: (e.ts, _RANK[e.name], e.dest_uid or "")):
        if event.name == JOIN:
            current[event.queue] = segment = _Segment(event.queue, event)
            segments.append(segment)
            continue
        segment_or_none = current.get(event.queue)
        if segment_or_none is None:
            # Joined before we were listening: still an attempt, never a lost call.
            segment_or_none = current[event.queue] = _Segment(event.queue, None)
            segments.append(segment_or_none)
        segment_or_none.events.append(event)
    return [
        _attempt(pbx, call_id, number, segment, channel, later_join=number < len(segments))
        for number, segment in enumerate(segments, start=1)
    ]


def _attempt(
    pbx: str, call_id: str, number: int, seg: _Segment, channel: ChannelLookup, *, later_join: bool
) -> QueueAttempt:
    everything = ([seg.join] if seg.join else []) + seg.events
    entered_at = seg.join.ts if seg.join else min(_estimated_entry(e) for e in seg.events)
    attempt = QueueAttempt(
        pbx=pbx,
        call_id=call_id,
        attempt=number,
        queue=seg.queue,
        linkedid=next((e.linkedid for e in everything if e.linkedid), None),
        caller_number=next((e.caller_number for e in everything if e.caller_number), None),
        entered_at=entered_at,
        position=seg.join.position if seg.join else None,
        outcome=facts.WAITING,
        ended_at=None,
        wait_s=None,
        agent=None,
        agent_interface=None,
        connected_at=None,
        handle_s=None,
        hold_s=None,
        completed_by=None,
        transfer_target=None,
        ring_no_answer=sum(1 for e in seg.events if e.name == RING_NO_ANSWER),
        source=facts.SOURCE_AMI,
    )
    connect, complete = seg.first(CONNECT), seg.first(COMPLETE)
    if connect or complete:
        _fill_answered(attempt, connect, complete, call_id, channel)
    elif abandon := seg.first(ABANDON):
        attempt.outcome = _abandon_or_timeout(channel(call_id), entered_at, abandon.ts)
        attempt.ended_at = abandon.ts
        attempt.wait_s = abandon.hold_time
    else:
        _fill_unconfirmed_exit(attempt, seg.first(LEAVE), channel(call_id), later_join=later_join)
    return attempt


def _estimated_entry(event: QueueEventRecord) -> float:
    waited = event.hold_time or 0.0
    talked = (event.talk_time or 0.0) if event.name == COMPLETE else 0.0
    return event.ts - waited - talked


def _fill_answered(
    attempt: QueueAttempt,
    connect: QueueEventRecord | None,
    complete: QueueEventRecord | None,
    call_id: str,
    channel: ChannelLookup,
) -> None:
    delivered = connect or complete
    assert delivered is not None  # the caller checked
    attempt.outcome = facts.ANSWERED
    attempt.agent = delivered.member
    attempt.agent_interface = delivered.interface
    attempt.wait_s = delivered.hold_time
    if connect:
        attempt.connected_at = connect.ts
    elif complete:
        attempt.connected_at = complete.ts - (complete.talk_time or 0.0)
    if complete:
        attempt.ended_at = complete.ts
        attempt.handle_s = complete.talk_time
        attempt.completed_by = _REASONS.get((complete.reason or "").lower())
    agent_facts = channel(delivered.dest_uid) if delivered.dest_uid else None
    start = attempt.connected_at or 0.0
    end = attempt.ended_at if attempt.ended_at is not None else math.inf
    for facts_of in (agent_facts, channel(call_id)):
        transfer = _transfer_within(facts_of, start, end)
        if transfer:
            attempt.completed_by = facts.BY_TRANSFER
            attempt.transfer_target = transfer[1]
            if attempt.ended_at is None:
                attempt.ended_at = transfer[0]
            break
    hold = _hold_seconds(agent_facts, start, attempt.ended_at)
    if attempt.handle_s is not None:
        # TalkTime is whole seconds (truncated) and hold is measured to the microsecond, so a call
        # that was on hold almost throughout could show hold > TalkTime: talk must not go negative.
        hold = min(hold, attempt.handle_s)
    attempt.hold_s = hold


def _transfer_within(
    channel_facts: ChannelFacts | None, start: float, end: float
) -> tuple[float, str] | None:
    if channel_facts is None:
        return None
    inside = sorted((ts, target) for ts, target in channel_facts.transfers.items() if start <= ts <= end)
    return inside[0] if inside else None


def _hold_seconds(agent_facts: ChannelFacts | None, start: float, end: float | None) -> float:
    """Sum of Hold -> Unhold intervals on the agent's channel during the conversation.

    An Unhold without a Hold before it (Asterisk sends one at a blind transfer) adds nothing;
    a Hold still open when the call ends counts until the end.
    """
    if agent_facts is None:
        return 0.0
    total = 0.0
    held_since: float | None = None
    for ts, is_hold in sorted(agent_facts.hold_marks):
        if ts < start or (end is not None and ts > end):
            continue
        if is_hold and held_since is None:
            held_since = ts
        elif not is_hold and held_since is not None:
            total += ts - held_since
            held_since = None
    if held_since is not None and end is not None:
        total += end - held_since
    # Epoch floats carry ~0.2 us of noise; AMI timestamps have 1 us resolution.
    return round(total, 6)


def _abandon_or_timeout(caller: ChannelFacts | None, entered_at: float, abandoned_at: float) -> str:
    """Tell a caller's abandon from a queue timeout; both arrive as QueueCallerAbandon.

    The caller's hang-up request (HangupRequest on a BYE, SoftHangupRequest on a hangup by
    action) is published before app_queue notices the caller is gone, so on an abandon it is
    timestamped at or before QueueCallerAbandon. On a timeout the channel is still alive at that
    moment. If no call-class event of the caller's channel is visible at all (an AMI user or an
    event filter without them), nothing tells them apart: keep Asterisk's own word, abandon.
    """
    if caller is None:
        return facts.ABANDONED
    if any(entered_at <= ts <= abandoned_at for ts in caller.hangup_requests):
        return facts.ABANDONED
    return facts.TIMEOUT if caller.call_events_seen else facts.ABANDONED


def _fill_unconfirmed_exit(
    attempt: QueueAttempt, leave: QueueEventRecord | None, caller: ChannelFacts | None, *, later_join: bool
) -> None:
    """No connect and no abandon: decide from what the caller's channel did afterwards."""
    if leave is not None:
        # QueueCallerLeave also comes microseconds before AgentConnect: only treat it as an exit
        # with a key when the channel visibly went on without an agent.
        went_on = later_join or (
            caller is not None
            and max(caller.last_newexten or -math.inf, caller.hungup_at or -math.inf) > leave.ts
        )
        if went_on:
            attempt.outcome = facts.EXIT_KEY
            attempt.ended_at = leave.ts
            attempt.wait_s = _whole_seconds_between(attempt.entered_at, leave.ts)
        return
    if caller is not None and caller.hungup_at is not None and caller.hungup_at > attempt.entered_at:
        # The caller's channel is gone and the queue never reported why (event lost or filtered).
        attempt.outcome = facts.ABANDONED
        attempt.ended_at = caller.hungup_at
        attempt.wait_s = _whole_seconds_between(attempt.entered_at, caller.hungup_at)


def _whole_seconds_between(start: float, end: float) -> float:
    # app_queue measures waits as time(NULL) - start: a difference of whole-second clocks.
    return float(math.floor(end) - math.floor(start))
