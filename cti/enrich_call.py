"""The state of one call's screen-pop enrichment, and the enrichment's settings (see :mod:`cti.enrich`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Final

DONE: Final = "done"
PENDING: Final = "pending"
NONE: Final = "none"
UNAVAILABLE: Final = "unavailable"
NOT_FOUND: Final = "not_found"
"""The states of a part in the pop's ``enrichment`` (docs/cti-protocol.md)."""


@dataclass(frozen=True)
class EnrichSettings:
    """Budgets and bounds of the enrichment (defaults as documented in docs/cti-protocol.md)."""

    contacts: int = 5
    history_budget_s: float = 0.25
    """How long a pop waits for the store's history before it goes out without it."""
    history_timeout_s: float = 5.0
    """How long the history may take at all (then it is ``unavailable``)."""
    store_failures: int = 3
    store_cool_down_s: float = 30.0
    """After this many failed or late history reads in a row, pops skip the store for the cool-down."""
    lookup_timeout_s: float = 2.0
    """Ceiling of one core-system or ticketing request ([core_system]/[ticketing] timeout_s, if lower)."""
    max_in_flight: int = 4
    max_waiting: int = 32
    cache_s: float = 60.0
    max_tickets: int = 5
    max_calls: int = 5_000


@dataclass
class PopCall:
    """What is known about one call so far, and which phones still show its pop."""

    pbx: str
    uniqueid: str
    call_id: str | None
    queue: str | None
    ts: float
    site: str | None
    customer: dict[str, Any] | None
    customer_state: str = NONE
    history: list[dict[str, Any]] | None = None
    history_state: str = NONE
    ticket_keys: list[str] = field(default_factory=list)
    statuses: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    """Ticket key -> status (None: asked, not known); a key the ticketing system lacks is dropped."""
    tickets_state: str = NONE
    ifaces: set[str] = field(default_factory=set)
    history_task: asyncio.Task[None] | None = None
