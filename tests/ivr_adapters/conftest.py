"""The external-system clients against their simulators, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest

from hotline.config import Secret
from hotline.logs import configure
from ivr.core_system import CoreSystemClient, CoreSystemSettings, CoreSystemSimulator
from ivr.ticketing import TicketingClient, TicketingSettings, TicketingSimulator

CORE_KEY = "core-api-key-s3cret"
JIRA_TOKEN = "jira-token-s3cret"
TODAY = date(2025, 3, 14)


@dataclass
class FakeClock:
    """A monotonic clock the test moves by hand (circuit cool-downs without sleeping)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock for the circuit breakers."""
    return FakeClock()


@pytest.fixture
async def core_sim() -> AsyncIterator[CoreSystemSimulator]:
    """A running core-system simulator with an API key and a fixed 'today'."""
    async with CoreSystemSimulator(api_key=CORE_KEY, today=TODAY, customers=20) as sim:
        yield sim


@pytest.fixture
async def core_client(
    core_sim: CoreSystemSimulator, clock: FakeClock
) -> AsyncIterator[Callable[..., CoreSystemClient]]:
    """Build clients of the simulator with settings overrides (closed after the test)."""
    made: list[CoreSystemClient] = []

    def make(**changes: Any) -> CoreSystemClient:
        base = CoreSystemSettings(core_sim.base_url, timeout_s=1.0, backoff_s=0.01, api_key=Secret(CORE_KEY))
        client = CoreSystemClient(replace(base, **changes), clock=clock)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
async def ticket_sim() -> AsyncIterator[TicketingSimulator]:
    """A running Ariana simulator that wants the test token."""
    async with TicketingSimulator(token=JIRA_TOKEN) as sim:
        yield sim


@pytest.fixture
async def ticket_client(
    ticket_sim: TicketingSimulator, clock: FakeClock
) -> AsyncIterator[Callable[..., TicketingClient]]:
    """Build clients of the Ariana simulator with settings overrides (closed after the test)."""
    made: list[TicketingClient] = []

    def make(**changes: Any) -> TicketingClient:
        base = TicketingSettings(ticket_sim.base_url, timeout_s=1.0, backoff_s=0.01, token=Secret(JIRA_TOKEN))
        client = TicketingClient(replace(base, **changes), clock=clock)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line (structlog and stdlib, debug and up) as JSON, in a buffer."""
    buffer = io.StringIO()
    configure(level="debug", fmt="json", stream=buffer)
    yield buffer
