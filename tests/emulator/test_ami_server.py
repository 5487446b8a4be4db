"""The emulator's AMI server against the ``actions`` and ``login-failed`` captures, and its session rules."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from typing import Any

from hotline import names
from hotline.ami.protocol import AmiParser, Event, Response, encode_action
from hotline.emulator import CallScript, QueueSpec

NO_ANSWER: dict[str, float | None] = {"1001": None, "1002": None, "1003": None}


def by_action_id(messages: list[Event | Response], action_id: str) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (m.get("Event") or f"Response: {m.get('Response')}", tuple(k for k, _ in m.headers))
        for m in messages
        if m.action_id == action_id
    ]


def shapes(messages: list[Event | Response], names: set[str]) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (m.name, tuple(k for k, _ in m.headers)) for m in messages if isinstance(m, Event) and m.name in names
    ]


async def test_actions_reply_like_asterisk_22(kit: Any, emulator_factory: Any) -> None:
    """Replay ami.sent of the ``actions`` capture while a caller waits in cc-informasi, as captured."""
    app = kit.replay_app(kit.fixture_agi("actions"))
    emulator = emulator_factory(kit.reference_settings(await app.start(), time.time(), NO_ANSWER))
    port = await emulator.start()
    session = await kit.ami.login(port)
    call = emulator.start_call(CallScript("081266667777", "Yusuf Hidayat", "1", caller_hangs_up_after_s=600))
    await session.read_until(b"Event: DialState")
    sent = kit.fixture_text("actions", "ami.sent").split("\r\n\r\n")
    for frame in sent:
        if not frame.strip() or "Action: Login" in frame or "Action: Logoff" in frame:
            continue
        action_id = next(line.split(": ", 1)[1] for line in frame.splitlines() if line.startswith("ActionID"))
        session.writer.write(frame.encode() + b"\r\n\r\n")
        await session.read_until(f"ActionID: {action_id}\r\n".encode())
        await asyncio.sleep(0.02)
    emulated = await session.logoff()
    call.cancel()
    await app.stop()
    reference = kit.fixture_messages("actions")
    for frame in sent:
        for line in frame.splitlines():
            if line.startswith("ActionID: "):
                action_id = line.split(": ", 1)[1]
                assert by_action_id(emulated, action_id) == by_action_id(reference, action_id), action_id
    member_events = {"QueueMemberAdded", "QueueMemberPause", "QueueMemberRemoved", "RequestBadFormat"}
    assert shapes(emulated, member_events) == shapes(reference, member_events)
    replies = {m.action_id: m for m in emulated if isinstance(m, Response)}
    for action_id in ("qadd-1", "qremove-1", "unknown-1", "qpause-1", "qadd-2", "orig-1", "cmd-1", "ping-1"):
        expected = next(m for m in reference if isinstance(m, Response) and m.action_id == action_id)
        assert replies[action_id].get("Message") == expected.get("Message"), action_id
    assert [m.get("Output", "")[:14] for m in emulated if m.action_id == "cmd-1"] == ["System uptime:"]
    queue_log = [
        line.split("|", 1)[1] for line in emulator.queue_log_lines if "PAUSE" in line or "MEMBER" in line
    ]
    reference_log = [
        line.split("|", 1)[1]
        for line in kit.fixture_text("actions", "queue_log").splitlines()
        if "PAUSE" in line or "MEMBER" in line
    ]
    assert queue_log == reference_log


async def test_wrong_secret_gets_the_captured_bytes_then_a_close(kit: Any, emulator_factory: Any) -> None:
    emulator = emulator_factory(kit.reference_settings(1, time.time(), {}))
    port = await emulator.start()
    monitor = await kit.ami.login(port)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(kit.fixture_text("login-failed", "ami.sent").encode())
    writer.write(encode_action("Ping", "ping-after") + encode_action("Logoff", "logoff-after"))
    received = await asyncio.wait_for(reader.read(), 5)
    assert time.monotonic() - started >= emulator.settings.login_failure_delay_s
    assert (
        received == (kit.fixture_messages.__globals__["FIXTURES"] / "login-failed" / "ami.raw").read_bytes()
    )
    writer.close()
    await monitor.read_until(b"Event: InvalidPassword")
    seen = await monitor.logoff()
    assert shapes(seen, {"InvalidPassword", "SuccessfulAuth"}) == shapes(
        kit.fixture_messages("login-failed", "ami.monitor.raw"), {"InvalidPassword", "SuccessfulAuth"}
    )


async def test_md5_challenge_login_and_permission_before_login(kit: Any, emulator_factory: Any) -> None:
    emulator = emulator_factory(kit.reference_settings(1, time.time(), {}))
    port = await emulator.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    parser = AmiParser()
    writer.write(encode_action("Ping", "early"))
    writer.write(encode_action("Challenge", "ch-1", {"AuthType": "md5"}))

    pending: list[Any] = []

    async def next_message() -> Any:
        while not pending:
            parser.receive_data(await asyncio.wait_for(reader.read(4096), 5))
            pending.extend(m for m in parser.messages() if isinstance(m, (Event, Response)))
        return pending.pop(0)

    early = await next_message()
    assert (early["Response"], early["Message"]) == ("Error", "Permission denied")
    challenge = await next_message()
    key = hashlib.md5((challenge["Challenge"] + "refsecret").encode(), usedforsecurity=False).hexdigest()
    writer.write(encode_action("Login", "md5-1", {"AuthType": "md5", "Username": "ref", "Key": key}))
    accepted = await next_message()
    assert [accepted["Response"], accepted["Message"]] == ["Success", "Authentication accepted"]
    assert (await next_message()).name == "FullyBooted"
    writer.close()


async def test_every_client_gets_events_and_events_off_gets_none(kit: Any, emulator_factory: Any) -> None:
    emulator = emulator_factory(kit.reference_settings(1, time.time(), {}))
    port = await emulator.start()
    first, second, quiet = (
        await kit.ami.login(port),
        await kit.ami.login(port),
        await kit.ami.login(port, events="off"),
    )
    await emulator.place_call(CallScript("081200001111", "Rudi Hartono", "", hangup_during_ivr_at_s=0.5))
    results = [await s.logoff() for s in (first, second, quiet)]
    names = [
        [m.name for m in r if isinstance(m, Event) and m.name not in ("FullyBooted", "SuccessfulAuth")]
        for r in results
    ]
    assert names[0] == names[1]
    assert "Hangup" in names[0] and "VarSet" not in names[0]
    assert names[2] == []
    assert all("Timestamp" in m for m in results[0] if isinstance(m, Event) and m.name != "FullyBooted")


async def test_channelvars_and_an_empty_event_filter(kit: Any, emulator_factory: Any) -> None:
    reference = kit.reference_settings(1, time.time(), NO_ANSWER)
    fallback = QueueSpec(names.FALLBACK_QUEUE, ("1001", "1002", "1003"))
    settings = dataclasses.replace(
        reference,
        channelvars=("HOTLINE_QUEUE",),
        event_filter_out=frozenset(),
        queues=(*reference.queues, fallback),
    )
    emulator = emulator_factory(settings)
    port = await emulator.start()
    session = await kit.ami.login(port)
    # The FastAGI server is unreachable (port 1): AGISTATUS=FAILURE; the variable is then set by hand.
    call = emulator.start_call(CallScript("081234567890", "Śantoso Wibowo", "", hangup_during_ivr_at_s=60))
    await session.read_until(b"Event: QueueCallerJoin")
    runner = next(iter(emulator.core.calls.values()))
    emulator.core.set_variable(runner.channel, "HOTLINE_QUEUE", "cc-umum", emulator.core.now())
    session.writer.write(encode_action("Hangup", "h-1", {"Channel": runner.channel.name}))
    await call
    seen = await session.logoff()
    var_sets = [m for m in seen if isinstance(m, Event) and m.name == "VarSet"]
    assert ("AGISTATUS", "FAILURE") in [(m["Variable"], m["Value"]) for m in var_sets]
    join = next(m for m in seen if isinstance(m, Event) and m.name == "QueueCallerJoin")
    assert join["Queue"] == names.FALLBACK_QUEUE
    hangup = next(
        m for m in seen if isinstance(m, Event) and m.name == "Hangup" and m["Channel"] == join["Channel"]
    )
    assert hangup.get_all("ChanVariable") == ["HOTLINE_QUEUE=cc-umum"]
    assert b"CallerIDName: \xc5\x9aantoso Wibowo\r\n" in bytes(session.data)


async def test_bad_values_get_an_error_not_a_dead_session(kit: Any, emulator_factory: Any) -> None:
    emulator = emulator_factory(kit.reference_settings(1, time.time(), {}))
    session = await kit.ami.login(await emulator.start())
    fields = {"Queue": "cc-pengaduan", "Interface": "PJSIP/1009", "Penalty": "abc"}
    session.writer.write(encode_action("QueueAdd", "bad-1", fields) + encode_action("Ping", "ping-2"))
    await session.read_until(b"Ping: Pong")
    replies = {m.action_id: m for m in await session.logoff() if isinstance(m, Response)}
    assert replies["bad-1"]["Response"] == "Error"
    assert replies["ping-2"]["Response"] == "Success"
