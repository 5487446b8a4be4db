"""ACD KPIs (SCR, AHT, ASA, service level, agent time): facts, the projections that make them, the math.

Everything here is pure code without IO or database, except :mod:`hotline.kpi.cli` (the
``hotline kpi`` command, which reads the store or a file).

Calls:

- :mod:`hotline.kpi.facts`: :class:`QueueAttempt`, one row per caller's stay in a queue.
- :mod:`hotline.kpi.from_ami`: :class:`AmiProjector`, live AMI events -> attempts.
- :mod:`hotline.kpi.ami_calls`: what the AMI projector remembers of a call, and how it becomes attempts.
- :mod:`hotline.kpi.from_queue_log`: queue_log lines -> attempts (the reference to compare with).
- :mod:`hotline.kpi.cdr_csv`: Asterisk's CDR CSV (``Master.csv``) read line by line.
- :mod:`hotline.kpi.line_errors`: the bad-line report shared by the queue_log and CDR readers.
- :mod:`hotline.kpi.gap`: attempts that ended while an AMI link was down, completed from queue_log or CDR.
- :mod:`hotline.kpi.definitions`: every KPI formula, :func:`summarize`, :func:`by_queue`,
  :func:`by_agent`.
- :mod:`hotline.kpi.reconcile`: the same calls from AMI and from queue_log, side by side.

Agents:

- :mod:`hotline.kpi.agent_sessions`: agent logins and pauses (with reason) from live AMI events.
- :mod:`hotline.kpi.agent_queue_log`: the same agent sessions from a queue_log.
- :mod:`hotline.kpi.agent_spans`: agent sessions as closed and open spans, derived from facts.
- :mod:`hotline.kpi.agent_definitions`: login, pause by reason, available time, occupancy.
- :mod:`hotline.kpi.agent_report`: the agent KPIs as a ``--by agent`` report.
- :mod:`hotline.kpi.agent_reconcile`: agent figures from AMI and from queue_log, side by side.

Reports:

- :mod:`hotline.kpi.intervals`: report intervals on the contact center's local clock.
- :mod:`hotline.kpi.report`: a KPI report (overall, per interval, per group) as plain data.
- :mod:`hotline.kpi.render`: a report as a readable table or as CSV.
- :mod:`hotline.kpi.cli`: ``hotline kpi``.
"""

from hotline.kpi.definitions import KpiSummary, by_agent, by_queue, summarize
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.from_ami import AmiProjector
from hotline.kpi.from_queue_log import (
    AgentEvent,
    QueueLogError,
    QueueLogProjector,
    QueueLogResult,
    parse_queue_log,
)

__all__ = [
    "AgentEvent",
    "AmiProjector",
    "KpiSummary",
    "QueueAttempt",
    "QueueLogError",
    "QueueLogProjector",
    "QueueLogResult",
    "by_agent",
    "by_queue",
    "parse_queue_log",
    "summarize",
]
