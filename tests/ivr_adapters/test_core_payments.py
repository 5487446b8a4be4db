"""Payments execute at most once per Idempotency-Key, whatever the network does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import pytest

from ivr.core_system import (
    CoreSystemClient,
    CoreSystemSimulator,
    CoreSystemTimeout,
    IdempotencyConflict,
    PaymentDeclined,
)

Make = Callable[..., CoreSystemClient]
CONTRACT = "1012311240000001"
EXTEND = {"contract_no": CONTRACT, "option_code": "PERPANJANGAN", "amount": 172_500}


async def test_a_retry_after_a_lost_answer_reuses_the_key_and_executes_once(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    core_sim.faults.lose_next_response(1, method="POST", path="/payments")
    client = core_client(timeout_s=0.2, retries=2)
    payment = await client.pay(**EXTEND, idempotency_key="call-1-extend")
    assert payment.replayed is True  # the second attempt was answered from the stored outcome
    assert core_sim.payment_requests("call-1-extend") == 2
    assert core_sim.executions("call-1-extend") == 1


async def test_a_retry_after_a_hung_request_executes_once(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    core_sim.faults.hang_next(1, method="POST", path="/payments")
    payment = await core_client(timeout_s=0.2, retries=1).pay(**EXTEND, idempotency_key="call-2-extend")
    assert payment.replayed is False
    assert core_sim.executions("call-2-extend") == 1


async def test_giving_up_then_asking_again_later_never_charges_twice(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    core_sim.faults.lose_next_response(1, method="POST", path="/payments")
    with pytest.raises(CoreSystemTimeout):
        await core_client(timeout_s=0.2, retries=0).pay(**EXTEND, idempotency_key="call-3-extend")
    # Outcome unknown to hotline; asking again with the stored key recovers it (after a restart too).
    again = await core_client().pay(**EXTEND, idempotency_key="call-3-extend")
    assert again.replayed is True
    assert core_sim.executions("call-3-extend") == 1


async def test_two_keys_are_two_payments(core_client: Make, core_sim: CoreSystemSimulator) -> None:
    client = core_client()
    first = await client.pay(**EXTEND, idempotency_key="call-4-first")
    second = await client.pay(**EXTEND, idempotency_key="call-4-second")
    assert first.reference != second.reference
    assert core_sim.executions("call-4-first") == core_sim.executions("call-4-second") == 1
    assert len(core_sim.payments) == 2


async def test_a_key_reused_with_another_body_is_409(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    client = core_client()
    await client.pay(**EXTEND, idempotency_key="call-5-key")
    with pytest.raises(IdempotencyConflict):
        await client.pay(
            contract_no=CONTRACT, option_code="PELUNASAN", amount=5_172_500, idempotency_key="call-5-key"
        )
    assert core_sim.executions("call-5-key") == 1


async def test_concurrent_requests_with_one_key_execute_once(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    client = core_client()
    results = await asyncio.gather(*(client.pay(**EXTEND, idempotency_key="call-6-twice") for _ in range(5)))
    assert len({p.reference for p in results}) == 1
    assert sum(not p.replayed for p in results) == 1
    assert core_sim.executions("call-6-twice") == 1


async def test_a_blocked_contract_is_declined(core_client: Make, core_sim: CoreSystemSimulator) -> None:
    client = core_client()
    bill = await client.bill("1012322240000005")
    option = bill.options[0]
    with pytest.raises(PaymentDeclined) as raised:
        await client.pay(
            contract_no=bill.contract_no,
            option_code=option.code,
            amount=option.amount,
            idempotency_key="call-7-blocked",
        )
    assert raised.value.reason == "contract_blocked"
    assert raised.value.reference.isdigit()
    # A declined outcome is stored too: the retry gets the same decline, not a second attempt.
    with pytest.raises(PaymentDeclined):
        await client.pay(
            contract_no=bill.contract_no,
            option_code=option.code,
            amount=option.amount,
            idempotency_key="call-7-blocked",
        )
    assert core_sim.executions("call-7-blocked") == 1


async def test_declines_switched_on_over_http(core_client: Make, core_sim: CoreSystemSimulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{core_sim.base_url}/_simulator/declines", json={"decline_payments": True}
        ) as resp:
            assert resp.status == 200
        with pytest.raises(PaymentDeclined, match="declined_by_bank"):
            await core_client().pay(**EXTEND, idempotency_key="call-8-bank")
        async with http.get(f"{core_sim.base_url}/_simulator/payments") as resp:
            seen = await resp.json()
    assert seen["payments"]["call-8-bank"] == {
        "executions": 1,
        "requests": 1,
        "status": "declined",
        "reference": seen["payments"]["call-8-bank"]["reference"],
    }


async def test_the_simulator_requires_the_key_header(core_sim: CoreSystemSimulator) -> None:
    from .conftest import CORE_KEY

    async with (
        aiohttp.ClientSession(headers={"X-API-Key": CORE_KEY}) as http,
        http.post(f"{core_sim.base_url}/payments", json=EXTEND) as resp,
    ):
        assert resp.status == 400
        assert (await resp.json())["error"] == "idempotency_key_required"
