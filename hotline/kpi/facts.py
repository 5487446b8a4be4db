"""The fact every KPI is computed from: one row per queue attempt.

A queue attempt is a caller's stay in one queue. A blind transfer into another queue makes a
second attempt of the same call, so the identity is ``(pbx, call_id, attempt)``. ``call_id`` is
the caller channel's Uniqueid: AMI ``QueueCallerJoin`` ``Uniqueid`` and queue_log field 2
(``callid``) carry the same value, which is what lets the two sources be compared.

Both projections (:mod:`hotline.kpi.from_ami`, :mod:`hotline.kpi.from_queue_log`) produce these
rows; the store persists them; :mod:`hotline.kpi.definitions` turns them into KPIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# --- outcome ------------------------------------------------------------------------------
WAITING: Final = "waiting"
"""Still in the queue (or the source has not told how the stay ended yet)."""
ANSWERED: Final = "answered"
"""An agent took the call (AgentConnect / CONNECT)."""
ABANDONED: Final = "abandoned"
"""The caller hung up while waiting."""
TIMEOUT: Final = "timeout"
"""The queue let the caller go (Queue() timeout) and the dialplan carried on."""
EXIT_EMPTY: Final = "exit_empty"
"""The caller left because the queue had no usable member (leavewhenempty)."""
EXIT_KEY: Final = "exit_key"
"""The caller pressed a digit that leads out of the queue."""
OUTCOMES: Final = frozenset({WAITING, ANSWERED, ABANDONED, TIMEOUT, EXIT_EMPTY, EXIT_KEY})

# --- completed_by -------------------------------------------------------------------------
BY_CALLER: Final = "caller"
BY_AGENT: Final = "agent"
BY_TRANSFER: Final = "transfer"
COMPLETED_BY: Final = frozenset({BY_CALLER, BY_AGENT, BY_TRANSFER})

# --- source -------------------------------------------------------------------------------
SOURCE_AMI: Final = "ami"
SOURCE_QUEUE_LOG: Final = "queue_log"

# --- completed_from -----------------------------------------------------------------------
FROM_QUEUE_LOG: Final = "queue_log"
FROM_CDR: Final = "cdr"
COMPLETED_FROM: Final = frozenset({FROM_QUEUE_LOG, FROM_CDR})
"""Where the end of an AMI attempt came from when it happened while the AMI link was down
(:mod:`hotline.kpi.gap`); None when AMI saw it."""


@dataclass(slots=True)
class QueueAttempt:
    """A caller's stay in one queue. Times are epoch seconds."""

    pbx: str
    call_id: str
    """Caller channel Uniqueid (== queue_log callid)."""
    attempt: int
    """1, 2, ... within the call, in the order the caller entered queues."""
    queue: str
    linkedid: str | None
    """AMI Linkedid (None from queue_log)."""
    caller_number: str | None
    entered_at: float
    position: int | None
    """Position on entry (queue_log ENTERQUEUE position / QueueCallerJoin Position)."""
    outcome: str
    """One of :data:`OUTCOMES`."""
    ended_at: float | None
    """When the attempt ended (completion, abandon, timeout, transfer out)."""
    wait_s: float | None
    """Queue wait: until connect (answered) or until leaving the queue (others)."""
    agent: str | None
    """MemberName of the agent who answered."""
    agent_interface: str | None
    """e.g. ``PJSIP/1001`` (None from queue_log)."""
    connected_at: float | None
    handle_s: float | None
    """Asterisk TalkTime / queue_log calltime: answer -> end. It INCLUDES agent hold."""
    hold_s: float | None
    """Agent hold during the conversation (Hold/Unhold on AMI); None when the source cannot know."""
    completed_by: str | None
    """One of :data:`COMPLETED_BY`, or None while not completed."""
    transfer_target: str | None
    """``exten@context`` for a blind transfer; the queue_log-style destination for an attended one."""
    ring_no_answer: int
    """Agents rung without answering (AgentRingNoAnswer / RINGNOANSWER)."""
    source: str
    """``ami`` or ``queue_log``."""
    completed_from: str | None = None
    """``queue_log`` or ``cdr`` when the attempt ended while the AMI link was down and its end was
    taken from that file of the PBX (:mod:`hotline.kpi.gap`); None when the source saw it itself."""

    @property
    def talk_s(self) -> float | None:
        """Talk time without hold. Asterisk's TalkTime already contains hold: never add hold on top."""
        if self.handle_s is None:
            return None
        return self.handle_s - (self.hold_s or 0.0)

    @property
    def key(self) -> tuple[str, str, int]:
        """Identity of the row: ``(pbx, call_id, attempt)``."""
        return (self.pbx, self.call_id, self.attempt)
