"""Typed session commands: the bytes each one sends and the result it makes of Asterisk's reply."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hotline.agi import AgiHangup, AgiRouter, AgiSession, GetDataResult, RecordResult, StreamResult
from hotline.names import AGI_IVR_MAIN

Call = Callable[[AgiSession], Awaitable[Any]]

CASES: list[tuple[str, Call, bytes, bytes, Any]] = [
    ("answer", lambda s: s.answer(), b"ANSWER\n", b"200 result=0\n", None),
    (
        "stream no digit",
        lambda s: s.stream_file("beep"),
        b'STREAM FILE beep ""\n',
        b"200 result=0 endpos=3404\n",
        StreamResult(None, 3404),
    ),
    (
        "stream digit",
        lambda s: s.stream_file("menu", "12#"),
        b"STREAM FILE menu 12#\n",
        b"200 result=50 endpos=800\n",
        StreamResult("2", 800),
    ),
    (
        "get data digits",
        lambda s: s.get_data("beep", 5000, 4),
        b"GET DATA beep 5000 4\n",
        b"200 result=1234\n",
        GetDataResult("1234", False),
    ),
    (
        "get data timeout",
        lambda s: s.get_data("beep", 3000),
        b"GET DATA beep 3000\n",
        b"200 result=12 (timeout)\n",
        GetDataResult("12", True),
    ),
    (
        "get data nothing",
        lambda s: s.get_data("beep"),
        b"GET DATA beep\n",
        b"200 result= (timeout)\n",
        GetDataResult("", True),
    ),
    (
        "get data max only",
        lambda s: s.get_data("beep", max_digits=2),
        b"GET DATA beep 0 2\n",
        b"200 result=\n",
        GetDataResult("", False),
    ),
    (
        "get option",
        lambda s: s.get_option("menu", "123", 2000),
        b"GET OPTION menu 123 2000\n",
        b"200 result=51 endpos=9\n",
        StreamResult("3", 9),
    ),
    (
        "get option none",
        lambda s: s.get_option("menu", "123"),
        b"GET OPTION menu 123\n",
        b"200 result=0 endpos=9\n",
        StreamResult(None, 9),
    ),
    ("wait for digit", lambda s: s.wait_for_digit(2000), b"WAIT FOR DIGIT 2000\n", b"200 result=35\n", "#"),
    (
        "wait for digit timeout",
        lambda s: s.wait_for_digit(-1),
        b"WAIT FOR DIGIT -1\n",
        b"200 result=0\n",
        None,
    ),
    ("say digits", lambda s: s.say_digits("0812"), b'SAY DIGITS 0812 ""\n', b"200 result=0\n", None),
    ("say number", lambda s: s.say_number(150000, "#"), b"SAY NUMBER 150000 #\n", b"200 result=35\n", "#"),
    (
        "set variable",
        lambda s: s.set_variable("HOTLINE_IVR_PATH", "menu/bayar"),
        b"SET VARIABLE HOTLINE_IVR_PATH menu/bayar\n",
        b"200 result=1\n",
        None,
    ),
    ("get variable", lambda s: s.get_variable("X"), b"GET VARIABLE X\n", b"200 result=1 (a b)\n", "a b"),
    ("get variable empty", lambda s: s.get_variable("X"), b"GET VARIABLE X\n", b"200 result=1 ()\n", ""),
    ("get variable unset", lambda s: s.get_variable("X"), b"GET VARIABLE X\n", b"200 result=0\n", None),
    (
        "exec",
        lambda s: s.exec_("Playback", "tt-monkeys", "noanswer"),
        b"EXEC Playback tt-monkeys,noanswer\n",
        b"200 result=0\n",
        0,
    ),
    ("exec missing app", lambda s: s.exec_("NoSuchApp"), b"EXEC NoSuchApp\n", b"200 result=-2\n", -2),
    (
        "exec no deadline",
        lambda s: s.exec_("Wait", 1, reply_timeout=math.inf),
        b"EXEC Wait 1\n",
        b"200 result=0\n",
        0,
    ),
    (
        "record dtmf",
        lambda s: s.record_file("/tmp/r", "wav", "#", 10000, beep=True, silence=3),
        b"RECORD FILE /tmp/r wav # 10000 BEEP s=3\n",
        b"200 result=35 (dtmf) endpos=16000\n",
        RecordResult("#", 16000, "dtmf"),
    ),
    (
        "record timeout",
        lambda s: s.record_file("/tmp/r", "wav"),
        b'RECORD FILE /tmp/r wav "" -1\n',
        b"200 result=0 (timeout) endpos=80000\n",
        RecordResult(None, 80000, "timeout"),
    ),
    ("verbose", lambda s: s.verbose("menu 1", 3), b'VERBOSE "menu 1" 3\n', b"200 result=1\n", None),
    ("hangup", lambda s: s.hangup(), b"HANGUP\n", b"200 result=1\n", None),
    ("raw command", lambda s: s.command("CHANNEL STATUS"), b"CHANNEL STATUS\n", b"200 result=6\n", None),
]


@pytest.mark.parametrize(("name", "call", "sent", "reply", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_typed_command(
    name: str,
    call: Call,
    sent: bytes,
    reply: bytes,
    expected: Any,
    start_server: Any,
    asterisk: Any,
    env_block: Any,
) -> None:
    results: list[Any] = []

    async def handler(session: AgiSession) -> None:
        results.append(await call(session))
        await session.set_variable("HOTLINE_STATUS", "OK")

    router = AgiRouter()
    router.add(AGI_IVR_MAIN, handler)
    server = await start_server(router)
    peer = await asterisk.connect(server.port, env_block())
    assert await peer.read_command() == sent
    await peer.send(reply)
    assert await peer.finish() == [b"SET VARIABLE HOTLINE_STATUS OK\n"]
    if name == "raw command":
        assert results[0].result == "6"
    else:
        assert results == [expected]


@pytest.mark.parametrize(
    ("call", "reply"),
    [
        (lambda s: s.answer(), b"200 result=-1\n"),
        (lambda s: s.stream_file("beep"), b"200 result=-1 endpos=0\n"),
        (lambda s: s.get_data("beep", 5000, 1), b"200 result=-1\n"),
        (lambda s: s.get_option("menu", "1"), b"200 result=-1 endpos=0\n"),
        (lambda s: s.wait_for_digit(1000), b"200 result=-1\n"),
        (lambda s: s.say_number(5), b"200 result=-1\n"),
        (lambda s: s.record_file("/tmp/r", "wav"), b"200 result=-1 (hangup) endpos=100\n"),
    ],
)
async def test_minus_one_on_audio_commands_is_a_hangup(
    call: Call, reply: bytes, start_server: Any, asterisk: Any, env_block: Any
) -> None:
    raised: list[AgiHangup] = []
    finished: list[bool] = []

    async def handler(session: AgiSession) -> None:
        try:
            await call(session)
        except AgiHangup as exc:
            raised.append(exc)
        # Asterisk's order in the agi-hangup capture: the next command meets HANGUP, then its
        # reply. The hangup was already reported, so this one returns normally.
        await session.set_variable("HOTLINE_QUEUE", "cc-informasi")
        finished.append(session.hungup)

    router = AgiRouter()
    router.add(AGI_IVR_MAIN, handler)
    server = await start_server(router)
    peer = await asterisk.connect(server.port, env_block())
    await peer.read_command()
    await peer.send(reply)
    assert await peer.read_command() == b"SET VARIABLE HOTLINE_QUEUE cc-informasi\n"
    await peer.send(b"HANGUP\n200 result=1\n")
    assert await peer.finish() == []  # caller gone: no HOTLINE_STATUS
    assert len(raised) == 1 and raised[0].reply is not None
    assert finished == [True]
    assert server.stats.hangups_total == 1
