"""Pengaduan: identification, then a ticket in Ariana - which never holds the caller up."""

from __future__ import annotations

import time

import pytest

from hotline import names
from ivr import prompts

from .conftest import MakeIvr
from .fakes import BIRTH_DATE, CUSTOMER_NO
from .peer import ScriptedCaller

MAIN = names.AGI_IVR_MAIN


async def test_complaint_opens_a_ticket_and_reads_its_number_back(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["2", CUSTOMER_NO, BIRTH_DATE], escapes={prompts.IDENTIFY_OFFER: "1"})
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PENGADUAN
    assert result.variables[names.VAR_TICKET] == "ARN-100"
    assert prompts.COMPLAINT_NOTED in result.played
    assert result.said[-1] == "100"
    (complaint,) = ivr.ticketing.created
    assert (complaint.customer_no, complaint.verified) == (CUSTOMER_NO, True)
    assert complaint.ivr_path == (
        "main=pengaduan",
        "identify=yes",
        "customer=******0001",
        "dob=***",
        "verified=yes",
    )
    assert complaint.caller_number == "081234567890"
    context = await ivr.context.get("jakarta", "1700000000.1")
    assert context["ticket"] == "ARN-100"
    row = await ivr.row(MAIN)
    assert row is not None and row["ticket_key"] == "ARN-100"


async def test_a_retried_session_does_not_open_a_second_ticket(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    await ivr.call(MAIN, keys=["2"])
    again = await ivr.call(MAIN, keys=["2"])
    assert again.variables[names.VAR_TICKET] == "ARN-100"
    assert len(ivr.ticketing.created) == 1


async def test_ticketing_down_still_routes_the_complaint(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    ivr.ticketing.down = True
    result = await ivr.call(MAIN, keys=["2"])
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PENGADUAN
    assert names.VAR_TICKET not in result.variables
    assert prompts.COMPLAINT_NOTED not in result.played
    context = await ivr.context.get("jakarta", "1700000000.1")
    assert context["ticket_error"] == "unavailable"


async def test_slow_ticketing_does_not_hold_the_caller(
    make_ivr: MakeIvr, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ivr.complaints.READ_BACK_WAIT_S", 0.2)
    ivr = await make_ivr()
    ivr.ticketing.delay_s = 0.8
    started = time.monotonic()
    peer = ScriptedCaller(keys=["2"])
    result = await peer.call(ivr.port, f"{MAIN}?pbx=jakarta")
    routed_after = time.monotonic() - started
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PENGADUAN
    assert routed_after < 0.7
    # The ticket still arrives, for the agent's screen-pop and the call record.
    await ivr.deps.background.drain(5.0)
    context = await ivr.context.get("jakarta", "1700000000.1")
    assert context["ticket"] == "ARN-100"
    row = await ivr.row(MAIN)
    assert row is not None and row["ticket_key"] == "ARN-100"


async def test_no_ticketing_configured(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr(ticketing=None)
    result = await ivr.call(MAIN, keys=["2"])
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PENGADUAN
