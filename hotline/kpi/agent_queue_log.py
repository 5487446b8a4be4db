"""Agent sessions (login, pause with reason, calls) from a queue_log, as the AMI projector makes them.

Member verbs become the same facts as their AMI events (:mod:`hotline.kpi.agent_spans`):

==============  ===================================================================
ADDMEMBER       a member of the queue from then (``PAUSED`` in data: added paused)
REMOVEMEMBER    no longer a member (a pause still open in that queue ends with it)
PAUSE|reason    paused in that queue; a new reason while paused starts a new pause
UNPAUSE         unpaused in that queue
PAUSEALL        paused in every queue the agent is a member of (Asterisk also writes a PAUSE
UNPAUSEALL      per queue right after it, which changes nothing then)
==============  ===================================================================

Two things the log does not say, and how they are settled:

- **Members the log never adds.** A static member (queues.conf ``member =>``) or one added
  before the log begins has no ADDMEMBER. When the first line naming an agent in a queue (any
  verb: PAUSE, RINGNOANSWER, CONNECT, ...) is not an ADDMEMBER, the agent was a member of that
  queue from the first line of the log. AMI knows the same member from its ``LoginTime``, so over
  the time both cover the two sources agree.
- **Who an interface is.** With queues.conf ``log_membername_as_agent = no`` (Asterisk's
  default) ADDMEMBER and REMOVEMEMBER name the member by interface (``PJSIP/1004``) while every
  other line names it ``MemberName``. An interface is tied to a name by ``names`` (interface ->
  MemberName, e.g. what AMI told the store) or else by the log itself: the name's lines fall
  only in queues and at times where exactly one added, not yet named interface was a member.
  Names that stay ambiguous are reported; ``log_membername_as_agent = yes`` (hotline's shipped
  queues.conf) makes the question moot.

Spans still open at the last line are closed there: the log tells nothing after it, and a
grown log read again extends them (their keys do not change).
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from hotline.kpi import facts
from hotline.kpi.agent_spans import AgentMarks, AgentSpan, Fact, call_span, derive_spans
from hotline.kpi.from_queue_log import AgentEvent, QueueLogResult

_INTERFACE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*/\S+")
_MEMBERSHIP: Final = frozenset({"ADDMEMBER", "REMOVEMEMBER"})
_NOT_A_QUEUE: Final = frozenset({"", "NONE"})


def is_interface(agent: str) -> bool:
    """``PJSIP/1004``, ``Local/1004@agents/n``: how Asterisk names a member without a MemberName."""
    return _INTERFACE.fullmatch(agent) is not None


@dataclass(slots=True)
class QueueLogSessions:
    """The agent spans of a queue_log, and how its interfaces were named."""

    spans: list[AgentSpan]
    names: dict[str, str] = field(default_factory=dict)
    """Interface -> MemberName used (given or inferred)."""
    ambiguous: list[str] = field(default_factory=list)
    """Member names the log could not tie to one interface."""


def _memberships(events: list[AgentEvent], start: float) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(interface, queue) -> closed membership intervals of each interface ADDMEMBER/REMOVEMEMBER names."""
    out: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    since: dict[tuple[str, str], float] = {}
    first: set[tuple[str, str]] = set()
    for event in events:
        if event.verb not in _MEMBERSHIP or not is_interface(event.agent):
            continue
        key = (event.agent, event.queue)
        if event.verb == "ADDMEMBER":
            since.setdefault(key, event.at)
        else:
            began = since.pop(key, start if key not in first else None)
            if began is not None:
                out[key].append((began, event.at))
        first.add(key)
    for key, began in since.items():
        out[key].append((began, math.inf))
    return out


def _within(times: list[float], intervals: list[tuple[float, float]]) -> bool:
    """Every one of the sorted ``times`` lies in one of the sorted, disjoint closed ``intervals``."""
    if not intervals or times[0] < intervals[0][0] or times[-1] > intervals[-1][1]:
        return False
    for (_, end), (next_begin, _) in itertools.pairwise(intervals):
        first_after = bisect.bisect_right(times, end)
        if first_after < len(times) and times[first_after] < next_begin:
            return False  # a time in the gap between two memberships
    return True


def _merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for begin, end in sorted(intervals):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((begin, end))
    return out


def infer_names(result: QueueLogResult, known: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Interface -> MemberName, from ``known`` and from the log (see the module docstring)."""
    events = sorted(result.agent_events, key=lambda e: e.line_no)
    spans = _memberships(events, result.first_at or 0.0)
    named = dict(known)
    anywhere: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (iface, _), intervals in spans.items():
        anywhere[iface].extend(intervals)
    anywhere = {iface: _merged(intervals) for iface, intervals in anywhere.items()}
    open_ifaces = sorted(iface for iface in anywhere if iface not in named)
    added_as_name = {e.agent for e in events if e.verb in _MEMBERSHIP and not is_interface(e.agent)}
    # Where each name is seen, per queue ('NONE': PAUSEALL, any queue): its first line in each
    # queue and every member verb it has, each moment once.
    seen: dict[str, dict[str, set[float]]] = defaultdict(lambda: defaultdict(set))
    for (agent, queue), (_, at) in result.agent_seen.items():
        seen[agent][queue].add(at)
    for event in events:
        if event.verb not in _MEMBERSHIP:
            seen[event.agent][event.queue].add(event.at)
    places = {name: {q: sorted(times) for q, times in queues.items()} for name, queues in seen.items()}
    claimed = set(named.values())
    pending = sorted(
        name for name in seen if not is_interface(name) and name not in added_as_name and name not in claimed
    )

    def fits(iface: str, name: str) -> bool:
        """Was ``iface`` a member of each queue at every moment ``name`` is seen there?"""
        return all(
            _within(times, anywhere[iface] if queue in _NOT_A_QUEUE else spans.get((iface, queue), []))
            for queue, times in places[name].items()
        )

    ambiguous: set[str] = set()
    progress = True
    while progress and pending:
        progress = False
        wanted: dict[str, list[str]] = defaultdict(list)
        for name in pending:
            found = [iface for iface in open_ifaces if fits(iface, name)]
            if len(found) == 1:
                wanted[found[0]].append(name)
            elif len(found) > 1:
                ambiguous.add(name)
        for iface, names in wanted.items():
            if len(names) == 1:
                named[iface] = names[0]
                open_ifaces.remove(iface)
                pending.remove(names[0])
                ambiguous.discard(names[0])
                progress = True
    return named, sorted(ambiguous & set(pending))


def sessions_from_queue_log(
    result: QueueLogResult, *, pbx: str, names: Mapping[str, str] | None = None
) -> QueueLogSessions:
    """Login, pause and call spans of every agent the log names (source ``queue_log``)."""
    aliases, ambiguous = infer_names(result, names or {})

    def who(agent: str) -> str:
        return aliases.get(agent, agent)

    agents: dict[str, AgentMarks] = {}

    def marks_of(agent: str) -> AgentMarks:
        name = who(agent)
        marks = agents.get(name)
        if marks is None:
            marks = agents[name] = AgentMarks()
        if is_interface(agent):
            marks.interface = agent
        return marks

    first_add: dict[tuple[str, str], int] = {}
    for event in sorted(result.agent_events, key=lambda e: e.line_no):
        _record(marks_of(event.agent), event)
        if event.verb == "ADDMEMBER":
            first_add.setdefault((who(event.agent), event.queue), event.line_no)
    _members_from_the_start(result, who, marks_of, first_add)
    spans: list[AgentSpan] = []
    end = math.floor(result.last_at) if result.last_at is not None else None
    for name, marks in sorted(agents.items()):
        for span in derive_spans(pbx, name, marks, source=facts.SOURCE_QUEUE_LOG):
            spans.append(_closed_at(span, end))
    for attempt in result.attempts:
        call = call_span(attempt)
        if call is not None:
            spans.append(_closed_at(call, end))
    return QueueLogSessions(spans, {i: n for i, n in aliases.items() if is_interface(i)}, ambiguous)


def _record(marks: AgentMarks, event: AgentEvent) -> None:
    second, order = math.floor(event.at), float(event.line_no)
    reason = event.data[0] if event.data else ""
    if event.verb == "PAUSEALL":
        marks.pause_all[second] = Fact.at(second, order, reason)
    elif event.verb == "UNPAUSEALL":
        marks.unpause_all[second] = Fact.at(second, order)
    elif event.queue in _NOT_A_QUEUE:
        return
    elif event.verb == "ADDMEMBER":
        queue = marks.queue(event.queue)
        queue.add(second, order)
        if reason == "PAUSED":
            queue.pause(second, "", order + 0.5)
    elif event.verb == "REMOVEMEMBER":
        marks.queue(event.queue).remove(second, order)
    elif event.verb == "PAUSE":
        marks.queue(event.queue).pause(second, reason, order)
    elif event.verb == "UNPAUSE":
        marks.queue(event.queue).unpause(second, order)


def _members_from_the_start(
    result: QueueLogResult,
    who: Callable[[str], str],
    marks_of: Callable[[str], AgentMarks],
    first_add: Mapping[tuple[str, str], int],
) -> None:
    """A member named in a queue before (or without) its ADDMEMBER was one from the log's start."""
    if result.first_at is None:
        return
    start = math.floor(result.first_at)
    first_line: dict[tuple[str, str], tuple[int, str]] = {}
    for (agent, queue), (line_no, _) in result.agent_seen.items():
        key = (who(agent), queue)
        if key not in first_line or line_no < first_line[key][0]:
            first_line[key] = (line_no, agent)
    for (name, queue), (line_no, agent) in sorted(first_line.items()):
        added = first_add.get((name, queue))
        if added is None or line_no < added:
            marks_of(agent).queue(queue).add(start, -1.0)


def _closed_at(span: AgentSpan, end: int | None) -> AgentSpan:
    if span.ended_at is not None or end is None:
        return span
    return AgentSpan(
        span.pbx, span.agent, span.kind, span.started_at, float(max(end, span.started_at)),
        span.reason, span.ref, span.interface, span.source,
    )  # fmt: skip
