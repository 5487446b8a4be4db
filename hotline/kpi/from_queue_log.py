"""Queue attempts from Asterisk's queue_log, the record queue analytics tools trust.

A line is ``epoch|callid|queue|agent|event|data1|data2|...``. The verbs read here:

==================  ==================================================  ==========================
verb                data                                                effect on the attempt
==================  ==================================================  ==========================
ENTERQUEUE          url|callerid|position                               a new attempt of callid
RINGNOANSWER        ringtime ms                                         ring_no_answer + 1
CONNECT             holdtime|bridged-uniqueid|ringtime                  answered, wait_s, agent
COMPLETECALLER      holdtime|calltime|origpos                           handle_s, by caller
COMPLETEAGENT       holdtime|calltime|origpos                           handle_s, by agent
BLINDTRANSFER       exten|context|holdtime|calltime|origpos             handle_s, by transfer
ATTENDEDTRANSFER    BRIDGE|id or APP|app or LINK|c1|c2, then            handle_s, by transfer
                    holdtime|calltime|origpos
ABANDON             pos|origpos|waittime                                abandoned
EXITWITHTIMEOUT     pos|origpos|waittime                                timeout
EXITEMPTY           pos|origpos|waittime                                exit_empty
EXITWITHKEY         key|pos|origpos|waittime                            exit_key
WITHDRAW            pos|origpos|waittime|info                           timeout (see below)
==================  ==================================================  ==========================

A blind transfer into another queue writes a second ENTERQUEUE with the same callid: that is
attempt 2. Every other verb belongs to the latest attempt of the callid in the same queue; a verb
whose ENTERQUEUE was never seen (the log was rotated) still makes an attempt, its entry time
estimated from the wait. WITHDRAW (the QueueWithdrawCaller action) counts as a timeout: on AMI it
is indistinguishable from one, and in both the queue, not the caller, ended the wait.

Member verbs (PAUSE, UNPAUSE, ADDMEMBER, ...; callid NONE or MANAGER) are not attempts: they
are returned as :class:`AgentEvent` for the agent sessions (:mod:`hotline.kpi.agent_queue_log`),
with the first line that names each agent in each queue (any verb: a static member is never
added) and the times of the first and last lines. RINGCANCELED and verbs not listed are
ignored. A malformed line becomes a :class:`QueueLogError` with its line number; reading goes on.
queue_log knows no agent hold, no Linkedid and no interface: those stay None.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Final

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.line_errors import PbxLineError

MEMBER_VERBS: Final = frozenset(
    {"PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL", "ADDMEMBER", "REMOVEMEMBER", "PENALTY"}
    | {"AGENTLOGIN", "AGENTLOGOFF", "AGENTCALLBACKLOGIN", "AGENTCALLBACKLOGOFF"}
)
_NOT_A_CALL: Final = frozenset({"", "NONE", "MANAGER"})
_LEFT_WITHOUT_AGENT: Final = {
    # verb -> (outcome, index of waittime in data)
    "ABANDON": (facts.ABANDONED, 2),
    "EXITWITHTIMEOUT": (facts.TIMEOUT, 2),
    "EXITEMPTY": (facts.EXIT_EMPTY, 2),
    "WITHDRAW": (facts.TIMEOUT, 2),
    "EXITWITHKEY": (facts.EXIT_KEY, 3),
}
_COMPLETED: Final = {"COMPLETECALLER": facts.BY_CALLER, "COMPLETEAGENT": facts.BY_AGENT}
_CALL_VERBS: Final = frozenset(
    {"ENTERQUEUE", "RINGNOANSWER", "CONNECT", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
    | _LEFT_WITHOUT_AGENT.keys()
    | _COMPLETED.keys()
)


@dataclass(frozen=True, slots=True)
class QueueLogError(PbxLineError):
    """A queue_log line that could not be read; the rest of the log still is."""

    file_kind: ClassVar[str] = "queue_log"


@dataclass(frozen=True, slots=True)
class AgentEvent:
    """A member verb (PAUSE, ADDMEMBER, ...): agent state, not a call."""

    pbx: str
    at: float
    queue: str
    agent: str
    verb: str
    data: tuple[str, ...]
    line_no: int = 0


@dataclass(slots=True)
class QueueLogResult:
    attempts: list[QueueAttempt]
    agent_events: list[AgentEvent]
    errors: list[QueueLogError]
    agent_seen: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    """(agent, queue) -> (line number, time) of the first line naming the agent in the queue."""
    first_at: float | None = None
    last_at: float | None = None
    """Times of the first and last readable lines: the span the log covers."""


class _BadLine(ValueError):
    pass


@dataclass(slots=True)
class _Line:
    at: float
    call_id: str
    queue: str
    agent: str
    verb: str
    data: list[str]

    def number(self, index: int, what: str) -> float:
        if index >= len(self.data) or self.data[index] == "":
            raise _BadLine(f"{self.verb} lacks {what} (data field {index + 1})")
        try:
            value = float(self.data[index])
        except ValueError:
            raise _BadLine(f"{self.verb} {what} {self.data[index]!r} is not a number") from None
        if not math.isfinite(value):
            raise _BadLine(f"{self.verb} {what} {self.data[index]!r} is not a number")
        return value


class QueueLogProjector:
    """Reads queue_log lines one at a time (e.g. while tailing the file); no IO of its own."""

    def __init__(self, pbx: str) -> None:
        self.pbx = pbx
        self.agent_events: list[AgentEvent] = []
        self.errors: list[QueueLogError] = []
        self.agent_seen: dict[tuple[str, str], tuple[int, float]] = {}
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._line_no = 0
        self._attempts: dict[tuple[str, int], QueueAttempt] = {}
        self._count: dict[str, int] = {}

    def feed_line(self, line: str) -> list[QueueAttempt]:
        """Read one line; return the attempt it changed (a copy), if any."""
        self._line_no += 1
        text = line.rstrip("\r\n")
        if not text.strip():
            return []
        try:
            parsed = _split(text)
            self._cover(parsed)
            if parsed.verb in MEMBER_VERBS:
                self.agent_events.append(
                    AgentEvent(
                        self.pbx,
                        parsed.at,
                        parsed.queue,
                        parsed.agent,
                        parsed.verb,
                        tuple(parsed.data),
                        self._line_no,
                    )
                )
                return []
            if parsed.verb not in _CALL_VERBS:
                return []
            if parsed.call_id in _NOT_A_CALL:
                raise _BadLine(f"{parsed.verb} without a call id")
            attempt = self._apply(parsed)
        except _BadLine as exc:
            self.errors.append(QueueLogError(self._line_no, text, str(exc)))
            return []
        return [dataclasses.replace(attempt)]

    def _cover(self, line: _Line) -> None:
        """The log's time span, and where each agent is first named in each queue."""
        self.first_at = line.at if self.first_at is None else min(self.first_at, line.at)
        self.last_at = line.at if self.last_at is None else max(self.last_at, line.at)
        if line.agent not in _NOT_A_CALL and line.queue not in _NOT_A_CALL:
            self.agent_seen.setdefault((line.agent, line.queue), (self._line_no, line.at))

    def attempts(self) -> list[QueueAttempt]:
        """Every attempt read so far (copies), ordered by (call_id, attempt)."""
        return [dataclasses.replace(a) for _, a in sorted(self._attempts.items())]

    def _apply(self, line: _Line) -> QueueAttempt:
        if line.verb == "ENTERQUEUE":
            position = line.number(2, "position") if len(line.data) > 2 and line.data[2] else None
            caller = line.data[1] if len(line.data) > 1 and line.data[1] else None
            attempt = self._new_attempt(line, entered_at=line.at, caller_number=caller)
            attempt.position = int(position) if position is not None else None
            return attempt
        if line.verb == "RINGNOANSWER":
            attempt = self._attempt_of(line, waited=None)
            attempt.ring_no_answer += 1
            return attempt
        if line.verb in _LEFT_WITHOUT_AGENT:
            outcome, wait_index = _LEFT_WITHOUT_AGENT[line.verb]
            waited = line.number(wait_index, "waittime")
            attempt = self._attempt_of(line, waited=waited)
            attempt.outcome, attempt.wait_s, attempt.ended_at = outcome, waited, line.at
            return attempt
        if line.verb == "CONNECT":
            waited = line.number(0, "holdtime")
            attempt = self._attempt_of(line, waited=waited)
            _answered(attempt, line, waited, connected_at=line.at)
            return attempt
        return self._completed(line)

    def _completed(self, line: _Line) -> QueueAttempt:
        # The last three data fields are holdtime|calltime|origpos for every completion verb.
        # Everything is read and checked before the attempt is touched: a bad line changes nothing.
        if len(line.data) < 3:
            raise _BadLine(f"{line.verb} needs holdtime|calltime|origpos")
        first = len(line.data) - 3
        waited, handled = line.number(first, "holdtime"), line.number(first + 1, "calltime")
        target: str | None = None
        if line.verb == "BLINDTRANSFER":
            if first < 2:
                raise _BadLine("BLINDTRANSFER needs exten|context before holdtime")
            target = f"{line.data[0]}@{line.data[1]}"
        elif line.verb == "ATTENDEDTRANSFER":
            target = "|".join(line.data[:first]) or None
        attempt = self._attempt_of(line, waited=waited + handled)
        _answered(attempt, line, waited, connected_at=line.at - handled)
        attempt.handle_s, attempt.ended_at = handled, line.at
        attempt.completed_by = _COMPLETED.get(line.verb, facts.BY_TRANSFER)
        attempt.transfer_target = target
        return attempt

    def _new_attempt(self, line: _Line, *, entered_at: float, caller_number: str | None) -> QueueAttempt:
        number = self._count.get(line.call_id, 0) + 1
        self._count[line.call_id] = number
        attempt = QueueAttempt(
            pbx=self.pbx,
            call_id=line.call_id,
            attempt=number,
            queue=line.queue,
            linkedid=None,
            caller_number=caller_number,
            entered_at=entered_at,
            position=None,
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
            ring_no_answer=0,
            source=facts.SOURCE_QUEUE_LOG,
        )
        self._attempts[(line.call_id, number)] = attempt
        return attempt

    def _attempt_of(self, line: _Line, *, waited: float | None) -> QueueAttempt:
        """The latest attempt of the call in this queue, or a new one if its entry was never read."""
        for number in range(self._count.get(line.call_id, 0), 0, -1):
            attempt = self._attempts[(line.call_id, number)]
            if attempt.queue == line.queue:
                return attempt
        return self._new_attempt(line, entered_at=line.at - (waited or 0.0), caller_number=None)


def _answered(attempt: QueueAttempt, line: _Line, waited: float, *, connected_at: float) -> None:
    attempt.outcome = facts.ANSWERED
    if attempt.wait_s is None:
        attempt.wait_s = waited
    if attempt.agent is None and line.agent not in _NOT_A_CALL:
        attempt.agent = line.agent
    if attempt.connected_at is None:
        attempt.connected_at = connected_at


def _split(text: str) -> _Line:
    fields = text.split("|")
    if len(fields) < 5:
        raise _BadLine("expected epoch|callid|queue|agent|event[|data...]")
    try:
        at = float(fields[0])
    except ValueError:
        raise _BadLine(f"epoch {fields[0]!r} is not a number") from None
    if not math.isfinite(at):
        raise _BadLine(f"epoch {fields[0]!r} is not a number")
    return _Line(at, fields[1], fields[2], fields[3], fields[4], fields[5:])


def parse_queue_log(lines: str | Iterable[str], *, pbx: str) -> QueueLogResult:
    """Read a whole queue_log (text or lines) into attempts, agent events and errors."""
    projector = QueueLogProjector(pbx)
    for line in lines.splitlines() if isinstance(lines, str) else lines:
        projector.feed_line(line)
    return QueueLogResult(
        projector.attempts(),
        projector.agent_events,
        projector.errors,
        projector.agent_seen,
        projector.first_at,
        projector.last_at,
    )


__all__ = [
    "MEMBER_VERBS",
    "AgentEvent",
    "QueueLogError",
    "QueueLogProjector",
    "QueueLogResult",
    "parse_queue_log",
]
