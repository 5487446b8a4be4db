"""Team leaders watch their team live; a client that reconnects gets what it missed (or is told)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.websocket import WsSettings
from hotline.auth.model import NewUser
from hotline.auth.passwords import hash_password
from hotline.auth.users import create_user
from hotline.config import CtiConfig, Secret

from .conftest import SECRET, Harness, fixture_events, harness

Ws = aiohttp.ClientWebSocketResponse


async def connect(cti: Harness, token: str, last_id: int | None = None) -> Ws:
    ws = await cti.client.ws_connect("/cti/ws")
    await ws.send_json(
        {"type": "auth", "token": token, **({"last_id": last_id} if last_id is not None else {})}
    )
    assert (await ws.receive_json(timeout=2))["type"] == "hello"
    return ws


async def drain(ws: Ws) -> list[dict[str, Any]]:
    """Everything queued for this socket so far (a ping's pong marks the end)."""
    await ws.send_json({"type": "ping", "ref": "end"})
    found = []
    while (message := json.loads((await ws.receive(timeout=2)).data))["type"] != "pong":
        found.append(message)
    return found


async def test_a_team_leader_sees_the_state_and_call_of_their_team_only(cti: Harness) -> None:
    mine = await connect(cti, cti.token("1001", "PJSIP/1001", extra={"team": "A"}))
    theirs = await connect(cti, cti.token("1002", "PJSIP/1002", extra={"team": "b"}))
    leader = await connect(cti, cti.token("tl.ani", None, role="team_leader", extra={"team": "a"}))
    events = fixture_events("two-calls-concurrent")  # 1001 and 1002 each take a call
    await cti.publish("jakarta", events[: next(i for i, e in enumerate(events) if e.name == "AgentComplete")])
    seen = await drain(leader)
    assert seen and {m["type"] for m in seen} == {"agent.state"}
    assert {m["iface"] for m in seen} == {"PJSIP/1001"}
    assert {(m["agent"], m["team"]) for m in seen} == {("1001", "A")}
    talking = seen[-1]
    assert talking["state"] == "on_call" and talking["call"]["caller"]["number"] == "081211112222"
    assert [m["id"] for m in seen] == sorted(m["id"] for m in seen)
    for ws, iface in ((mine, "PJSIP/1001"), (theirs, "PJSIP/1002")):
        assert {m["iface"] for m in await drain(ws) if "iface" in m} == {iface}
    # A late team leader gets the team's current states right after hello (unnumbered snapshots).
    late = await connect(cti, cti.token("tl.budi", None, role="team_leader", extra={"team": "A"}))
    snapshot = await drain(late)
    assert [(m["iface"], m["state"], m["snapshot"], m["id"]) for m in snapshot] == [
        ("PJSIP/1001", "on_call", True, None)
    ]
    for ws in (mine, theirs, leader, late):
        await ws.close()


async def test_nobody_can_subscribe_to_more_than_they_may_see(cti: Harness) -> None:
    agent = await connect(cti, cti.token("1001", "PJSIP/1001", extra={"team": "a"}))
    await agent.send_json({"type": "subscribe", "agent": "1002", "ref": 1})
    refused = await agent.receive_json(timeout=2)
    assert (refused["type"], refused["ok"], refused["code"]) == ("result", False, "forbidden")
    leader = await connect(cti, cti.token("tl.ani", None, role="team_leader", extra={"team": "a"}))
    await leader.send_json({"type": "subscribe", "team": "b", "ref": 2})
    assert (await leader.receive_json(timeout=2))["code"] == "forbidden"
    await leader.send_json({"type": "subscribe", "team": "A", "ref": 3})
    assert (await leader.receive_json(timeout=2))["ok"] is True
    await cti.publish("jakarta", fixture_events("answered-hold"))  # agent 1001 (team a) only
    other = await connect(cti, cti.token("1002", "PJSIP/1002", extra={"team": "a"}))
    assert [m for m in await drain(other) if m.get("iface") == "PJSIP/1001"] == []
    for ws in (agent, leader, other):
        await ws.close()


async def test_a_reconnect_with_the_last_id_gets_exactly_what_was_missed(cti: Harness) -> None:
    token = cti.token("1001", "PJSIP/1001")
    events = fixture_events("answered-hold")
    connect_at = next(i for i, e in enumerate(events) if e.name == "AgentConnect")
    first = await connect(cti, token)
    await cti.publish("jakarta", events[:connect_at])
    before = await drain(first)
    last_seen = before[-1]["id"]
    await first.close()  # a browser refresh: the call goes on meanwhile
    await cti.publish("jakarta", events[connect_at:])
    again = await connect(cti, token, last_id=last_seen)
    replayed = [m for m in await drain(again) if m["id"] is not None]
    assert [m["id"] for m in replayed] == list(range(last_seen + 1, last_seen + 1 + len(replayed)))
    assert [m["type"] for m in replayed if m["type"].startswith("call.")] == [
        "call.answered",
        "call.held",
        "call.resumed",
        "call.ended",
    ]
    assert "wrapup.started" in [m["type"] for m in replayed]
    await again.send_json({"type": "replay", "last_id": replayed[-1]["id"]})
    assert [m for m in await drain(again) if m["id"] is not None] == []
    await again.close()


async def test_a_gap_older_than_the_buffer_is_reported() -> None:
    config = CtiConfig(token_secret=Secret(SECRET), replay_size=3)
    async with harness(WsSettings(auth_timeout=0.3, close_timeout=0.2), cti_config=config) as cti:
        token = cti.token("1001", "PJSIP/1001")
        first = await connect(cti, token)
        await first.close()
        await cti.publish("jakarta", fixture_events("answered-hold"))
        again = await connect(cti, token, last_id=0)
        messages = await drain(again)
        assert messages[0]["type"] == "replay.gap"
        gap = messages[0]
        assert gap["last_seen"] == 0 and gap["first_available"] > 1
        assert [m["id"] for m in messages[1:4]] == list(
            range(gap["first_available"], gap["first_available"] + 3)
        )
        # An id from before a restart (beyond what this process numbered) is a gap too.
        future = await connect(cti, token, last_id=10_000)
        assert (await drain(future))[0]["type"] == "replay.gap"
        for ws in (again, future):
            await ws.close()


async def test_teams_come_from_hotlines_users(engine: AsyncEngine) -> None:
    secret = hash_password("rahasia-123")
    for user in (
        NewUser("1001", "Siti Rahma", "agent", team="kopi", iface="PJSIP/1001"),
        NewUser("1002", "Budi Santoso", "agent", team="teh", iface="PJSIP/1002"),
    ):
        await create_user(engine, user, secret)
    async with harness(WsSettings(auth_timeout=0.3, close_timeout=0.2), engine=engine) as cti:
        leader = await connect(cti, cti.token("tl.kopi", None, role="team_leader", extra={"team": "kopi"}))
        await cti.publish("jakarta", fixture_events("two-calls-concurrent"))
        seen = await drain(leader)
        assert seen and {(m["agent"], m["team"], m["iface"]) for m in seen} == {
            ("1001", "kopi", "PJSIP/1001")
        }
        await leader.close()
