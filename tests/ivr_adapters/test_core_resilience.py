"""Timeouts, retries only where safe, and the circuit breaker, against a misbehaving simulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest

from hotline.config import CoreSystemConfig
from ivr.breaker import CircuitState
from ivr.core_system import (
    CoreSystemClient,
    CoreSystemSettings,
    CoreSystemSimulator,
    CoreSystemTimeout,
    CoreSystemUnavailable,
)
from ivr.feature import _settings

from .conftest import FakeClock

Make = Callable[..., CoreSystemClient]


async def test_5xx_then_recovery_within_the_retries(core_client: Make, core_sim: CoreSystemSimulator) -> None:
    core_sim.faults.fail_next(2, 503)
    customer = await core_client(retries=2).lookup_customer("1000000002")
    assert customer.name == "Budi Santoso"
    assert core_sim.faults.requests_seen == 3


async def test_5xx_beyond_the_retries_is_unavailable(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    core_sim.faults.fail_next(3, 502)
    with pytest.raises(CoreSystemUnavailable, match="502") as raised:
        await core_client(retries=1).bill("1012311240000001")
    assert raised.value.circuit_open is False
    assert "1012311240000001" not in str(raised.value)
    assert core_sim.faults.requests_seen == 2


async def test_verification_is_never_retried(core_client: Make, core_sim: CoreSystemSimulator) -> None:
    core_sim.faults.fail_next(1, 503)
    with pytest.raises(CoreSystemUnavailable):
        await core_client(retries=3).verify("1000000001", "17081985")
    assert core_sim.faults.requests_seen == 1


async def test_a_keyed_payment_is_retried_after_a_5xx(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    core_sim.faults.fail_next(1, 500, method="POST", path="/payments")
    payment = await core_client(retries=1).pay(
        contract_no="1012311240000001",
        option_code="PERPANJANGAN",
        amount=172_500,
        idempotency_key="retry-after-500",
    )
    assert payment.amount == 172_500
    assert core_sim.executions("retry-after-500") == 1


async def test_a_slow_core_system_hits_the_timeout(core_client: Make, core_sim: CoreSystemSimulator) -> None:
    core_sim.faults.latency_s = 0.3
    client = core_client(timeout_s=0.1, retries=0)
    started = time.monotonic()
    with pytest.raises(CoreSystemTimeout, match=r"0\.1s"):
        await client.lookup_customer("1000000001")
    assert time.monotonic() - started < 0.25
    # A per-call timeout overrides the settings' one.
    customer = await client.lookup_customer("1000000001", timeout=2.0)
    assert customer.customer_no == "1000000001"


async def test_the_circuit_opens_fails_fast_half_opens_and_closes(
    core_client: Make, core_sim: CoreSystemSimulator, clock: FakeClock
) -> None:
    client = core_client(retries=0, breaker_failures=3, breaker_reset_s=30.0)
    core_sim.faults.fail_status = 503
    for _ in range(3):
        with pytest.raises(CoreSystemUnavailable) as raised:
            await client.lookup_customer("1000000001")
        assert raised.value.circuit_open is False
    assert client.breaker.state is CircuitState.OPEN
    seen = core_sim.faults.requests_seen
    with pytest.raises(CoreSystemUnavailable, match="circuit open") as raised:
        await client.bill("1012311240000001")
    assert raised.value.circuit_open is True
    assert core_sim.faults.requests_seen == seen  # failed fast: nothing was sent

    clock.advance(30)  # cool-down over; the probe fails, so the circuit opens again
    with pytest.raises(CoreSystemUnavailable) as raised:
        await client.lookup_customer("1000000001")
    assert raised.value.circuit_open is False
    assert core_sim.faults.requests_seen == seen + 1
    with pytest.raises(CoreSystemUnavailable, match="circuit open"):
        await client.lookup_customer("1000000001")

    core_sim.faults.clear()
    clock.advance(30)
    assert client.breaker.state is CircuitState.HALF_OPEN
    assert (await client.lookup_customer("1000000001")).name == "Siti Rahayu"
    assert client.breaker.state is CircuitState.CLOSED
    assert (await client.bill("1012311240000001")).amount_due == 5_172_500


async def test_an_open_circuit_stops_retries_at_once(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    core_sim.faults.fail_status = 500
    client = core_client(retries=5, breaker_failures=2)
    with pytest.raises(CoreSystemUnavailable) as raised:
        await client.lookup_customer("1000000001")
    assert raised.value.circuit_open is True
    assert core_sim.faults.requests_seen == 2


async def test_4xx_answers_do_not_count_as_failures(core_client: Make, core_sim: CoreSystemSimulator) -> None:
    client = core_client(breaker_failures=2)
    for _ in range(4):
        with pytest.raises(Exception, match="not found"):
            await client.lookup_customer("1000000999")
    assert client.breaker.state is CircuitState.CLOSED


async def test_a_core_system_that_is_not_there(unused_tcp_port: int) -> None:
    from ivr.core_system import CoreSystemSettings

    settings = CoreSystemSettings(f"http://127.0.0.1:{unused_tcp_port}", retries=1, backoff_s=0.01)
    async with CoreSystemClient(settings) as client:
        with pytest.raises(CoreSystemUnavailable, match="connection failed"):
            await client.lookup_customer("1000000001")


async def test_faults_switch_over_http(core_client: Make, core_sim: CoreSystemSimulator) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{core_sim.base_url}/_simulator/faults"
        async with http.post(url, json={"fail_next": {"count": 1, "status": 500, "method": "GET"}}) as resp:
            assert resp.status == 200
        async with http.post(url, json={"fail_next": "lots"}) as resp:
            assert resp.status == 400
        with pytest.raises(CoreSystemUnavailable, match="500"):
            await core_client(retries=0).lookup_customer("1000000001")
        async with http.post(url, json={"latency_s": 0.3}) as resp:
            assert (await resp.json())["latency_s"] == 0.3
        with pytest.raises(CoreSystemTimeout):
            await core_client(retries=0, timeout_s=0.05).lookup_customer("1000000001")
        async with http.post(url, json={"clear": True}) as resp:
            assert (await resp.json())["latency_s"] == 0.0
    assert (await core_client().lookup_customer("1000000001")).name == "Siti Rahayu"


async def test_requests_beyond_the_connections_wait_within_their_timeout(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    core_sim.faults.latency_s = 0.2
    narrow = core_client(timeout_s=0.3, retries=0, max_connections=1)
    answers = await asyncio.gather(
        *(narrow.lookup_customer("1000000001") for _ in range(3)), return_exceptions=True
    )
    assert sum(isinstance(a, CoreSystemTimeout) for a in answers) == 2  # queued behind the first one
    wide = core_client(timeout_s=0.3, retries=0, max_connections=3)
    answers = await asyncio.gather(
        *(wide.lookup_customer("1000000001") for _ in range(3)), return_exceptions=True
    )
    assert not any(isinstance(a, Exception) for a in answers)


def test_max_connections_comes_from_the_configuration() -> None:
    section = CoreSystemConfig(base_url="http://core.example", max_connections=250)
    settings = _settings(section, CoreSystemSettings)
    assert settings.max_connections == 250
    with pytest.raises(ValueError, match="max_connections"):
        CoreSystemClient(CoreSystemSettings("http://core.example", max_connections=0))
