"""AMI-driven log lines name their PBX and call; the AMI secret never reaches a log, even at debug."""

from __future__ import annotations

import asyncio
import io
import json
from types import ModuleType
from typing import Any

from hotline import logs
from hotline.ami.client import AmiClient
from hotline.ami.dispatch import EventDispatcher, PbxEvent
from hotline.ami.protocol import Event
from hotline.config import Secret

CALL = (("Uniqueid", "1795514646.0"), ("Linkedid", "1795514646.0"))


def _json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _event(name: str, *pairs: tuple[str, str]) -> PbxEvent:
    return PbxEvent("jakarta", 1, 1, 0.0, Event((("Event", name), *pairs)))


async def test_a_subscriber_logs_with_the_pbx_and_call_of_its_event() -> None:
    stream = io.StringIO()
    logs.configure("debug", "json", stream)
    log = logs.get_logger("test.subscriber")
    dispatcher = EventDispatcher()
    handled = asyncio.Event()

    async def pop(item: PbxEvent) -> None:
        await asyncio.sleep(0)  # an await in between must not lose the binding
        log.info("screen-pop sent", agent="1001")
        if item.event.name == "AgentConnect":
            log.info("agent channel answered", uniqueid="1795514650.4")  # a line naming its own wins
            handled.set()

    def broken(item: PbxEvent) -> None:
        raise ValueError("cannot read it")

    dispatcher.subscribe("AgentCalled", pop, name="pop")
    dispatcher.subscribe("AgentConnect", pop, name="pop-connect")
    dispatcher.subscribe("AgentCalled", broken, name="broken")
    await dispatcher.start()
    dispatcher.publish(_event("AgentCalled", *CALL))
    dispatcher.publish(_event("AgentConnect", *CALL))
    await asyncio.wait_for(handled.wait(), 2)
    await dispatcher.stop()

    lines = _json_lines(stream)
    pops = [line for line in lines if line["event"] == "screen-pop sent"]
    assert len(pops) == 2
    for line in pops:
        assert (line["pbx"], line["uniqueid"], line["linkedid"]) == ("jakarta", *dict(CALL).values())
    [own] = [line for line in lines if line["event"] == "agent channel answered"]
    assert own["uniqueid"] == "1795514650.4" and own["linkedid"] == "1795514646.0"
    [failed] = [line for line in lines if line["event"] == "subscriber callback failed"]
    assert (failed["pbx"], failed["uniqueid"], failed["linkedid"]) == ("jakarta", *dict(CALL).values())


async def test_a_subscriber_idle_again_names_no_call() -> None:
    stream = io.StringIO()
    logs.configure("info", "json", stream)
    dispatcher = EventDispatcher()
    release = asyncio.Event()

    async def slow(item: PbxEvent) -> None:
        await release.wait()

    dispatcher.subscribe("*", slow, name="slow", maxsize=1)
    await dispatcher.start()
    await asyncio.sleep(0)
    for number in range(3):  # the first is taken, the second queued, the third pushes it out
        dispatcher.publish(_event("Newstate", ("Uniqueid", f"1.{number}"), ("Linkedid", "1.0")))
        await asyncio.sleep(0)
    release.set()
    await dispatcher.stop()
    [caught_up] = [line for line in _json_lines(stream) if line["event"] == "subscriber caught up"]
    assert "uniqueid" not in caught_up and "linkedid" not in caught_up


async def test_a_failing_on_event_is_logged_with_its_call(fake_ami: Any, kit: ModuleType) -> None:
    server = fake_ami()
    server.after_login = lambda conn: conn.send(kit.frame(("Event", "Hangup"), *CALL))
    await server.start()
    stream = io.StringIO()
    logs.configure("info", "json", stream)

    def failing(item: PbxEvent) -> None:
        raise RuntimeError("store unavailable")

    client = AmiClient(server.pbx(), on_event=failing)
    await client.start()
    try:
        await kit.eventually(lambda: "on_event failed" in stream.getvalue())
    finally:
        await client.stop()
    [line] = [line for line in _json_lines(stream) if line["event"] == "on_event failed"]
    assert (line["pbx"], line["uniqueid"], line["linkedid"]) == ("pbx-test", *dict(CALL).values())


async def test_the_plain_login_secret_is_never_logged_even_at_debug(fake_ami: Any, kit: ModuleType) -> None:
    """The plain Login action carries the secret in clear: neither it nor its bytes may be logged."""
    stream = io.StringIO()
    logs.configure("debug", "json", stream)
    accepted, refused = fake_ami(), fake_ami(secret="what-asterisk-expects")
    await accepted.start()
    await refused.start()
    good = AmiClient(accepted.pbx(), on_event=lambda item: None)
    # The refused client sends the same secret as the accepted one; the server expects another.
    bad = AmiClient(refused.pbx(ami_secret=Secret(kit.SECRET)), on_event=lambda item: None)
    await good.start()
    await bad.start()
    try:
        await kit.eventually(lambda: good.connected and "AMI login refused" in stream.getvalue())
        assert (await good.send_action("Ping")).ok
    finally:
        await good.stop()
        await bad.stop()
    assert any(line["event"] == "AMI login refused" for line in _json_lines(stream))
    assert any(action.get("Secret") == kit.SECRET for action in accepted.actions)  # it was sent...
    assert kit.SECRET not in stream.getvalue()  # ...and never logged
    assert "Secret:" not in stream.getvalue() and "Action: Login" not in stream.getvalue()
