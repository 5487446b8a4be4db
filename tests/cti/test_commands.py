"""Agent commands: what goes to Asterisk, what is refused, and that nobody acts on another's call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.store import recent_dispositions
from cti.websocket import WsSettings
from hotline.auth.auditlog import audit_entries
from hotline.config import CtiConfig, Secret

from .conftest import SECRET, Harness, fixture_events, harness, with_headers

Ws = aiohttp.ClientWebSocketResponse
LIVE_CALL = "1795514646.0"
"""The linkedid of the answered-hold capture (agent 1001, caller 081234567890)."""


async def connect(cti: Harness, agent: str = "1001", iface: str | None = "PJSIP/1001", **kw: Any) -> Ws:
    ws = await cti.client.ws_connect(f"/cti/ws?token={cti.token(agent, iface, **kw)}")
    assert (await ws.receive_json(timeout=2))["type"] == "hello"
    return ws


async def command(ws: Ws, message_type: str, **body: Any) -> dict[str, Any]:
    """Send one command; its result (events before it are skipped)."""
    await ws.send_json({"type": message_type, "ref": message_type, **body})
    while True:
        message: dict[str, Any] = json.loads((await ws.receive(timeout=2)).data)
        if message["type"] in ("result", "error"):
            return message


async def live_call(cti: Harness) -> None:
    """Agent 1001 is talking to the caller of the answered-hold capture (events up to the Hold)."""
    events = fixture_events("answered-hold")
    await cti.publish("jakarta", events[: next(i for i, e in enumerate(events) if e.name == "Hold")])


async def test_queue_login_adds_the_agent_with_its_interface_and_name(cti: Harness) -> None:
    ws = await connect(cti)
    result = await command(ws, "queue.login", queues=["cc-informasi", "cc-pengaduan"])
    assert result["ok"] and result["ref"] == "queue.login"
    assert cti.ami.sent == [
        (
            "QueueAdd",
            {
                "Queue": queue,
                "Interface": "PJSIP/1001",
                "MemberName": "1001",
                "StateInterface": "PJSIP/1001",
                "Penalty": "0",
                "Paused": "false",
            },
        )
        for queue in ("cc-informasi", "cc-pengaduan")
    ]
    bad = await command(ws, "queue.login", queues=["no-such-queue"])
    assert (bad["ok"], bad["code"]) == (False, "bad_request")


async def test_logout_removes_every_queue_asterisk_says_the_agent_is_in(cti: Harness) -> None:
    await live_call(cti)  # the QueueMemberStatus events tell the three queues of 1001
    ws = await connect(cti)
    assert (await command(ws, "queue.logout"))["ok"]
    assert [(a, f["Queue"]) for a, f in cti.ami.sent] == [
        ("QueueRemove", "cc-informasi"),
        ("QueueRemove", "cc-pengaduan"),
        ("QueueRemove", "sapa-helpdesk"),
    ]


async def test_not_ready_needs_a_configured_reason_and_ready_unpauses(cti: Harness) -> None:
    ws = await connect(cti)
    refused = await command(ws, "state.not_ready", reason="tidur")
    assert (refused["ok"], refused["code"]) == (False, "bad_reason")
    assert "istirahat" in refused["message"]
    assert cti.ami.sent == []
    assert (await command(ws, "state.not_ready", reason="istirahat"))["ok"]
    assert (await command(ws, "state.ready"))["ok"]
    assert cti.ami.sent == [
        ("QueuePause", {"Interface": "PJSIP/1001", "Paused": "true", "Reason": "istirahat"}),
        ("QueuePause", {"Interface": "PJSIP/1001", "Paused": "false"}),
    ]


async def test_asterisk_refusals_and_a_dead_link_are_reported(cti: Harness) -> None:
    ws = await connect(cti)
    cti.ami.replies["QueueRemove"] = (False, "Member not dynamic")
    await live_call(cti)
    refused = await command(ws, "queue.logout", queues=["cc-informasi"])
    assert (refused["code"], refused["message"]) == (
        "refused",
        "Asterisk refused QueueRemove: Member not dynamic",
    )
    cti.ami.down = True
    down = await command(ws, "state.ready")
    assert (down["ok"], down["code"]) == (False, "pbx_unreachable")


async def test_hangup_acts_on_the_agents_own_channel_only(cti: Harness) -> None:
    await live_call(cti)
    owner, other = await connect(cti), await connect(cti, "1002", "PJSIP/1002")
    stolen = await command(other, "call.hangup", call_id=LIVE_CALL)
    assert (stolen["ok"], stolen["code"]) == (False, "not_your_call")
    nothing = await command(other, "call.hangup")
    assert nothing["code"] == "no_call"
    assert cti.ami.sent == []  # nothing reached Asterisk
    assert (await command(owner, "call.hangup", call_id=LIVE_CALL))["ok"]
    assert cti.ami.sent == [("Hangup", {"Channel": "PJSIP/1001-00000001", "Cause": "16"})]


async def test_transfers_move_the_agents_own_caller_only(cti: Harness) -> None:
    await live_call(cti)
    owner, other = await connect(cti), await connect(cti, "1002", "PJSIP/1002")
    for kind in ("blind", "attended"):
        stolen = await command(other, "call.transfer", call_id=LIVE_CALL, queue="sapa-helpdesk", kind=kind)
        assert stolen["code"] == "not_your_call"
    assert cti.ami.sent == []
    assert (await command(owner, "call.transfer", call_id=LIVE_CALL, queue="sapa-helpdesk"))["ok"]
    assert (await command(owner, "call.transfer", to="1002", kind="attended"))["ok"]
    assert cti.ami.sent == [
        (
            "Redirect",
            {
                "Channel": "PJSIP/provider-00000000",
                "Context": "from-agents",
                "Exten": "1600",
                "Priority": "1",
            },
        ),
        ("Atxfer", {"Channel": "PJSIP/1001-00000001", "Context": "from-agents", "Exten": "1002"}),
    ]
    bad = await command(owner, "call.transfer", to="1002; Hangup")
    assert bad["code"] == "bad_request"


async def test_hold_asks_the_phone_and_the_held_event_comes_from_asterisk(cti: Harness) -> None:
    await live_call(cti)
    owner = await connect(cti)
    assert (await command(owner, "call.hold"))["ok"]
    assert cti.ami.sent == [("PJSIPNotify", {"Endpoint": "1001", "Variable": "Event=hold"})]
    events = fixture_events("answered-hold")
    await cti.publish("jakarta", [next(e for e in events if e.name == "Hold")])
    while (message := await owner.receive_json(timeout=2))["type"] != "call.held":
        pass
    assert (message["call_id"], message["uniqueid"]) == (LIVE_CALL, LIVE_CALL)
    again = await command(owner, "call.hold")
    assert again["code"] == "already"
    assert (await command(owner, "call.resume"))["ok"]
    assert cti.ami.sent[-1] == ("PJSIPNotify", {"Endpoint": "1001", "Variable": "Event=talk"})


async def test_click_to_dial_rings_the_agents_phone_first(cti: Harness) -> None:
    ws = await connect(cti)
    assert (await command(ws, "call.dial", number="081234567890"))["ok"]
    action, fields = cti.ami.sent[0]
    assert action == "Originate"
    assert (fields["Channel"], fields["Context"], fields["Exten"], fields["Async"]) == (
        "PJSIP/1001",
        "from-agents",
        "081234567890",
        "true",
    )
    assert (await command(ws, "call.dial", number="0812;rm"))["code"] == "bad_request"
    await live_call(cti)
    assert (await command(ws, "call.dial", number="081234567890"))["code"] == "busy"


async def test_a_watcher_token_cannot_act_on_calls(cti: Harness) -> None:
    await live_call(cti)
    leader = await connect(cti, "tl.ani", None, role="team_leader", extra={"team": "a"})
    result = await command(leader, "call.hangup", call_id=LIVE_CALL)
    assert result["code"] == "forbidden" and cti.ami.sent == []


@pytest.fixture
async def cti_store(engine: AsyncEngine) -> AsyncIterator[Harness]:
    async with harness(WsSettings(auth_timeout=0.3, close_timeout=0.2), engine=engine) as ready:
        yield ready


async def test_disposition_is_stored_with_the_call_and_only_for_own_calls(
    cti_store: Harness, engine: AsyncEngine
) -> None:
    await live_call(cti_store)
    owner, other = await connect(cti_store), await connect(cti_store, "1002", "PJSIP/1002")
    body = {"call_id": LIVE_CALL, "category": "informasi", "notes": "tanya gadai emas"}
    stolen = await command(other, "call.disposition", **body)
    assert stolen["code"] == "not_your_call"
    assert (await command(owner, "call.disposition", **{**body, "category": "tidak ada"}))[
        "code"
    ] == "bad_category"
    assert (await command(owner, "call.disposition", **body))["ok"]
    assert (await command(owner, "call.disposition", **{**body, "notes": "koreksi"}))["ok"]  # replaced
    stored = await recent_dispositions(engine, "1001")
    assert [(d.linkedid, d.category, d.notes, d.iface) for d in stored] == [
        (LIVE_CALL, "informasi", "koreksi", "PJSIP/1001")
    ]
    assert await recent_dispositions(engine, "1002") == []
    async with asyncio.timeout(5):  # audit rows are written in the background
        while not (refused := await audit_entries(engine, action="call.disposition")):
            await asyncio.sleep(0.02)
    assert [(e.actor, e.outcome, e.target) for e in refused] == [("1002", "refused", LIVE_CALL)]
    recent = await command(owner, "calls.recent")
    assert [c["call_id"] for c in recent["calls"]] == [LIVE_CALL]
    assert recent["calls"][0]["caller"]["number"] == "081234567890"


async def test_wrapup_by_pause_is_started_by_hotline_and_ended_by_the_agent() -> None:
    config = CtiConfig(token_secret=Secret(SECRET), wrapup_s=0, wrapup_pause=True)
    async with harness(WsSettings(auth_timeout=0.3, close_timeout=0.2), cti_config=config) as cti:
        ws = await connect(cti)
        await cti.publish("jakarta", fixture_events("answered-hold"))
        for _ in range(100):  # the pause is sent by a task of its own
            if cti.ami.sent:
                break
            await asyncio.sleep(0.01)
        assert cti.ami.sent == [
            ("QueuePause", {"Interface": "PJSIP/1001", "Paused": "true", "Reason": "wrapup"})
        ]
        paused = next(e for e in fixture_events("actions") if e.name == "QueueMemberPause")
        await cti.publish(
            "jakarta",
            [
                with_headers(paused, Interface="PJSIP/1001", Queue=queue, PausedReason="wrapup")
                for queue in ("cc-informasi", "cc-pengaduan", "sapa-helpdesk")
            ],
        )
        assert (await command(ws, "wrapup.end"))["ok"]
        assert cti.ami.sent[-1] == ("QueuePause", {"Interface": "PJSIP/1001", "Paused": "false"})


async def test_the_queues_own_wrapuptime_cannot_be_ended_early(cti: Harness) -> None:
    ws = await connect(cti)
    assert (await command(ws, "wrapup.end"))["code"] == "not_in_wrapup"
    await cti.publish("jakarta", fixture_events("answered-hold"))  # [cti] wrapup_s = 10 by default
    assert (await command(ws, "wrapup.end"))["code"] == "wrapup_fixed"
    assert cti.ami.sent == []
