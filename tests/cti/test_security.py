"""Abuse of the CTI socket: floods of commands, asking for others' streams, odd command bodies."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from cti import protocol
from cti.ratelimit import CommandLimiter

from .conftest import Harness, fixture_events

Ws = aiohttp.ClientWebSocketResponse


async def connect(
    cti: Harness, agent: str = "1001", iface: str = "PJSIP/1001", last_id: int | None = None
) -> Ws:
    query = f"&last_id={last_id}" if last_id is not None else ""
    ws = await cti.client.ws_connect(f"/cti/ws?token={cti.token(agent, iface)}{query}")
    assert (await ws.receive_json(timeout=2))["type"] == "hello"
    return ws


async def test_a_flood_of_commands_is_rate_limited_then_closed(cti: Harness) -> None:
    ws = await connect(cti)
    for number in range(40):
        await ws.send_json({"type": "state.ready", "ref": number})
    results: list[dict[str, Any]] = []
    while True:
        msg = await ws.receive(timeout=2)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        results.append(json.loads(msg.data))
    assert ws.close_code == protocol.CLOSE_ABUSE
    codes = [r.get("code") for r in results if r["type"] == "result"]
    assert codes[:10] == [None] * 10  # the burst goes through
    assert codes[10:] == ["rate_limited"] * 5  # then five refusals, and the socket is closed
    assert len(cti.ami.sent) == 10  # Asterisk saw only what was allowed
    assert "hotline_cti_rate_limited_total 5\n" in cti.metrics.render()


def test_the_bucket_refills_with_time() -> None:
    now = [0.0]
    bucket = CommandLimiter(rate=2.0, burst=2, clock=lambda: now[0])
    assert [bucket.allow() for _ in range(3)] == [True, True, False]
    now[0] = 0.5
    assert bucket.allow() and not bucket.allow()


async def test_a_replay_only_ever_returns_the_callers_own_stream(cti: Harness) -> None:
    victim = await connect(cti)
    await cti.publish("jakarta", fixture_events("answered-hold"))
    await victim.close()
    thief = await connect(cti, "1002", "PJSIP/1002", last_id=0)
    await thief.send_json({"type": "replay", "last_id": 0})
    await thief.send_json({"type": "ping", "ref": "end"})
    seen = []
    while (message := await thief.receive_json(timeout=2))["type"] != "pong":
        seen.append(message)
    assert all(m.get("iface") in (None, "PJSIP/1002") for m in seen)
    assert not [m for m in seen if str(m.get("type")).startswith("call.")]
    await thief.close()


@pytest.mark.parametrize(
    "body",
    [
        {"type": "call.hangup", "call_id": "x" * 500},
        {"type": "call.hangup", "call_id": ["1795514646.0"]},
        {"type": "call.transfer", "to": "1600\r\nAction: Originate"},
        {"type": "call.dial", "number": 81234567890},
        {"type": "call.disposition", "call_id": "1", "category": "informasi", "notes": "x" * 5000},
        {"type": "queue.login", "queues": "cc-informasi"},
        {"type": "replay", "last_id": "all"},
    ],
    ids=[
        "long-call-id",
        "list-call-id",
        "header-injection",
        "number-not-text",
        "notes-too-long",
        "queues",
        "replay",
    ],
)
async def test_odd_command_bodies_are_refused_and_nothing_reaches_asterisk(
    cti: Harness, body: dict[str, Any]
) -> None:
    ws = await connect(cti)
    await ws.send_json(body)
    reply = await ws.receive_json(timeout=2)
    assert reply["type"] in ("result", "error")
    assert reply.get("ok") is not True
    assert cti.ami.sent == []
    await ws.send_json({"type": "ping", "ref": 1})
    assert (await ws.receive_json(timeout=2))["type"] == "pong"  # the socket stays usable
    await ws.close()
