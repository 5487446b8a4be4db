"""What the call flows need from the world outside them, as small Protocols.

The flows are written against these, not against the concrete AGI session, HTTP clients or
database, so a test can hand in a fake for any of them. The concrete ones:

- :class:`CallSession`: :class:`hotline.agi.session.AgiSession`;
- :class:`CoreSystem`: :class:`ivr.core_system.CoreSystemClient`;
- :class:`Ticketing`: :class:`ivr.ticketing.TicketingClient`;
- :class:`Records`: :class:`ivr.records.IvrStore` (SQLAlchemy, the ``0003_ivr`` tables);
- :class:`SpeechInput`: :class:`ivr.speech.MenuListener` (vosk over AudioSocket).

Results and errors are the adapters' own types (:mod:`ivr.core_system`, :mod:`ivr.ticketing`):
a fake raises the same exceptions the real client does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from hotline.agi.events import AgiEnvironment
from hotline.agi.session import GetDataResult, StreamResult
from ivr.core_system.models import Bill, Customer, Payment
from ivr.ticketing.models import Complaint, TicketRef, TicketStatus


class CallSession(Protocol):
    """The FastAGI commands a flow uses on the caller's channel."""

    env: AgiEnvironment
    pbx: str

    @property
    def hungup(self) -> bool: ...

    async def stream_file(self, file: str, escape_digits: str = "") -> StreamResult: ...

    async def get_data(
        self, file: str, timeout_ms: int | None = None, max_digits: int | None = None
    ) -> GetDataResult: ...

    async def say_number(self, number: int, escape_digits: str = "") -> str | None: ...

    async def say_digits(self, digits: str, escape_digits: str = "") -> str | None: ...

    async def set_variable(self, name: str, value: str | int) -> None: ...

    async def exec_(self, app: str, *args: str | int, reply_timeout: float | None = None) -> int: ...

    async def hangup(self) -> None: ...


class CoreSystem(Protocol):
    """Customer lookup, verification, bill inquiry and payment (docs/core-system.openapi.json)."""

    async def lookup_customer(self, number: str, *, timeout: float | None = None) -> Customer: ...

    async def verify(self, customer_no: str, answer: str, *, timeout: float | None = None) -> bool: ...

    async def bill(self, contract_no: str, *, timeout: float | None = None) -> Bill: ...

    async def pay(
        self,
        *,
        contract_no: str,
        option_code: str,
        amount: int,
        idempotency_key: str,
        call_id: str | None = None,
        timeout: float | None = None,
    ) -> Payment: ...


class Ticketing(Protocol):
    """Complaint tickets and ticket status in Ariana (Jira REST API v2 shapes)."""

    async def create_complaint(
        self, complaint: Complaint, *, check_existing: bool = False, timeout: float | None = None
    ) -> TicketRef: ...

    async def ticket_status(self, key_or_number: str, *, timeout: float | None = None) -> TicketStatus: ...


class Heard(Protocol):
    @property
    def key(self) -> str:
        """The menu key of what the caller said (or of the key pressed while listening)."""
        ...


class SpeechInput(Protocol):
    """Lets the caller say a menu choice (:class:`ivr.speech.MenuListener`)."""

    @property
    def available(self) -> bool: ...

    async def listen(
        self, session: CallSession, words: Mapping[str, str], timeout_s: float | None = None
    ) -> Heard | None:
        """The recognised choice, or None for anything not confident (then ask for a key)."""
        ...


@dataclass(frozen=True)
class CallRow:
    """One call's IVR record (table ``ivr_call``): what the caller did and where it ended."""

    pbx: str
    uniqueid: str
    script: str
    linkedid: str | None
    caller_number: str | None
    lang: str
    path: str
    choice: str
    queue: str
    outcome: str
    """routed, hangup, failed or ended (the IVR itself ended the call)."""
    verified: str = ""
    customer_no: str = ""
    outlet_code: str = ""
    ticket_key: str = ""
    payment_ref: str = ""
    started_at: float = 0.0
    ended_at: float = 0.0


@dataclass(frozen=True)
class PaymentRow:
    """One payment of one call (table ``payment_attempt``), keyed by its idempotency key."""

    idempotency_key: str
    pbx: str
    uniqueid: str
    contract_no: str
    option_code: str
    amount: int
    status: str
    """pending (asked, no answer yet), paid, declined, rejected (not executed) or unknown."""
    reference: str = ""
    detail: str = ""
    tries: int = 1


@dataclass(frozen=True)
class Outlet:
    """A Pegadaian outlet of the SAPA directory."""

    code: str
    name: str
    region: str = ""


class Records(Protocol):
    """The IVR's tables: call records, payment attempts, the outlet directory."""

    async def save_call(self, row: CallRow) -> None:
        """Store (or queue, to be stored soon) the call's row; it must not hold the caller up."""
        ...

    async def claim_payment(self, row: PaymentRow) -> tuple[PaymentRow, bool]:
        """Store ``row`` (status pending) unless its key exists; returns (stored row, created).

        Committed when it returns: the core system is asked to pay only after this.
        """
        ...

    async def retry_payment(self, idempotency_key: str) -> None:
        """Count one more try of an existing, unsettled payment and mark it pending again."""
        ...

    async def settle_payment(self, idempotency_key: str, status: str, reference: str, detail: str) -> None:
        """Store (or queue) the outcome; until stored the row stays pending, which is safe."""
        ...

    async def flush(self) -> None:
        """Wait until every write queued so far is stored (shutdown must not lose one)."""
        ...

    async def unsettled_payments(self) -> list[PaymentRow]: ...

    async def outlet_by_phone(self, phone: str) -> Outlet | None: ...

    async def outlet_by_code_and_pin(self, code: str, pin: str) -> Outlet | None: ...
