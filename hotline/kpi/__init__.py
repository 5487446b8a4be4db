"""ACD KPI math (SCR, AHT, ASA, service level, ...), pure code without IO or database.

- :mod:`hotline.kpi.facts`: :class:`QueueAttempt`, one row per caller's stay in a queue.
- :mod:`hotline.kpi.from_ami`: :class:`AmiProjector`, live AMI events -> attempts.
- :mod:`hotline.kpi.from_queue_log`: queue_log lines -> attempts (the reference to compare with).
- :mod:`hotline.kpi.definitions`: every KPI formula, :func:`summarize`, :func:`by_queue`,
  :func:`by_agent`.
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
