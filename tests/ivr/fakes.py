"""In-test stand-ins for the core system, ticketing and AMI, with the adapters' own types and errors."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ivr.core_system.errors import CoreSystemTimeout, CoreSystemUnavailable, NotFound, PaymentDeclined
from ivr.core_system.models import Bill, Customer, Payment, PaymentOption, Product
from ivr.ticketing.models import Complaint, TicketingUnavailable, TicketNotFound, TicketRef, TicketStatus

CUSTOMER_NO = "1000000001"
CONTRACT_NO = "1012311240000001"
BIRTH_DATE = "17081985"
BILL = Bill(
    contract_no=CONTRACT_NO,
    customer_name="Siti Rahayu",
    product="Gadai KCA",
    amount_due=5_172_500,
    minimum_due=172_500,
    due_date=date(2025, 8, 17),
    options=(
        PaymentOption("PELUNASAN", "Pelunasan", "Full repayment", 5_172_500),
        PaymentOption("PERPANJANGAN", "Perpanjangan (sewa modal)", "Extension (rental fee)", 172_500),
    ),
)


@dataclass
class FakeCoreSystem:
    """Executes each idempotency key at most once, like the real contract; can be down or stall."""

    down: bool = False
    decline: bool = False
    pay_gate: asyncio.Event | None = None
    """When set, pay() waits for the event before executing (a slow core system)."""
    lose_answers: int = 0
    """The next N payments execute, but their answer is lost (the client sees a timeout)."""
    executions: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    references: dict[str, str] = field(default_factory=dict)
    verifications: int = 0

    def _check(self) -> None:
        if self.down:
            raise CoreSystemUnavailable(
                "core system unavailable (simulated): circuit open", circuit_open=True
            )

    async def lookup_customer(self, number: str, *, timeout: float | None = None) -> Customer:
        self._check()
        if number not in (CUSTOMER_NO, CONTRACT_NO):
            raise NotFound("not found in the core system")
        return Customer(CUSTOMER_NO, "Siti Rahayu", (Product(CONTRACT_NO, "Gadai KCA", "active"),))

    async def verify(self, customer_no: str, answer: str, *, timeout: float | None = None) -> bool:
        self._check()
        self.verifications += 1
        return customer_no == CUSTOMER_NO and answer == BIRTH_DATE

    async def bill(self, contract_no: str, *, timeout: float | None = None) -> Bill:
        self._check()
        if contract_no != CONTRACT_NO:
            raise NotFound("not found in the core system")
        return BILL

    async def pay(
        self,
        *,
        contract_no: str,
        option_code: str,
        amount: int,
        idempotency_key: str,
        call_id: str | None = None,
        timeout: float | None = None,
    ) -> Payment:
        self.requests[idempotency_key] += 1
        self._check()
        if self.pay_gate is not None:
            await self.pay_gate.wait()
        if idempotency_key not in self.references:
            self.executions[idempotency_key] += 1
            self.references[idempotency_key] = f"2508{len(self.references) + 1:06d}"
            if self.lose_answers > 0:
                self.lose_answers -= 1
                raise CoreSystemTimeout("core system unavailable (POST /payments): timeout")
        reference = self.references[idempotency_key]
        if self.decline:
            raise PaymentDeclined(
                "payment declined", reference=reference, reason="declined_by_bank", amount=amount
            )
        return Payment(reference, amount, contract_no)

    @property
    def total_executions(self) -> int:
        return sum(self.executions.values())


@dataclass
class FakeTicketing:
    down: bool = False
    delay_s: float = 0.0
    created: list[Complaint] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=lambda: {"ARN-42": "In Progress", "ARN-7": "Resolved"})

    async def create_complaint(
        self, complaint: Complaint, *, check_existing: bool = False, timeout: float | None = None
    ) -> TicketRef:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.down:
            raise TicketingUnavailable("ticketing unavailable (simulated)")
        for number, known in enumerate(self.created, start=100):
            if known.call_id == complaint.call_id:
                return TicketRef(str(number), f"ARN-{number}", "", created=False)
        self.created.append(complaint)
        number = 99 + len(self.created)
        return TicketRef(str(number), f"ARN-{number}", f"https://ariana.example/browse/ARN-{number}")

    async def ticket_status(self, key_or_number: str, *, timeout: float | None = None) -> TicketStatus:
        if self.down:
            raise TicketingUnavailable("ticketing unavailable (simulated)")
        key = f"ARN-{int(key_or_number)}" if key_or_number.isdigit() else key_or_number
        if key not in self.statuses:
            raise TicketNotFound(f"no ticket {key}")
        return TicketStatus(key, self.statuses[key], "indeterminate", "Passion error")


@dataclass
class _Result:
    ok: bool
    message: str = ""


@dataclass
class FakeAmi:
    """Answers every action; records them (MixMonitorMute is what the IVR sends)."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def send_action(
        self,
        action: str,
        fields: Mapping[str, str | int | bool] | Iterable[tuple[str, str | int | bool]] = (),
        timeout: float | None = None,
    ) -> _Result:
        self.sent.append((action, dict(fields)))
        return _Result(True)

    def mute_states(self) -> list[int]:
        return [int(f["State"]) for a, f in self.sent if a == "MixMonitorMute"]
