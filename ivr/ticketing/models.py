"""Settings, results and errors of the ticketing adapter (Pegadaian's Jira-based "Ariana").

The shapes follow Jira's REST API v2 (docs/ticketing.md). A complaint ticket carries the
caller's number masked, the customer (and whether the IVR verified them), the caller's path
through the IVR and the call id (Asterisk's linkedid). The call id also names a *dedupe label*
on the ticket, so a creation whose answer was lost can be found instead of repeated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

from hotline.config import Secret
from hotline.logs import mask_number

STATUSES: Final = ("Open", "In Progress", "Resolved", "Closed")
"""Ariana's complaint workflow (Jira's classic default statuses)."""
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
DEDUPE_LABEL_PREFIX: Final = "hotline-call-"


class TicketingError(Exception):
    """The ticketing system could not do what was asked."""


class TicketingUnavailable(TicketingError):
    """No answer (timeouts, connection errors, 5xx), the circuit is open, or a lost creation
    could not be checked; nothing more is known about the ticket."""

    def __init__(self, message: str, *, circuit_open: bool = False) -> None:
        super().__init__(message)
        self.circuit_open = circuit_open


class TicketNotFound(TicketingError):
    """No ticket with that key (or hotline may not see it)."""


class TicketRejected(TicketingError, ValueError):
    """Jira refused the request as invalid (400); the message carries Jira's reasons."""


@dataclass(frozen=True)
class TicketingSettings:
    """Where Ariana is and how to reach it (``[ticketing]`` in the config)."""

    base_url: str
    project_key: str = "ARN"
    issue_type: str = "Pengaduan"
    auth: Literal["bearer", "basic"] = "bearer"
    """bearer: a personal access token; basic: username + API token."""
    username: str = ""
    token: Secret = field(default_factory=lambda: Secret(""))
    timeout_s: float = 5.0
    retries: int = 2
    """Extra attempts: for reads as such; for a creation only after a search by dedupe label."""
    backoff_s: float = 0.2
    backoff_max_s: float = 1.0
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0


@dataclass(frozen=True)
class Complaint:
    """What the IVR knows about a complaint when it asks for a ticket."""

    call_id: str
    """Asterisk's linkedid of the call: one complaint ticket per call."""
    caller_number: str
    summary: str
    ivr_path: tuple[str, ...] = ()
    customer_no: str | None = None
    customer_name: str | None = None
    verified: bool = False
    details: str = ""

    def description(self) -> str:
        """The ticket body in Jira wiki markup (Indonesian, as Ariana's agents read it)."""
        if self.customer_no:
            who = f"{self.customer_name or '-'} (CIF {self.customer_no})"
            customer = f"{who}, {'terverifikasi' if self.verified else 'BELUM terverifikasi'}"
        else:
            customer = "tidak diidentifikasi"
        lines = [
            "h3. Pengaduan dari IVR hotline 1500569",
            f"*Penelepon:* {mask_number(self.caller_number) or '-'}",
            f"*Nasabah:* {customer}",
            f"*Jalur IVR:* {' > '.join(self.ivr_path) or '-'}",
            f"*ID panggilan (linkedid):* {self.call_id}",
        ]
        if self.details:
            lines += ["", self.details]
        return "\n".join(lines)


def dedupe_label(call_id: str) -> str:
    """The label that marks the complaint ticket of one call (Jira labels allow no spaces)."""
    if not call_id:
        raise ValueError("a complaint needs the call id (linkedid) it came from")
    return DEDUPE_LABEL_PREFIX + _LABEL_UNSAFE.sub("_", call_id)


@dataclass(frozen=True)
class TicketRef:
    """A created (or found) ticket."""

    id: str
    key: str
    url: str
    created: bool = True
    """False when an existing ticket of the same call was found instead of creating one."""


@dataclass(frozen=True)
class TicketStatus:
    key: str
    status: str
    """The status name: Open, In Progress, Resolved, Closed (or whatever Ariana's workflow adds)."""
    category: str
    """Jira's status category key: new, indeterminate or done."""
    summary: str
