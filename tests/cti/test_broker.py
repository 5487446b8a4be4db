"""Several hotline instances: an agent on instance B gets the pop of a call instance A saw."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest

import cti.broker as broker_module
from cti.broker import MemoryBus, transport_for
from cti.websocket import WsSettings
from hotline.config import ConfigError, CtiConfig, Secret

from .conftest import SECRET, Harness, fixture_events, harness

SETTINGS = WsSettings(auth_timeout=0.3, close_timeout=0.2)


def _reachable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _need(port: int, what: str) -> None:
    if _reachable(port):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI at 127.0.0.1:{port}")
    pytest.skip(f"{what} not running at 127.0.0.1:{port}")


async def _pair(stack: AsyncExitStack, url: str, bus: MemoryBus | None = None) -> tuple[Harness, Harness]:
    config = CtiConfig(token_secret=Secret(SECRET), broker=url)
    a = await stack.enter_async_context(harness(SETTINGS, cti_config=config, bus=bus))
    b = await stack.enter_async_context(harness(SETTINGS, cti_config=config, bus=bus))
    for side in (a, b):
        subscribed = getattr(side.feature.broker and side.feature.broker._transport, "subscribed", None)
        if subscribed is not None:
            await asyncio.wait_for(subscribed.wait(), 5)
    return a, b


@pytest.fixture
async def stack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AsyncExitStack]:
    # A channel of our own: other test runs on the same broker must not hear us.
    monkeypatch.setattr(broker_module, "CHANNEL", f"hotline.cti.test.{uuid.uuid4().hex}")
    async with AsyncExitStack() as exits:
        yield exits


async def _pop(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=5)
        if message["type"] == "call.ringing":
            return message


async def _agent(side: Harness) -> aiohttp.ClientWebSocketResponse:
    ws = await side.client.ws_connect(f"/cti/ws?token={side.token('1001', 'PJSIP/1001')}")
    assert (await ws.receive_json(timeout=2))["type"] == "hello"
    return ws


@pytest.mark.parametrize(
    ("url", "port", "what"),
    [("memory", 0, ""), ("redis://127.0.0.1:6379", 6379, "Redis"), ("nats://127.0.0.1:4222", 4222, "NATS")],
    ids=["memory-bus", "redis", "nats"],
)
async def test_a_pop_seen_by_instance_a_reaches_the_agent_on_instance_b(
    stack: AsyncExitStack, url: str, port: int, what: str
) -> None:
    if port:
        _need(port, what)
    a, b = await _pair(stack, url, MemoryBus() if url == "memory" else None)
    on_b = await _agent(b)
    await a.publish("jakarta", fixture_events("answered-hold"))  # only instance A reads this PBX
    pop = await _pop(on_b)
    assert (pop["caller"]["number"], pop["call_id"], pop["pbx"]) == (
        "081234567890",
        "1795514646.0",
        "jakarta",
    )
    assert pop["id"] == 1
    # The rest of the call follows, in order, and the agent's state too.
    seen = []
    while "call.ended" not in seen:
        seen.append((await on_b.receive_json(timeout=5))["type"])
    assert [t for t in seen if t.startswith("call.")] == [
        "call.answered",
        "call.held",
        "call.resumed",
        "call.ended",
    ]
    assert "agent.state" in seen
    assert b.feature.hub.stats.remote_received > 0
    await on_b.close()


async def test_an_event_both_instances_read_pops_once(stack: AsyncExitStack) -> None:
    a, b = await _pair(stack, "memory", MemoryBus())
    on_b = await _agent(b)
    called = [e for e in fixture_events("answered-hold") if e.name == "AgentCalled"]
    await a.publish("jakarta", called)
    await b.publish("jakarta", called)  # B reads the same PBX and builds the same pop
    await _pop(on_b)
    await on_b.send_json({"type": "ping", "ref": 1})
    rest = []
    while (message := await on_b.receive_json(timeout=2))["type"] != "pong":
        rest.append(message["type"])
    assert "call.ringing" not in rest


async def test_a_dead_broker_never_delays_this_instances_pops(stack: AsyncExitStack) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    _a, _ = await _pair(stack, "memory", MemoryBus())
    config = CtiConfig(token_secret=Secret(SECRET), broker=f"redis://127.0.0.1:{closed}")
    lonely = await stack.enter_async_context(harness(SETTINGS, cti_config=config))
    ws = await _agent(lonely)
    await lonely.publish("jakarta", [e for e in fixture_events("answered-hold") if e.name == "AgentCalled"])
    assert (await _pop(ws))["caller"]["number"] == "081234567890"
    assert lonely.feature.broker is not None and lonely.feature.broker.published == 0
    await ws.close()


def test_an_unknown_broker_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="broker must be"):
        transport_for("kafka://127.0.0.1:9092")
