"""The shortcuts of the hot path keep their promises: shared replies, log context, debug gate."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import structlog

from hotline.agi import AgiParser, AgiReply, AgiRouter, AgiSession, HangupNotice
from hotline.agi.connection import AgiConnection
from hotline.names import AGI_IVR_MAIN


def replies_of(data: bytes) -> list[Any]:
    parser = AgiParser(expect_environment=False)
    parser.receive_data(data)
    out = []
    while (event := parser.next_event()) is not None:
        out.append(event)
    return out


def test_short_replies_are_shared_and_read_only() -> None:
    first, hangup, pressed = replies_of(b"200 result=0\nHANGUP\n200 result=-1\n")
    again, hangup_again, pressed_again = replies_of(b"200 result=0\r\nHANGUP\n200 result=-1\n")
    assert first is again and hangup is hangup_again and isinstance(hangup, HangupNotice)
    assert pressed is pressed_again and pressed.result == "-1"
    assert first == AgiReply(200, "0", text="result=0")
    with pytest.raises(TypeError):
        first.extras["endpos"] = "1"  # a shared reply cannot be changed
    assert first.extras == {}


@pytest.mark.parametrize(
    "line",
    [
        b"200 result=081298765432\n",  # digits a caller typed: customer data, never kept
        b"200 result=123\n",  # even a short PIN
        b"200 result=1 (081298765432)\n",
        b"200 result=0 endpos=3404\n",
    ],
)
def test_replies_with_data_are_parsed_afresh(line: bytes) -> None:
    (first,) = replies_of(line)
    (again,) = replies_of(line)
    assert first == again and first is not again


def test_connections_may_share_one_read_buffer() -> None:
    shared = memoryview(bytearray(64))
    one, two = AgiConnection(read_buffer=shared), AgiConnection(read_buffer=shared)
    for connection, chunk in [
        (one, b"agi_uniqueid: 1.1\nagi_network_"),
        (two, b"agi_uniqueid: 2.2\n\n200 res"),
        (one, b"script: ivr/main\n\n"),
        (two, b"ult=1\n"),
    ]:
        buffer = connection.get_buffer(-1)
        buffer[: len(chunk)] = chunk
        connection.buffer_updated(len(chunk))
    env_one, env_two = one.parser.next_event(), two.parser.next_event()
    assert (env_one.uniqueid, env_one.script) == ("1.1", "ivr/main")  # type: ignore[union-attr]
    assert (env_two.uniqueid, env_two.script) == ("2.2", "")  # type: ignore[union-attr]
    assert two.parser.next_event() == AgiReply(200, "1", text="result=1")
    assert one.parser.next_event() is None


async def test_log_context_belongs_to_its_own_session(
    start_server: Any, asterisk: Any, env_block: Any, captured_logs: list[dict[str, Any]]
) -> None:
    both_in = asyncio.Event()
    arrived: list[str] = []

    async def handler(session: AgiSession) -> None:
        arrived.append(session.env.uniqueid)
        if len(arrived) == 2:
            both_in.set()
        await both_in.wait()  # both sessions are live at once when they log
        structlog.get_logger("ivr").info("menu_entered")

    server = await start_server(router_with(handler))
    first = await asterisk.connect(server.port, env_block("ivr/main?pbx=jkt1", uniqueid="11.1"))
    second = await asterisk.connect(server.port, env_block("ivr/main?pbx=sby1", uniqueid=""))
    await asyncio.gather(first.finish(), second.finish())
    structlog.get_logger("test").info("after_the_calls")
    lines = {e.get("pbx"): e for e in captured_logs if e["event"] == "menu_entered"}
    assert lines["jkt1"]["uniqueid"] == "11.1"
    assert "uniqueid" not in lines["sby1"]  # nothing left over from the other call
    (after,) = [e for e in captured_logs if e["event"] == "after_the_calls"]
    assert "pbx" not in after and "uniqueid" not in after


async def test_session_start_is_logged_only_when_debug_is_on(
    start_server: Any, asterisk: Any, env_block: Any, captured_logs: list[dict[str, Any]]
) -> None:
    async def handler(session: AgiSession) -> None: ...

    server = await start_server(router_with(handler))
    logging.getLogger("hotline.agi").setLevel(logging.INFO)
    try:
        await (await asterisk.connect(server.port, env_block(uniqueid="quiet.1"))).finish()
        logging.getLogger("hotline.agi").setLevel(logging.DEBUG)
        await (await asterisk.connect(server.port, env_block(uniqueid="loud.1"))).finish()
    finally:
        logging.getLogger("hotline.agi").setLevel(logging.NOTSET)
    starts = [e for e in captured_logs if e["event"] == "agi_session_start"]
    assert [(e["uniqueid"], e["script"], e["log_level"]) for e in starts] == [
        ("loud.1", AGI_IVR_MAIN, "debug")
    ]


async def test_silent_peer_is_reported_as_a_timeout(
    start_server: Any, asterisk: Any, captured_logs: list[dict[str, Any]]
) -> None:
    server = await start_server(AgiRouter(), environment_timeout=0.05)
    peer = await asterisk.connect(server.port, b"agi_network: yes\n")
    await peer.expect_closed(within=2.0)
    (warning,) = [e for e in captured_logs if e["event"] == "agi_bad_environment"]
    assert warning["reason"] == "no complete environment in time"


def router_with(handler: Any) -> AgiRouter:
    router = AgiRouter()
    router.add(AGI_IVR_MAIN, handler)
    return router
