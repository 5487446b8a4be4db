"""A CTI feature on a real aiohttp server, fed AMI events parsed from the Asterisk 22 fixtures.

The migrated store on both backends (``engine``, ``db_url``) comes from tests/pg_support.py.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.broker import MemoryBus
from cti.enrich_call import EnrichSettings
from cti.websocket import WsSettings
from cti.wiring import CtiFeature
from hotline.ami.protocol import AmiParser, Event
from hotline.callcontext import CallContext
from hotline.config import Config, CtiConfig, Secret
from hotline.feature import Services
from hotline.metrics import Registry
from hotline.tokens import TokenSigner
from hotline.web import create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
SECRET = "cti test secret, long enough"


def fixture_events(scenario: str) -> list[Event]:
    """Every AMI event Asterisk sent in one captured scenario, in order."""
    raw = (FIXTURES / scenario / "ami.raw").read_bytes()
    return [m for m in AmiParser().messages(raw) if isinstance(m, Event)]


def with_headers(event: Event, **changes: str) -> Event:
    """A copy of a real event with some header values replaced."""
    return Event(tuple((k, changes.get(k, v)) for k, v in event.headers))


def with_extra(event: Event, *pairs: tuple[str, str]) -> Event:
    """A copy of a real event with more header lines at the end."""
    return Event(event.headers + pairs)


@dataclass(frozen=True)
class FakePbxEvent:
    """Shaped like hotline.ami.dispatch.PbxEvent."""

    pbx: str
    event: Event
    connection: int = 1
    seq: int = 0
    received_at: float = 0.0


class FakeEvents:
    """An EventSource that calls subscribers directly, in subscription order."""

    def __init__(self) -> None:
        self.subscribers: dict[str, list[Callable[[Any], Awaitable[None] | None]]] = defaultdict(list)
        self.names: list[str] = []

    def subscribe(
        self,
        event_name: str,
        callback: Callable[[Any], Awaitable[None] | None],
        *,
        name: str,
        maxsize: int = 1000,
    ) -> None:
        self.subscribers[event_name].append(callback)
        self.names.append(name)

    async def publish(self, pbx: str, event: Event) -> None:
        for callback in self.subscribers.get(event.name, []) + self.subscribers.get("*", []):
            result = callback(FakePbxEvent(pbx, event))
            if inspect.isawaitable(result):
                await result


@dataclass(frozen=True)
class FakeResult:
    ok: bool
    message: str


class FakeAmi:
    """An AMI client that records actions and answers Success (or what ``replies`` says)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []
        self.replies: dict[str, tuple[bool, str]] = {}
        self.down = False

    async def send_action(self, action: str, fields: Any = (), timeout: float | None = None) -> FakeResult:
        if self.down:
            raise ConnectionError("AMI link to jakarta is down")
        self.sent.append((action, dict(fields)))
        ok, message = self.replies.get(action, (True, "Success"))
        return FakeResult(ok, message)


class NoAgi:
    def add(self, script: str, handler: Callable[[Any], Awaitable[None]]) -> None:
        raise AssertionError("the CTI registers no AGI route")


@dataclass
class Harness:
    feature: CtiFeature
    events: FakeEvents
    context: CallContext
    client: TestClient[web.Request, web.Application]
    metrics: Registry
    ami: FakeAmi = field(default_factory=FakeAmi)
    signer: TokenSigner = field(default_factory=lambda: TokenSigner(SECRET.encode()))

    def token(
        self,
        agent: str = "1001",
        iface: str | None = "PJSIP/1001",
        role: str = "agent",
        ttl: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        return self.signer.issue(agent, role, ttl, extra, iface=iface)

    async def publish(self, pbx: str, events: list[Event]) -> None:
        """Publish events and wait until the CTI has handled them all."""
        for event in events:
            await self.events.publish(pbx, event)
        assert self.feature._events is not None
        await self.feature._events.drain()


@pytest.fixture
def ws_settings() -> WsSettings:
    """Short timeouts so the failure paths are tested in milliseconds."""
    return WsSettings(auth_timeout=0.3, close_timeout=0.2)


@asynccontextmanager
async def harness(
    ws_settings: WsSettings,
    *,
    engine: AsyncEngine | None = None,
    cti_config: CtiConfig | None = None,
    bus: MemoryBus | None = None,
    config: Config | None = None,
    enrich: EnrichSettings | None = None,
) -> AsyncIterator[Harness]:
    """A CTI feature set up on a live test server with a fake AMI for PBX jakarta, started and stopped."""
    config = config or Config(cti=cti_config or CtiConfig(token_secret=Secret(SECRET)))
    metrics = Registry()
    app = create_app(config=config, health_checks={}, metrics=metrics, openapi_fragments=[])
    events, context, ami = FakeEvents(), CallContext(), FakeAmi()
    feature = CtiFeature(ws_settings, bus=bus, enrich=enrich)
    services = Services(
        config=config,
        events=events,
        ami={"jakarta": ami},
        agi=NoAgi(),
        web=app,
        call_context=context,
        engine=engine,
    )
    feature.setup(services)
    client = TestClient(TestServer(app))
    await client.start_server()
    await feature.start()
    try:
        yield Harness(feature, events, context, client, metrics, ami)
    finally:
        await feature.stop()
        await client.close()


@pytest.fixture
async def cti(ws_settings: WsSettings) -> AsyncIterator[Harness]:
    """The CTI feature set up on a live test server, started, and stopped afterwards."""
    async with harness(ws_settings) as ready:
        yield ready
