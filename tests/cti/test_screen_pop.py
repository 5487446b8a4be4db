"""The screen-pop path end to end: real Asterisk 22 events in, websocket messages out."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from hotline import names
from hotline.ami.protocol import Event

from .conftest import Harness, fixture_events, with_extra, with_headers

Ws = aiohttp.ClientWebSocketResponse


async def connect(cti: Harness, token: str) -> Ws:
    ws = await cti.client.ws_connect(f"/cti/ws?token={token}")
    hello = await ws.receive_json(timeout=2)
    assert hello["type"] == "hello"
    return ws


NO_MORE_IVR = {
    "queue": None,
    "lang": None,
    "script": None,
    "verified": None,
    "outlet": None,
    "payment_ref": None,
}
"""The pop's ivr fields beyond choice and path, when the IVR recorded none of them."""

STATE_TYPES = frozenset({"agent.state", "wrapup.started", "call.held", "call.resumed"})
"""Agent-state messages (tested in test_agent_state.py); these tests follow the call events."""


async def next_json(ws: Ws) -> dict[str, Any]:
    """The next call event (state messages of the socket's own phone are skipped)."""
    while True:
        msg = await ws.receive(timeout=2)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        data: dict[str, Any] = json.loads(msg.data)
        if data["type"] not in STATE_TYPES:
            return data


async def assert_nothing_queued(ws: Ws) -> None:
    """A ping's pong comes after anything queued before it: if the pong is next, nothing was."""
    await ws.send_json({"type": "ping", "ref": "check"})
    reply = await next_json(ws)
    assert reply == {"v": 1, "type": "pong", "ref": "check"}, reply


async def test_agent_gets_pop_answer_and_end_of_its_call(cti: Harness) -> None:
    await cti.context.set("jakarta", "1795514646.0", {"choice": "informasi", "path": "main/informasi"})
    agent = await connect(cti, cti.token("1001", "PJSIP/1001"))
    other = await connect(cti, cti.token("1002", "PJSIP/1002"))
    await cti.publish("jakarta", fixture_events("answered-hold"))

    ringing = await next_json(agent)
    assert ringing == {
        "v": 1,
        "type": "call.ringing",
        "id": 1,
        "ts": ringing["ts"],
        "call_id": "1795514646.0",
        "uniqueid": "1795514646.0",
        "pbx": "jakarta",
        "queue": "cc-informasi",
        "caller": {"number": "081234567890", "name": "Śantoso Wibowo"},
        "ivr": {"choice": "informasi", "path": "main/informasi", **NO_MORE_IVR},
        "waited_s": 0.0,
        # Without a store, a core system or a ticketing system there is nothing more to show.
        "site": None,
        "customer": None,
        "history": None,
        "tickets": [],
        "enrichment": {"history": "none", "customer": "none", "tickets": "none"},
    }
    # The AMI Timestamp of AgentCalled (1795514648.479414), in UTC.
    assert ringing["ts"] == "2026-11-24T10:04:08.479Z"
    assert datetime.fromisoformat(ringing["ts"]).timestamp() == pytest.approx(1795514648.479, abs=0.001)

    answered = await next_json(agent)
    assert answered["type"] == "call.answered" and answered["id"] > ringing["id"]
    assert (answered["call_id"], answered["waited_s"], answered["ring_s"]) == ("1795514646.0", 2, 2)
    ended = await next_json(agent)
    assert ended["type"] == "call.ended" and ended["id"] > answered["id"]
    assert (ended["talk_s"], ended["reason"]) == (11, "caller")
    await assert_nothing_queued(agent)
    await assert_nothing_queued(other)
    await agent.close()
    await other.close()


async def test_two_concurrent_calls_reach_only_their_own_agents(cti: Harness) -> None:
    first = await connect(cti, cti.token("1001", "PJSIP/1001"))
    second = await connect(cti, cti.token("1002", "PJSIP/1002"))
    bystander = await connect(cti, cti.token("1003", "PJSIP/1003"))
    await cti.publish("jakarta", fixture_events("two-calls-concurrent"))

    pop1, pop2 = await next_json(first), await next_json(second)
    assert (pop1["caller"], pop1["queue"]) == (
        {"number": "081211112222", "name": "Wahyu Nugroho"},
        "cc-informasi",
    )
    assert (pop2["caller"], pop2["queue"]) == (
        {"number": "081233334444", "name": "Sri Mulyani"},
        "cc-pengaduan",
    )
    assert [(await next_json(first))["type"] for _ in range(2)] == ["call.answered", "call.ended"]
    assert [(await next_json(second))["type"] for _ in range(2)] == ["call.answered", "call.ended"]
    for ws in (first, second, bystander):
        await assert_nothing_queued(ws)
        await ws.close()


async def test_pops_are_scoped_to_the_pbx_named_in_the_token(cti: Harness) -> None:
    jakarta = await connect(cti, cti.token("1001", "PJSIP/1001", extra={"pbx": "jakarta"}))
    yogya = await connect(cti, cti.token("y1001", "PJSIP/1001", extra={"pbx": "yogyakarta"}))
    anywhere = await connect(cti, cti.token("any", "pjsip/1001"))
    await cti.publish("yogyakarta", [e for e in fixture_events("answered-hold") if e.name == "AgentCalled"])
    assert (await next_json(yogya))["pbx"] == "yogyakarta"
    assert (await next_json(anywhere))["type"] == "call.ringing"
    await assert_nothing_queued(jakarta)
    for ws in (jakarta, yogya, anywhere):
        await ws.close()


async def test_ivr_channel_variables_on_the_event_win_over_the_call_context(cti: Harness) -> None:
    await cti.context.set("jakarta", "1795514646.0", {"choice": "informasi", "path": "main/informasi"})
    called = next(e for e in fixture_events("answered-hold") if e.name == "AgentCalled")
    event = with_extra(
        called,
        ("ChanVariable", f"{names.VAR_IVR_CHOICE}=pengaduan"),
        ("ChanVariable", f"{names.VAR_IVR_PATH}=main/pengaduan"),
    )
    agent = await connect(cti, cti.token())
    await cti.publish("jakarta", [event])
    pop = await next_json(agent)
    assert (pop["ivr"]["choice"], pop["ivr"]["path"]) == ("pengaduan", "main/pengaduan")
    await agent.close()


async def test_pop_without_any_ivr_context_has_nulls(cti: Harness) -> None:
    called = next(e for e in fixture_events("answered-hold") if e.name == "AgentCalled")
    agent = await connect(cti, cti.token())
    await cti.publish("jakarta", [with_headers(called, CallerIDName="<unknown>")])
    pop = await next_json(agent)
    assert pop["ivr"] == {"choice": None, "path": None, **NO_MORE_IVR}
    assert pop["caller"] == {"number": "081234567890", "name": None}
    assert pop["waited_s"] is None  # the QueueCallerJoin was not seen
    await agent.close()


async def test_ring_no_answer_and_abandon_cancel_the_pop(cti: Harness) -> None:
    agent1 = await connect(cti, cti.token("1001", "PJSIP/1001"))
    agent2 = await connect(cti, cti.token("1002", "PJSIP/1002"))
    await cti.publish("jakarta", fixture_events("abandon"))
    # Asterisk rang 1001 (no answer), then 1002, then the caller hung up while 1002 rang.
    ring1, cancel1 = await next_json(agent1), await next_json(agent1)
    assert (ring1["type"], ring1["queue"]) == ("call.ringing", "cc-pengaduan")
    assert (cancel1["type"], cancel1["reason"], cancel1["call_id"]) == (
        "call.cancelled",
        "no_answer",
        "1795514684.0",
    )
    ring2, cancel2 = await next_json(agent2), await next_json(agent2)
    assert ring2["type"] == "call.ringing" and ring2["waited_s"] > 0
    assert (cancel2["type"], cancel2["reason"], cancel2["queue"]) == (
        "call.cancelled",
        "caller_left",
        "cc-pengaduan",
    )
    await assert_nothing_queued(agent1)
    await assert_nothing_queued(agent2)
    await agent1.close()
    await agent2.close()


async def test_event_ids_increase_per_agent_across_reconnects_and_screens(cti: Harness) -> None:
    events = fixture_events("answered-hold")
    called = [e for e in events if e.name == "AgentCalled"]
    screen_a = await connect(cti, cti.token())
    screen_b = await connect(cti, cti.token())
    await cti.publish("jakarta", called)
    first = await next_json(screen_a)
    assert first["id"] == (await next_json(screen_b))["id"] == 1
    await screen_a.close()
    await screen_b.close()
    again = await connect(cti, cti.token())
    await cti.publish("jakarta", called)
    # The agent.state that followed the first pop took id 2 (and the snapshot after hello has none).
    assert (await next_json(again))["id"] == 3
    await again.close()


async def test_slow_call_context_does_not_hold_the_pop(cti: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import cti.events as events_module

    monkeypatch.setattr(events_module, "CONTEXT_TIMEOUT", 0.05)

    async def slow_get(pbx: str, uniqueid: str) -> dict[str, str]:
        await asyncio.sleep(5)
        return {"choice": "late"}

    monkeypatch.setattr(cti.context, "get", slow_get)
    agent = await connect(cti, cti.token())
    await cti.publish("jakarta", [e for e in fixture_events("answered-hold") if e.name == "AgentCalled"])
    pop = await next_json(agent)
    assert pop["ivr"] == {"choice": None, "path": None, **NO_MORE_IVR}
    await agent.close()


async def test_events_with_missing_headers_are_ignored_not_fatal(cti: Harness) -> None:
    agent = await connect(cti, cti.token())
    await cti.publish(
        "jakarta",
        [
            Event((("Event", "AgentCalled"),)),
            Event((("Event", "AgentConnect"),)),
            Event((("Event", "AgentComplete"), ("Interface", "PJSIP/1001"))),
        ],
    )
    ended = await next_json(agent)
    assert ended["type"] == "call.ended" and ended["uniqueid"] is None
    assert cti.feature._events is not None and cti.feature._events.failed == 0
    await agent.close()
