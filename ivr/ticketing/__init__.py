"""Ariana, Pegadaian's Jira-based ticketing: complaint tickets and ticket status.

:class:`TicketingClient` speaks Jira's REST API v2 (docs/ticketing.md);
:class:`TicketingSimulator` serves that subset for ``hotline demo``, tests and benchmarks.
"""

from ivr.ticketing.client import TicketingClient
from ivr.ticketing.models import (
    STATUSES,
    Complaint,
    TicketingError,
    TicketingSettings,
    TicketingUnavailable,
    TicketNotFound,
    TicketRef,
    TicketRejected,
    TicketStatus,
    dedupe_label,
)
from ivr.ticketing.simulator import TicketingSimulator

__all__ = [
    "STATUSES",
    "Complaint",
    "TicketNotFound",
    "TicketRef",
    "TicketRejected",
    "TicketStatus",
    "TicketingClient",
    "TicketingError",
    "TicketingSettings",
    "TicketingSimulator",
    "TicketingUnavailable",
    "dedupe_label",
]
