"""Neither the API key, the Jira token nor a full customer, contract or phone number reaches a log."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import pytest

from ivr.core_system import (
    CoreSystemClient,
    CoreSystemError,
    CoreSystemSimulator,
    PaymentDeclined,
)
from ivr.ticketing import Complaint, TicketingClient, TicketingSimulator

from .conftest import CORE_KEY, JIRA_TOKEN

SENSITIVE = {
    "core API key": CORE_KEY,
    "Jira token": JIRA_TOKEN,
    "basic auth pair": base64.b64encode(f"hotline:{JIRA_TOKEN}".encode()).decode(),
    "customer number": "1000000001",
    "contract number": "1012311240000001",
    "blocked contract number": "1012322240000005",
    "caller number": "081234567890",
    "birth date": "17081985",
}


async def test_a_busy_day_of_calls_logs_nothing_sensitive(
    captured_logs: io.StringIO,
    core_client: Callable[..., CoreSystemClient],
    core_sim: CoreSystemSimulator,
    ticket_client: Callable[..., TicketingClient],
    ticket_sim: TicketingSimulator,
) -> None:
    core = core_client(timeout_s=0.2, retries=1, breaker_failures=3)
    await core.lookup_customer("1000000001")
    await core.verify("1000000001", "17081985")
    await core.bill("1012311240000001")
    core_sim.faults.lose_next_response(1, method="POST", path="/payments")
    await core.pay(
        contract_no="1012311240000001",
        option_code="PERPANJANGAN",
        amount=172_500,
        idempotency_key="log-key-1",
    )
    with pytest.raises(PaymentDeclined):
        await core.pay(
            contract_no="1012322240000005",
            option_code="ANGSURAN",
            amount=465_400,
            idempotency_key="log-key-2",
        )
    core_sim.faults.fail_status = 503
    for _ in range(3):
        with pytest.raises(CoreSystemError):
            await core.bill("1012311240000001")

    tickets = ticket_client(timeout_s=0.2, retries=1, auth="basic", username="hotline")
    ticket_sim.faults.lose_next_response(1, method="POST", path="/rest/api/2/issue")
    complaint = Complaint(
        "1741939200.7",
        "081234567890",
        "Pengaduan",
        ("menu:2",),
        customer_no="1000000001",
        customer_name="Siti",
        verified=True,
    )
    ref = await tickets.create_complaint(complaint)
    await tickets.ticket_status(ref.key)

    logged = captured_logs.getvalue()
    # The test could pass by logging nothing at all: make sure the interesting lines are there.
    for expected in ("payment_paid", "payment_declined", "upstream_attempt_failed", "circuit_opened",
                     "ticket_found_after_failed_create", "******0001", "************0001"):  # fmt: skip
        assert expected in logged
    leaks = [what for what, value in SENSITIVE.items() if value in logged]
    assert leaks == []
