"""Agent sessions as closed and open spans, and the pure derivation of spans from recorded facts.

An agent (MemberName, else the member interface) has, per PBX and source, three kinds of span:

- ``login``: the agent is a member of at least one queue;
- ``pause``: the agent is a member of at least one queue and paused in **every** queue it is a
  member of (as the CTI shows "not ready"), with the reason of the most recent of those pauses.
  A pause in only some of the agent's queues (a per-queue pause, e.g. a supervisor pausing the
  agent in one queue) keeps the agent taking calls from the others: it is not a pause of the
  agent and counts as available time;
- ``call``: an ACD call the agent handled, answer -> end (hold included), from the queue attempts
  (:func:`call_span`), so its length is exactly the attempt's ``handle_s`` used by AHT.

Login and pause times are **whole seconds**: Asterisk keeps a member's LoginTime and LastPause,
and writes queue_log, with ``time(NULL)``; AMI events are floored to the second the same way, so
both sources give the same spans (see :mod:`hotline.kpi.agent_reconcile`). A call span ends on a
whole second and lasts the attempt's ``handle_s``, so an AMI call may start on a fraction.

The projectors (:mod:`hotline.kpi.agent_sessions` for AMI, :mod:`hotline.kpi.agent_queue_log`
for queue_log) only *record* facts as :class:`AgentMarks` (sets keyed by second, so a fact fed
twice changes nothing); :func:`derive_spans` turns the facts of one agent into spans, sorted by
time and never by arrival, which makes the projection idempotent and order-tolerant.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt

LOGIN: Final = "login"
PAUSE: Final = "pause"
CALL: Final = "call"
KINDS: Final = (LOGIN, PAUSE, CALL)

# Ranks break ties between facts of one instant in the order app_queue produces them.
_ADD, _PAUSE, _UNPAUSE, _SEEN_UNPAUSED, _REMOVE = range(5)


@dataclass(frozen=True, slots=True)
class AgentSpan:
    """One span of an agent; ``ended_at`` None while it is still open."""

    pbx: str
    agent: str
    kind: str
    started_at: float
    ended_at: float | None
    reason: str | None = None
    """A pause's reason ('' when none was given, None when unknown); a call's queue."""
    ref: str = ""
    """Identity within (pbx, source, kind, agent): a call's ``call_id#attempt``; else the start second."""
    interface: str | None = None
    source: str = facts.SOURCE_AMI

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.pbx, self.source, self.kind, self.agent, self.ref)

    @property
    def length(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


def session_ref(started_at: float) -> str:
    return str(int(started_at))


def call_span(attempt: QueueAttempt) -> AgentSpan | None:
    """The call span of an answered attempt: ``[end - handle_s, end]``, or open from the connect.

    The end is the attempt's end second; the start keeps ``handle_s`` whole, so AMI's call spans
    (``handle_s`` to the microsecond) start at a fraction of a second, queue_log's on a second."""
    if attempt.outcome != facts.ANSWERED or not attempt.agent:
        return None
    if attempt.handle_s is not None and attempt.ended_at is not None:
        end: float | None = float(math.floor(attempt.ended_at))
        start = end - attempt.handle_s  # type: ignore[operator]  # end is a float here
    elif attempt.connected_at is not None:
        end, start = None, float(math.floor(attempt.connected_at))
    else:
        return None
    return AgentSpan(
        pbx=attempt.pbx,
        agent=attempt.agent,
        kind=CALL,
        started_at=start,
        ended_at=end,
        reason=attempt.queue,
        ref=f"{attempt.call_id}#{attempt.attempt}",
        interface=attempt.agent_interface,
        source=attempt.source,
    )


# --- recorded facts --------------------------------------------------------------------------


@dataclass(slots=True)
class Fact:
    """One recorded fact (an add, a pause, ...) of the second it is filed under."""

    order: float
    """Order within its second: the event's own timestamp (AMI) or line number (queue_log)."""
    exact: bool
    """Seen as it happened (an explicit event or line), not implied by a later state report."""
    reason: str | None = None

    @classmethod
    def at(cls, second: int, order: float | None = None, reason: str | None = None) -> Fact:
        """An exact fact when its ``order`` is known, else one implied at the start of ``second``."""
        return cls(float(second) if order is None else order, order is not None, reason)


def _put(facts_of: dict[int, Fact], second: int, order: float | None, reason: str | None = None) -> bool:
    """Record a fact; True when it added or changed something. An exact fact beats an implied one."""
    known = facts_of.get(second)
    if known is not None and order is None and (reason is None or known.reason is not None):
        return False  # the usual case: a state report repeating what is known
    fact = Fact.at(second, order, reason)
    if known is None:
        facts_of[second] = fact
        return True
    if fact.exact and (not known.exact or fact.order > known.order):
        changed = (known.order, known.exact, known.reason) != (fact.order, True, fact.reason)
        if reason is None:
            fact.reason = known.reason
        facts_of[second] = fact
        return changed
    if known.reason is None and reason is not None:
        known.reason = reason  # an implied fact may still tell the reason
        return True
    return False


@dataclass(slots=True)
class QueueMarks:
    """What is known of one agent in one queue."""

    adds: dict[int, Fact] = field(default_factory=dict)
    removes: dict[int, Fact] = field(default_factory=dict)
    pauses: dict[int, Fact] = field(default_factory=dict)
    unpauses: dict[int, Fact] = field(default_factory=dict)
    seen_unpaused: dict[int, int] = field(default_factory=dict)
    """Asterisk's LastPause -> the first second a report showed the member unpaused with it: a
    pause that started at or before LastPause had ended by then (an unpause we did not see)."""

    def add(self, second: int, order: float | None = None) -> bool:
        return _put(self.adds, second, order)

    def remove(self, second: int, order: float | None = None) -> bool:
        return _put(self.removes, second, order)

    def pause(self, second: int, reason: str | None, order: float | None = None) -> bool:
        return _put(self.pauses, second, order, reason)

    def unpause(self, second: int, order: float | None = None) -> bool:
        return _put(self.unpauses, second, order)

    def unpaused_since(self, last_pause: int, second: int) -> bool:
        known = self.seen_unpaused.get(last_pause)
        if known is not None and known <= second:
            return False
        self.seen_unpaused[last_pause] = second
        return True


@dataclass(slots=True)
class AgentMarks:
    """Everything recorded of one agent on one PBX (one source)."""

    queues: dict[str, QueueMarks] = field(default_factory=dict)
    pause_all: dict[int, Fact] = field(default_factory=dict)
    """PAUSEALL, and a pause stored before a restart: paused in every queue it is a member of."""
    unpause_all: dict[int, Fact] = field(default_factory=dict)
    assumed_since: int | None = None
    """A login stored before a restart, in queues not known yet: it holds until a known membership begins."""
    absent: dict[int, Fact] = field(default_factory=dict)
    """A complete QueueStatus answer did not list the agent in any queue: a member of none then."""
    interface: str | None = None
    floor: int | None = None
    """Facts before this second were folded (:func:`fold`); spans ending before it are final."""
    floor_starts: dict[str, int] = field(default_factory=dict)
    """The true start of the login / pause span that was open at ``floor``."""

    def queue(self, name: str) -> QueueMarks:
        marks = self.queues.get(name)
        if marks is None:
            marks = self.queues[name] = QueueMarks()
        return marks


# --- derivation ------------------------------------------------------------------------------

_Interval = tuple[int, int | None]
_PauseInterval = tuple[int, int | None, str | None]


_TIME_ORDER: Final = operator.itemgetter(0, 1, 2)
"""(second, order, rank) of a timeline row."""


def _timeline(marks: QueueMarks, agent: AgentMarks) -> list[tuple[int, float, int, str | None, int]]:
    """(second, order, rank, reason, last_pause) of every fact of the queue, in time order."""
    rows: list[tuple[int, float, int, str | None, int]] = []
    for facts_of, rank in (
        (marks.adds, _ADD),
        (marks.removes, _REMOVE),
        (marks.pauses, _PAUSE),
        (marks.unpauses, _UNPAUSE),
        (agent.pause_all, _PAUSE),
        (agent.unpause_all, _UNPAUSE),
        (agent.absent, _REMOVE),
    ):
        rows.extend((second, f.order, rank, f.reason, 0) for second, f in facts_of.items())
    rows.extend(
        (second, float(second), _SEEN_UNPAUSED, None, last) for last, second in marks.seen_unpaused.items()
    )
    rows.sort(key=_TIME_ORDER)  # never by reason: a None and a str do not compare
    return rows


def queue_intervals(marks: QueueMarks, agent: AgentMarks) -> tuple[list[_Interval], list[_PauseInterval]]:
    """Membership and pause intervals of one queue (end None: still open)."""
    members: list[_Interval] = []
    pauses: list[_PauseInterval] = []
    since: int | None = None
    paused: tuple[int, str | None] | None = None
    for second, _, rank, reason, last_pause in _timeline(marks, agent):
        if rank == _ADD:
            since = second if since is None else since
        elif since is None:
            continue  # not a member: a pause or a removal means nothing here
        elif rank == _REMOVE:
            members.append((since, second))
            if paused is not None:
                pauses.append((paused[0], second, paused[1]))
            since, paused = None, None
        elif rank == _PAUSE:
            if paused is None:
                paused = (second, reason)
            elif reason is not None and paused[1] is not None and reason != paused[1]:
                pauses.append((paused[0], second, paused[1]))  # paused again with another reason
                paused = (second, reason)
            elif paused[1] is None:
                paused = (paused[0], reason)
        elif paused is not None and (rank == _UNPAUSE or paused[0] <= last_pause):
            pauses.append((paused[0], second, paused[1]))
            paused = None
    if since is not None:
        members.append((since, None))
    if paused is not None:
        pauses.append((paused[0], None, paused[1]))
    return members, pauses


@dataclass(slots=True)
class _State:
    logged: bool
    pause_reason: str | None
    paused: bool


def _timepoints(
    per_queue: dict[str, tuple[list[_Interval], list[_PauseInterval]]],
) -> list[tuple[int, list[tuple[int, str, int, str | None]]]]:
    """Each moment something changes, with its changes: (step, queue, pause start, reason).

    Step -2/+2: a membership ends/begins; -1/+1: a pause ends/begins. Ends come first at an
    instant, so a pause followed by another of the same second keeps the second one.
    """
    changes: dict[int, list[tuple[int, str, int, str | None]]] = defaultdict(list)
    for queue, (members, pauses) in per_queue.items():
        for start, end, reason, step in [
            *((s, e, None, 2) for s, e in members),
            *((s, e, r, 1) for s, e, r in pauses),
        ]:
            if end is not None and end <= start:
                continue  # e.g. an add and a remove of one second: nothing happened in between
            changes[start].append((step, queue, start, reason))
            if end is not None:
                changes[end].append((-step, queue, start, reason))
    return [(t, sorted(changes[t], key=lambda c: c[0])) for t in sorted(changes)]


def _states(
    per_queue: dict[str, tuple[list[_Interval], list[_PauseInterval]]],
) -> list[tuple[int, _State]]:
    """The agent's state from each moment on: one sweep over the queues' changes."""
    members: set[str] = set()
    paused: dict[str, tuple[int, str | None]] = {}
    out: list[tuple[int, _State]] = []
    for t, changes in _timepoints(per_queue):
        for step, queue, start, reason in changes:
            if step == 2:
                members.add(queue)
            elif step == -2:
                members.discard(queue)
            elif step == 1:
                paused[queue] = (start, reason)
            else:
                paused.pop(queue, None)
        held = [(start, queue, reason) for queue, (start, reason) in paused.items() if queue in members]
        if not members or len(held) < len(members):
            out.append((t, _State(bool(members), None, False)))
            continue
        # The reason of the most recent pause, as the CTI shows it (ties: the first queue by name).
        latest = min(held, key=lambda p: (-p[0], p[1]))
        out.append((t, _State(True, latest[2], True)))
    return out


_ASSUMED: Final = "\0assumed"
"""The stand-in queue of a login kept from before a restart (its queues not known yet)."""


def _assumed(
    marks: AgentMarks, per_queue: dict[str, tuple[list[_Interval], list[_PauseInterval]]]
) -> QueueMarks:
    """A stored open login: a member of an unknown queue from its start until the first known
    membership begins (or a complete QueueStatus answer lists the agent nowhere)."""
    assert marks.assumed_since is not None
    pseudo = QueueMarks()
    pseudo.add(marks.assumed_since)
    ends = [members[0][0] for members, _ in per_queue.values() if members]
    ends += [second for second in marks.absent if second >= marks.assumed_since]
    if ends:
        pseudo.remove(min(ends))
    return pseudo


def derive_spans(
    pbx: str, agent: str, marks: AgentMarks, *, source: str = facts.SOURCE_AMI
) -> list[AgentSpan]:
    """The login and pause spans of one agent from everything recorded of it."""
    per_queue = {q: queue_intervals(m, marks) for q, m in marks.queues.items() if m.adds}
    if marks.assumed_since is not None:
        per_queue[_ASSUMED] = queue_intervals(_assumed(marks, per_queue), marks)
    spans: list[AgentSpan] = []
    login: int | None = None
    pause: tuple[int, str | None] | None = None

    def close(kind: str, start: int, end: int | None, reason: str | None = None) -> None:
        if end is not None and end <= start:
            return  # a span of no length (two facts of one second) carries no time
        spans.append(
            AgentSpan(pbx, agent, kind, float(start), None if end is None else float(end), reason,
                      session_ref(start), marks.interface, source)
        )  # fmt: skip

    for t, state in _states(per_queue):
        if pause is not None and (not state.paused or state.pause_reason != pause[1]):
            close(PAUSE, pause[0], t, pause[1])
            pause = None
        if login is not None and not state.logged:
            close(LOGIN, login, t)
            login = None
        if login is None and state.logged:
            login = t
        if pause is None and state.paused:
            pause = (t, state.pause_reason)
    if login is not None:
        close(LOGIN, login, None)
    if pause is not None:
        close(PAUSE, pause[0], None, pause[1])
    return _after_floor(spans, marks)


def _after_floor(spans: list[AgentSpan], marks: AgentMarks) -> list[AgentSpan]:
    """Drop spans that ended before the fold; give the spans open across it their true start."""
    if marks.floor is None:
        return spans
    kept: list[AgentSpan] = []
    for span in spans:
        if span.ended_at is not None and span.ended_at <= marks.floor:
            continue
        true_start = marks.floor_starts.get(span.kind)
        if true_start is not None and span.started_at <= marks.floor and true_start < span.started_at:
            span = AgentSpan(
                span.pbx, span.agent, span.kind, float(true_start), span.ended_at, span.reason,
                session_ref(true_start), span.interface, span.source,
            )  # fmt: skip
        kept.append(span)
    return kept


def fold(pbx: str, agent: str, marks: AgentMarks, before: int, *, source: str = facts.SOURCE_AMI) -> None:
    """Forget the facts of ``marks`` older than ``before``, keeping what is needed from then on.

    Each queue keeps the add of a membership still open at ``before`` and the start (and reason)
    of a pause still open then; the true starts of the agent's login and pause spans open across
    ``before`` are remembered, so later derivations give the same spans (same keys) as before.
    """
    if marks.floor is not None and before <= marks.floor:
        return
    open_across = {
        span.kind: int(span.started_at)
        for span in derive_spans(pbx, agent, marks, source=source)
        if span.started_at < before and (span.ended_at is None or span.ended_at > before)
    }
    for name, queue in list(marks.queues.items()):
        members, pauses = queue_intervals(queue, marks)
        kept = QueueMarks()
        for start, end in members:
            if start < before and (end is None or end >= before):
                kept.adds[start] = queue.adds.get(start) or Fact(float(start), False)
        for start, end, reason in pauses:
            if start < before and (end is None or end >= before):
                kept.pauses[start] = Fact(float(start), False, reason)
        for facts_of, into in (
            (queue.adds, kept.adds),
            (queue.removes, kept.removes),
            (queue.pauses, kept.pauses),
            (queue.unpauses, kept.unpauses),
        ):
            into.update({s: f for s, f in facts_of.items() if s >= before})
        kept.seen_unpaused = {p: s for p, s in queue.seen_unpaused.items() if s >= before}
        if kept.adds or kept.removes:
            marks.queues[name] = kept
        else:
            del marks.queues[name]
    for facts_of in (marks.pause_all, marks.unpause_all, marks.absent):
        for second in [s for s in facts_of if s < before]:
            del facts_of[second]
    marks.floor = before
    marks.floor_starts = open_across


def is_idle(pbx: str, agent: str, marks: AgentMarks, before: int, *, source: str = facts.SOURCE_AMI) -> bool:
    """True when the agent has no span open at ``before`` and no fact after it: nothing left to derive."""
    for queue in marks.queues.values():
        for facts_of in (queue.adds, queue.removes, queue.pauses, queue.unpauses):
            if any(second >= before for second in facts_of):
                return False
        if any(second >= before for second in queue.seen_unpaused.values()):
            return False
    spans = derive_spans(pbx, agent, marks, source=source)
    return all(span.ended_at is not None and span.ended_at < before for span in spans)


def prefer_ami(spans: Iterable[AgentSpan]) -> list[AgentSpan]:
    """One source per stretch of time, as attempts take one source per call.

    A queue_log call counts unless AMI has the same call (``ref``); a queue_log login or pause
    counts, whole, unless an AMI span of the same PBX, agent and kind overlaps it anywhere. So a
    gap AMI missed (hotline down) and ``hotline ingest --queue-log`` filled is counted once, from
    queue_log. The choice is made on whole spans, never on what one report's window holds: give
    this function every AMI span overlapping the queue_log ones
    (:func:`hotline.rollup.agent_store.read_spans` does), and every report counts the same.
    """
    rows = list(spans)
    ami = [s for s in rows if s.source == facts.SOURCE_AMI]
    if len(ami) == len(rows):
        return rows
    calls = {(s.pbx, s.ref) for s in ami if s.kind == CALL}
    covered: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    for s in ami:
        if s.kind != CALL:
            covered[(s.pbx, s.agent, s.kind)].append(
                (s.started_at, math.inf if s.ended_at is None else s.ended_at)
            )
    kept = list(ami)
    for s in rows:
        if s.source == facts.SOURCE_AMI:
            continue
        if s.kind == CALL:
            if (s.pbx, s.ref) not in calls:
                kept.append(s)
            continue
        end = math.inf if s.ended_at is None else s.ended_at
        if not any(b < end and s.started_at < e for b, e in covered.get((s.pbx, s.agent, s.kind), ())):
            kept.append(s)
    return kept
