"""The emulator's FastAGI side: command replies, hang-up reporting, AGIExec events."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from hotline.ami.protocol import Event
from hotline.emulator import CallScript

NO_ANSWER: dict[str, float | None] = {"1001": None, "1002": None, "1003": None}


@dataclass
class ScriptedApp:
    """A FastAGI server sending fixed commands; ``("sleep", s)`` waits (real seconds) without sending."""

    steps: list[Any]
    replies: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _read(self, reader: asyncio.StreamReader) -> None:
        self.replies.append((await reader.readline()).decode().rstrip("\n"))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (line := (await reader.readline()).decode()) != "\n":
            key, _, value = line.rstrip("\n").partition(": ")
            self.env[key] = value
        for step in self.steps:
            if isinstance(step, tuple):
                await asyncio.sleep(step[1])
                if step[0] == "sleep-then-read":
                    await self._read(reader)
                continue
            writer.write(f"{step}\n".encode())
            await self._read(reader)
            if self.replies[-1] == "HANGUP":
                await self._read(reader)
        writer.close()
        self.done.set()

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()


async def test_command_replies(kit: Any, emulator_factory: Any) -> None:
    app = ScriptedApp(
        [
            'STREAM FILE beep "12"',
            "GET DATA beep 1000 1",
            "GET VARIABLE HOTLINE_QUEUE",
            'SET VARIABLE HOTLINE_QUEUE "cc-informasi"',
            "GET VARIABLE HOTLINE_QUEUE",
            "FOO BAR",
            "WAIT FOR DIGIT 100",
            "EXEC NoSuchApp x",
            'SAY DIGITS 123 ""',
            "VERBOSE hello 1",
        ]
    )
    emulator = emulator_factory(kit.reference_settings(await app.start(), time.time(), NO_ANSWER))
    port = await emulator.start()
    session = await kit.ami.login(port)
    result = await emulator.place_call(
        CallScript("081234567890", "Śantoso Wibowo", "1", first_digit_at_s=0.2, caller_hangs_up_after_s=5.0)
    )
    seen = await session.logoff()
    await app.stop()
    assert app.env["agi_calleridname"] == "Śantoso Wibowo"
    assert app.env["agi_request"].endswith("/ivr/main")
    stream_reply = app.replies[0]
    # The key interrupts the prompt before its end (endpos 3404); how far it got depends on how
    # quickly this machine ran the emulated clock, so only the bounds are fixed.
    assert stream_reply.startswith("200 result=49 endpos=")
    assert 0 <= int(stream_reply.rsplit("=", 1)[1]) < 3404
    assert app.replies[1:] == [
        "200 result= (timeout)",
        "200 result=0",
        "200 result=1",
        "200 result=1 (cc-informasi)",
        "510 Invalid or unknown command",
        "200 result=0",
        "200 result=-2",
        "200 result=0",
        "200 result=1",
    ]
    ends = [m for m in seen if isinstance(m, Event) and m.name == "AGIExecEnd"]
    assert [m["ResultCode"] for m in ends] == ["200"] * 5 + ["510"] + ["200"] * 4
    assert ends[5]["Result"] == "Invalid or unknown command"
    assert result.queues == ["cc-informasi"] and result.outcome == "abandoned"
    assert [m["Digit"] for m in seen if isinstance(m, Event) and m.name == "DTMFEnd"] == ["1"]


async def test_hangup_while_the_app_is_idle_is_announced_at_once(kit: Any, emulator_factory: Any) -> None:
    # The caller hangs up at 1.0 s while the application thinks (0.15 real s = 6 emulated s).
    app = ScriptedApp(
        ['STREAM FILE beep ""', ("sleep-then-read", 0.15), 'STREAM FILE beep ""', "SET VARIABLE X y"]
    )
    emulator = emulator_factory(kit.reference_settings(await app.start(), time.time(), NO_ANSWER))
    await emulator.start()
    result = await emulator.place_call(
        CallScript("081200001111", "Rudi Hartono", "", hangup_during_ivr_at_s=1.0)
    )
    await app.stop()
    assert app.replies == [
        "200 result=0 endpos=3404",
        "HANGUP",
        "511 Command Not Permitted on a dead channel or intercept routine",
        "200 result=1",
    ]
    assert result.outcome == "ivr_hangup" and result.agi_status == "HANGUP" and result.queues == []


async def test_agi_hangup_command_hangs_up_the_caller(kit: Any, emulator_factory: Any) -> None:
    app = ScriptedApp(["HANGUP", "VERBOSE bye 1"])
    emulator = emulator_factory(kit.reference_settings(await app.start(), time.time(), NO_ANSWER))
    port = await emulator.start()
    session = await kit.ami.login(port)
    result = await emulator.place_call(CallScript("081200001111", "Rudi Hartono", ""))
    seen = await session.logoff()
    await app.stop()
    assert app.replies == ["200 result=1", "HANGUP", "200 result=1"]
    names = [m.name for m in seen if isinstance(m, Event)]
    assert "HangupRequest" not in names and "QueueCallerJoin" not in names
    assert names[-3:] == ["Hangup", "DeviceStateChange", "Cdr"]
    assert result.outcome == "ivr_hangup"
