"""TicketingClient against TicketingSimulator: Jira REST v2 shapes, no duplicate complaint tickets."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

from hotline.config import Secret
from ivr.breaker import CircuitState
from ivr.ticketing import (
    Complaint,
    TicketingClient,
    TicketingError,
    TicketingSimulator,
    TicketingUnavailable,
    TicketNotFound,
    TicketRejected,
    dedupe_label,
)

from .conftest import JIRA_TOKEN, FakeClock

Make = Callable[..., TicketingClient]
COMPLAINT = Complaint(
    call_id="1741939200.42",
    caller_number="081234567890",
    summary="Pengaduan: emas belum dikembalikan setelah pelunasan",
    ivr_path=("bahasa:id", "menu:2 pengaduan", "nasabah:******0001 terverifikasi"),
    customer_no="1000000001",
    customer_name="Siti Rahayu",
    verified=True,
)


async def test_create_a_complaint_and_read_its_status(
    ticket_client: Make, ticket_sim: TicketingSimulator
) -> None:
    client = ticket_client()
    ref = await client.create_complaint(COMPLAINT)
    assert (ref.key, ref.created) == ("ARN-1", True)
    assert ref.url.endswith("/browse/ARN-1")
    issue = ticket_sim.issues["ARN-1"]
    assert issue.issue_type == "Pengaduan"
    assert dedupe_label("1741939200.42") in issue.labels
    assert "********7890" in issue.description and "081234567890" not in issue.description
    assert "Siti Rahayu (CIF 1000000001), terverifikasi" in issue.description
    assert "menu:2 pengaduan" in issue.description and "1741939200.42" in issue.description

    status = await client.ticket_status("ARN-1")
    assert (status.status, status.category, status.summary) == ("Open", "new", COMPLAINT.summary)
    ticket_sim.set_status("ARN-1", "In Progress")
    assert (await client.ticket_status("1")).status == "In Progress"  # digits keyed in by a caller


async def test_jira_transitions_move_the_status(ticket_client: Make, ticket_sim: TicketingSimulator) -> None:
    ref = await ticket_client().create_complaint(COMPLAINT)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {JIRA_TOKEN}"}) as http:
        url = f"{ticket_sim.base_url}/rest/api/2/issue/{ref.key}/transitions"
        async with http.post(url, json={"transition": {"id": "21"}}) as resp:
            assert resp.status == 204
        async with http.post(url, json={"transition": {"id": "99"}}) as resp:
            assert resp.status == 400
    status = await ticket_client().ticket_status(ref.key)
    assert (status.status, status.category) == ("Resolved", "done")


async def test_a_lost_creation_answer_does_not_duplicate_the_ticket(
    ticket_client: Make, ticket_sim: TicketingSimulator
) -> None:
    ticket_sim.faults.lose_next_response(1, method="POST", path="/rest/api/2/issue")
    ref = await ticket_client(timeout_s=0.2, retries=2).create_complaint(COMPLAINT)
    assert (ref.key, ref.created) == ("ARN-1", False)  # found by its dedupe label
    assert len(ticket_sim.issues) == 1


async def test_a_creation_refused_with_5xx_is_created_once_after_the_search(
    ticket_client: Make, ticket_sim: TicketingSimulator
) -> None:
    ticket_sim.faults.fail_next(1, 503, method="POST", path="/rest/api/2/issue")
    ref = await ticket_client(retries=2).create_complaint(COMPLAINT)
    assert (ref.key, ref.created) == ("ARN-1", True)
    assert len(ticket_sim.issues) == 1


async def test_when_the_search_fails_the_ticket_is_not_created_blindly(
    ticket_client: Make, ticket_sim: TicketingSimulator
) -> None:
    ticket_sim.faults.lose_next_response(1, method="POST", path="/rest/api/2/issue")
    ticket_sim.faults.fail_next(10, 503, method="GET", path="/rest/api/2/search")
    with pytest.raises(TicketingUnavailable):
        await ticket_client(timeout_s=0.2, retries=2).create_complaint(COMPLAINT)
    assert len(ticket_sim.issues) == 1


async def test_check_existing_makes_a_repeated_request_idempotent(
    ticket_client: Make, ticket_sim: TicketingSimulator
) -> None:
    client = ticket_client()
    first = await client.create_complaint(COMPLAINT, check_existing=True)
    again = await client.create_complaint(COMPLAINT, check_existing=True)
    assert (first.key, first.created, again.key, again.created) == ("ARN-1", True, "ARN-1", False)
    assert await client.find_by_call("1741939200.42") == again
    assert await client.find_by_call("1741939200.99") is None


async def test_basic_auth_and_a_wrong_token(ticket_client: Make) -> None:
    ref = await ticket_client(auth="basic", username="hotline").create_complaint(COMPLAINT)
    assert ref.created
    with pytest.raises(TicketingError, match="credentials"):
        await ticket_client(token=Secret("wrong")).ticket_status(ref.key)
    with pytest.raises(ValueError, match="username"):
        ticket_client(auth="basic", username="")


async def test_unknown_and_malformed_ticket_keys(ticket_client: Make, ticket_sim: TicketingSimulator) -> None:
    client = ticket_client()
    with pytest.raises(TicketNotFound):
        await client.ticket_status("ARN-404")
    for bad in ("", "arn-", "ARN-1/../../x", "12ab"):
        with pytest.raises(TicketRejected):
            await client.ticket_status(bad)
    assert ticket_sim.faults.requests_seen == 1


async def test_jira_validation_errors_are_reported(ticket_client: Make) -> None:
    with pytest.raises(TicketRejected, match="project: valid project is required"):
        await ticket_client(project_key="XYZ").create_complaint(COMPLAINT)
    with pytest.raises(TicketRejected, match="summary"):
        await ticket_client().create_complaint(Complaint("1.2", "0812", summary="  "))


async def test_the_ticketing_circuit_opens_and_recovers(
    ticket_client: Make, ticket_sim: TicketingSimulator, clock: FakeClock
) -> None:
    client = ticket_client(retries=0, breaker_failures=2, breaker_reset_s=5.0)
    ticket_sim.faults.fail_status = 500
    for _ in range(2):
        with pytest.raises(TicketingUnavailable):
            await client.ticket_status("ARN-1")
    with pytest.raises(TicketingUnavailable, match="circuit open") as raised:
        await client.create_complaint(COMPLAINT)
    assert raised.value.circuit_open
    assert ticket_sim.faults.requests_seen == 2 and not ticket_sim.issues
    ticket_sim.faults.clear()
    clock.advance(5)
    assert (await client.create_complaint(COMPLAINT)).created
    assert client.breaker.state is CircuitState.CLOSED


async def test_a_slow_ticketing_system_hits_the_timeout(
    ticket_client: Make, ticket_sim: TicketingSimulator
) -> None:
    ticket_sim.faults.latency_s = 0.3
    with pytest.raises(TicketingUnavailable, match="no answer"):
        await ticket_client(timeout_s=0.05, retries=0).ticket_status("ARN-1")


async def test_unsupported_jql_is_a_jira_400(ticket_sim: TicketingSimulator) -> None:
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {JIRA_TOKEN}"}) as http,
        http.get(f"{ticket_sim.base_url}/rest/api/2/search", params={"jql": "assignee = me"}) as resp,
    ):
        assert resp.status == 400
        assert "assignee" in (await resp.json())["errorMessages"][0]
