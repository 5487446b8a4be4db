"""AmiClient against a fake AMI server replaying real Asterisk 22 bytes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import Any

import pytest
from structlog.testing import capture_logs

from hotline.ami.actions import AmiActionTimeout, AmiLinkDown, ResyncSnapshot
from hotline.ami.client import AmiClient
from hotline.ami.dispatch import PbxEvent
from hotline.ami.protocol import Event


class Harness:
    """A client wired to lists, so tests can look at what it delivered."""

    def __init__(self, server: Any, *, resync: bool = False, **pbx_overrides: Any) -> None:
        self.events: list[PbxEvent] = []
        self.snapshots: list[ResyncSnapshot] = []
        self.client = AmiClient(
            server.pbx(**pbx_overrides),
            on_event=self.events.append,
            on_resync=self.snapshots.append if resync else None,
            jitter=lambda: 0.0,
            backoff_base=0.01,
        )


@pytest.fixture
async def clients() -> AsyncIterator[list[AmiClient]]:
    made: list[AmiClient] = []
    yield made
    for client in made:
        await client.stop()


def replay_after_login(kit: ModuleType, scenario: str) -> Callable[[Any], None]:
    """Send what the capture holds after its login response (the login response itself is the fake's)."""
    [(_, login_segment), *rest] = kit.segments_by_action_id(kit.fixture_bytes(scenario))
    events = login_segment[login_segment.index(b"\r\n\r\n") + 4 :]
    return lambda conn: conn.send(events + b"".join(chunk for _, chunk in rest))


async def started(server: Any, clients: list[AmiClient], **overrides: Any) -> Harness:
    await server.start()
    harness = Harness(server, **overrides)
    clients.append(harness.client)
    await harness.client.start()
    return harness


async def test_plain_login_then_every_event_in_order(fake_ami: Any, kit: ModuleType, clients: Any) -> None:
    server = fake_ami()
    server.after_login = replay_after_login(kit, "abandon")
    h = await started(server, clients)
    await kit.eventually(lambda: len(h.events) == 116)  # README: abandon has 116 events
    assert [e.seq for e in h.events] == list(range(1, 117))
    assert {e.connection for e in h.events} == {1} and {e.pbx for e in h.events} == {"pbx-test"}
    assert h.events[0].event.name == "FullyBooted"
    assert sum(e.event.name == "QueueCallerAbandon" for e in h.events) == 1
    [login] = server.actions
    assert login["Action"] == "Login" and login["Username"] == "hotline" and login["Events"] == "on"
    status = h.client.status
    assert status.state == "connected" and status.connections == 1 and status.events_received == 116


async def test_md5_challenge_login(fake_ami: Any, kit: ModuleType, clients: Any) -> None:
    server = fake_ami(auth="md5")
    h = await started(server, clients)
    await kit.eventually(lambda: h.client.status.state == "connected")
    challenge, login = server.actions
    assert challenge == {"Action": "Challenge", "ActionID": challenge["ActionID"], "AuthType": "MD5"}
    expected = hashlib.md5((kit.CHALLENGE + kit.SECRET).encode(), usedforsecurity=False).hexdigest()
    assert login["AuthType"] == "MD5" and login["Key"] == expected and "Secret" not in login


async def test_login_refused_is_auth_failed_and_retried_without_leaking_the_secret(
    fake_ami: Any, kit: ModuleType, clients: Any
) -> None:
    server = fake_ami(secret="not-what-the-client-has")
    # Asterisk 22's own bytes for a wrong secret (fixture login-failed), with the client's ActionID.
    [(fixture_id, refusal)] = kit.segments_by_action_id(kit.fixture_bytes("login-failed"))

    def refuse(conn: Any, action: dict[str, str]) -> None:
        conn.id_map[fixture_id] = action["ActionID"]
        conn.send(refusal)
        conn.close()

    server.responders["login"] = refuse
    await server.start()
    with capture_logs() as logs:
        h = Harness(server)
        clients.append(h.client)
        await h.client.start()
        await kit.eventually(lambda: len(server.connections) >= 3)
    assert h.client.status.state in ("auth_failed", "connecting")
    assert "Authentication failed" in (h.client.status.last_error or "")
    refused = [e for e in logs if e["event"] == "AMI login refused"]
    assert refused and refused[0]["log_level"] == "error" and refused[0]["username"] == "hotline"
    assert kit.SECRET not in repr(logs) and "s3cret" not in repr(logs)


async def test_actions_matched_by_action_id_with_interleaved_events(
    fake_ami: Any, kit: ModuleType, clients: Any
) -> None:
    """Replays the `actions` capture: each reply segment answers the client's own ActionID."""
    segments = kit.segments_by_action_id(kit.fixture_bytes("actions"))
    _, login_segment = segments[0]
    by_fixture_id = dict(segments[1:])
    sent, _ = kit.parse_actions(kit.fixture_bytes("actions", "ami.sent"))
    order = [a["ActionID"] for a in sent[1:]]  # the fixture's ActionIDs, in the order they were sent
    server = fake_ami()

    def replay(conn: Any, action: dict[str, str]) -> None:
        fixture_id = order.pop(0)
        conn.id_map[fixture_id] = action["ActionID"]
        conn.send(by_fixture_id[fixture_id])
        if action["Action"] == "Logoff":
            conn.close()

    for action in {a["Action"].lower() for a in sent[1:]}:
        server.responders[action] = replay
    server.after_login = lambda conn: conn.send(login_segment[login_segment.index(b"\r\n\r\n") + 4 :])
    h = await started(server, clients)
    await kit.eventually(lambda: h.client.connected)
    send = h.client.send_action
    results = {}
    for action in sent[1:-1]:
        fields = [(k, v) for k, v in action.items() if k not in ("Action", "ActionID")]
        results[action["ActionID"]] = await send(action["Action"], fields)

    qstatus = results["qstatus-1"]
    assert qstatus.ok and qstatus.response.starts_list and len(qstatus.events) == 13
    assert [e.name for e in qstatus.events].count("QueueMember") == 9
    assert len(results["qsummary-1"].events) == 3
    assert not results["qadd-1"].ok and results["qadd-1"].message == "Unable to add interface: Already there"
    assert results["qpause-1"].message == "Interface paused successfully"
    assert results["qremove-1"].message == "Member not dynamic"
    assert [r.ok for k, r in results.items() if k.endswith("-2")] == [True, True, True, True]
    channels = results["channels-1"]
    assert [e["Channel"] for e in channels.events] == ["PJSIP/provider-00000000", "PJSIP/1003-00000003"]
    assert results["orig-1"].message == "Originate successfully queued" and results["orig-1"].events == []
    assert results["unknown-1"].message.startswith("Invalid/unknown command: NoSuchActionXyz")
    assert results["ping-1"].response["Ping"] == "Pong"
    assert results["cmd-1"].response.output == ["System uptime: 29 seconds", "Last reload: 29 seconds"]
    # OriginateResponse completes nothing but still reaches on_event, with the client's ActionID.
    [orig] = [e.event for e in h.events if e.event.name == "OriginateResponse"]
    assert orig.action_id is not None and orig.action_id.startswith("hl-") and orig["Reason"] == "4"
    await h.client.stop()
    assert server.actions[-1]["Action"] == "Logoff"
    assert len(h.events) == 203  # README: every event of the capture, none swallowed by action matching
    assert [e.seq for e in h.events] == list(range(1, 204))


async def test_action_timeout(fake_ami: Any, kit: ModuleType, clients: Any) -> None:
    server = fake_ami()
    server.responders["slow"] = lambda conn, action: None
    h = await started(server, clients)
    await kit.eventually(lambda: h.client.connected)
    with pytest.raises(AmiActionTimeout, match=r"Slow got no answer within 0\.05 s"):
        await h.client.send_action("Slow", timeout=0.05)
    assert (await h.client.send_action("Ping")).ok  # the link is fine


async def test_send_action_while_down_raises_link_down(fake_ami: Any) -> None:
    server = fake_ami()
    await server.start()
    client = AmiClient(server.pbx(), on_event=lambda ev: None)
    with pytest.raises(AmiLinkDown):
        await client.send_action("Ping")


async def test_pending_actions_fail_when_the_link_drops(fake_ami: Any, kit: ModuleType, clients: Any) -> None:
    server = fake_ami()
    server.responders["hang"] = lambda conn, action: conn.close()
    h = await started(server, clients)
    await kit.eventually(lambda: h.client.connected)
    with pytest.raises(AmiLinkDown):
        await h.client.send_action("Hang", timeout=5)
    await kit.eventually(lambda: h.client.connected and h.client.status.connections == 2)


async def test_unanswered_ping_marks_the_link_dead_and_reconnects(
    fake_ami: Any, kit: ModuleType, clients: Any
) -> None:
    server = fake_ami()
    server.answer_ping = False
    with capture_logs() as logs:
        h = await started(server, clients, ami_ping_interval=0.02, ami_timeout=0.1)
        await kit.eventually(lambda: len(server.connections) >= 2)
        await kit.eventually(lambda: h.client.status.connections >= 2)
    assert any(e["event"] == "AMI Ping unanswered; closing the dead link" for e in logs)
    assert h.client.status.reconnects >= 1


async def test_reconnect_resyncs_each_connection(fake_ami: Any, kit: ModuleType, clients: Any) -> None:
    segments = dict(kit.segments_by_action_id(kit.fixture_bytes("actions")))
    server = fake_ami()

    def answer(fixture_id: str) -> Callable[[Any, dict[str, str]], None]:
        def reply(conn: Any, action: dict[str, str]) -> None:
            conn.id_map[fixture_id] = action["ActionID"]
            conn.send(segments[fixture_id])

        return reply

    server.responders["coreshowchannels"] = answer("channels-1")
    server.responders["queuestatus"] = answer("qstatus-1")
    h = await started(server, clients, resync=True)
    await kit.eventually(lambda: len(h.snapshots) == 1)
    server.connections[0].close()  # Asterisk restarts
    await kit.eventually(lambda: len(h.snapshots) == 2)
    first, second = h.snapshots
    assert (first.connection, second.connection) == (1, 2)
    assert len(first.channels) == 2 and first.channels[1]["Uniqueid"] == "1795515396.3"
    assert (len(first.queue_params), len(first.queue_members), len(first.queue_entries)) == (3, 9, 1)
    assert first.queue_entries[0]["CallerIDNum"] == "081266667777"
    assert h.client.status.connections == 2 and h.client.status.reconnects == 1


def test_backoff_doubles_up_to_the_cap(fake_ami: Any) -> None:
    server = fake_ami()
    client = AmiClient(server.pbx(ami_reconnect_max=30.0), on_event=lambda ev: None, jitter=lambda: 1.0)
    assert [client._backoff(n) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    low = AmiClient(server.pbx(ami_reconnect_max=30.0), on_event=lambda ev: None, jitter=lambda: 0.0)
    assert low._backoff(3) == 2.0  # jitter spreads the wait over [half, full]


async def test_link_cut_mid_frame_loses_no_complete_event(
    fake_ami: Any, kit: ModuleType, clients: Any
) -> None:
    body = kit.without_banner(kit.fixture_bytes("answered-hold"))
    after_login = body[body.index(b"\r\n\r\n") + 4 :]
    cut = after_login.index(b"Event: Hold\r\n") + 30  # inside the Hold event
    server = fake_ami()

    def first_then_rest(conn: Any) -> None:
        if conn.number == 1:
            conn.send(after_login[:cut])
            conn.close()
        else:
            conn.send(after_login)

    server.after_login = first_then_rest
    h = await started(server, clients)
    await kit.eventually(lambda: sum(e.connection == 2 for e in h.events) == 141)
    first = [e for e in h.events if e.connection == 1]
    assert first and first[-1].event.name != "Hold" and all(e.event.name != "Hold" for e in first)
    assert len(first) == after_login[:cut].count(b"\r\n\r\n")
    assert [e.seq for e in h.events if e.connection == 2] == list(range(1, 142))


async def test_megabyte_header_and_garbage_are_logged_and_the_link_kept(
    fake_ami: Any, kit: ModuleType, clients: Any
) -> None:
    server = fake_ami()
    huge = b"Event: VarSet\r\nValue: " + b"x" * (1024 * 1024 + 100) + b"\r\n\r\n"
    server.after_login = lambda conn: conn.send(
        huge + b"not AMI at all\r\n\r\n" + kit.frame(("Event", "Newstate"), ("Uniqueid", "1.1"))
    )
    with capture_logs() as logs:
        h = await started(server, clients)
        await kit.eventually(lambda: any(e.event.name == "Newstate" for e in h.events))
        assert (await h.client.send_action("Ping")).ok
    assert [e.event.name for e in h.events] == ["Newstate"]
    garbage = [e for e in logs if e["event"] == "AMI sent bytes that are not AMI; skipped"]
    assert len(garbage) == 2 and all(e["log_level"] == "error" for e in garbage)
    assert h.client.status.connections == 1


async def test_on_event_that_raises_does_not_stop_the_reader(
    fake_ami: Any, kit: ModuleType, clients: Any
) -> None:
    server = fake_ami()
    server.after_login = lambda conn: conn.send(kit.frame(("Event", "A")) + kit.frame(("Event", "B")))
    await server.start()
    seen: list[str] = []

    def picky(ev: PbxEvent) -> None:
        if ev.event.name == "A":
            raise ValueError("bad")
        seen.append(ev.event.name)

    client = AmiClient(server.pbx(), on_event=picky)
    clients.append(client)
    with capture_logs() as logs:
        await client.start()
        await kit.eventually(lambda: seen == ["B"])
    assert any(e["event"] == "on_event failed" and e["event_name"] == "A" for e in logs)


async def test_stop_logs_off_and_reports_stopped(fake_ami: Any, kit: ModuleType, clients: Any) -> None:
    server = fake_ami()
    h = await started(server, clients)
    await kit.eventually(lambda: h.client.connected)
    await h.client.stop()
    assert server.actions[-1]["Action"] == "Logoff"
    assert h.client.status.state == "stopped"
    await asyncio.sleep(0.05)
    assert len(server.connections) == 1  # no reconnect after stop


def test_list_item_events_are_events() -> None:
    assert Event((("Event", "QueueMember"), ("ActionID", "x"))).is_list_item
