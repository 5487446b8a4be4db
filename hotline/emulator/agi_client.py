"""The FastAGI side of an emulated call: connect to hotline's AGI server and play Asterisk.

Sends the ``agi_*`` environment exactly as Asterisk 22.10.1 does, runs each command
in emulated time (see ``agi_commands``) and publishes AGIExecStart/AGIExecEnd. A
caller hang-up is reported the way res_agi reports it: the running command answers
``200 result=-1``; ``HANGUP`` goes out before the reply to the next command (or at
once if the application is idle); after that only dead-channel commands run.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from typing import Protocol

from hotline.emulator import agi_commands
from hotline.emulator.agi_commands import AgiCall, Outcome
from hotline.emulator.pbx import ASTERISK_VERSION
from hotline.logs import get_logger

_log = get_logger(__name__)

RESULT_TEXT = {
    "200": "Success",
    "510": "Invalid or unknown command",
    "520": "Usage",
    "511": "Command Not Permitted on a dead channel or intercept routine",
}


class AgiRunner(AgiCall, Protocol):
    """AgiCall plus the two ways an AGI session changes the call."""

    def note_hangup(self, instant: float) -> None: ...

    def hang_up_from_agi(self, instant: float) -> None: ...


class FastAgiClient:
    """One FastAGI session for one call. ``run()`` returns the AGISTATUS Asterisk would set."""

    def __init__(self, call: AgiRunner, request: str, script: str, rng: random.Random) -> None:
        self._call = call
        self._request = request
        self._script = script
        self._rng = rng
        self._dead = False
        self._hangup_pending = False

    def environment(self) -> bytes:
        ch = self._call.channel
        settings = self._call.core.settings
        lines = [
            ("agi_network", "yes"),
            ("agi_network_script", self._script),
            ("agi_request", self._request),
            ("agi_channel", ch.name),
            ("agi_language", ch.language),
            ("agi_type", ch.name.split("/", 1)[0]),
            ("agi_uniqueid", ch.uniqueid),
            ("agi_version", ASTERISK_VERSION),
            ("agi_callerid", ch.caller_num or "unknown"),
            ("agi_calleridname", ch.caller_name or "unknown"),
            ("agi_callingpres", "0"),
            ("agi_callingani2", "0"),
            ("agi_callington", "0"),
            ("agi_callingtns", "0"),
            ("agi_dnid", settings.dialed_number),
            ("agi_rdnis", "unknown"),
            ("agi_context", ch.context),
            ("agi_extension", ch.exten),
            ("agi_priority", str(ch.priority)),
            ("agi_enhanced", "0.0"),
            ("agi_accountcode", ch.account_code),
            ("agi_threadid", str(140000000000000 + self._rng.randrange(10**12))),
        ]
        return ("".join(f"{k}: {v}\n" for k, v in lines) + "\n").encode("utf-8")

    async def run(self) -> str:
        settings = self._call.core.settings
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(settings.agi_host, settings.agi_port), settings.agi_connect_timeout_s
            )
        except (OSError, TimeoutError) as exc:
            _log.warning(
                "emulator.agi_unreachable", host=settings.agi_host, port=settings.agi_port, error=str(exc)
            )
            return "FAILURE"
        try:
            writer.write(self.environment())
            await writer.drain()
            await self._command_loop(reader, writer)
        except (ConnectionError, TimeoutError) as exc:
            _log.info("emulator.agi_session_ended", error=str(exc) or type(exc).__name__)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        return "HANGUP" if self._dead else "SUCCESS"

    async def _next_line(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        """Wait for the application's next command; a hang-up meanwhile is announced at once."""
        call = self._call
        read = asyncio.ensure_future(reader.readline())
        try:
            while not self._dead:
                watch = asyncio.ensure_future(call.sleep_to(math.inf))
                done, _ = await asyncio.wait(
                    {read, watch},
                    timeout=call.core.settings.agi_command_timeout_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:
                    watch.cancel()
                    raise TimeoutError("no AGI command within agi_command_timeout_s")
                if read in done:
                    watch.cancel()
                    return read.result()
                if call.t >= call.hangup_at:
                    call.note_hangup(call.hangup_at)
                    self._dead = True
                    writer.write(b"HANGUP\n")
            return await asyncio.wait_for(read, call.core.settings.agi_command_timeout_s)
        finally:
            if not read.done():
                read.cancel()

    async def _command_loop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        call = self._call
        while True:
            raw = await self._next_line(reader, writer)
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line.strip():
                continue
            call.t = max(call.t, call.core.now())
            command_id = str(self._rng.randrange(1, 2**31))
            call.core.channel_event(
                "AGIExecStart", call.channel, call.t, [("CommandId", command_id), ("Command", line)]
            )
            outcome = await self._execute(line)
            code = outcome.reply[:3]
            call.core.channel_event(
                "AGIExecEnd",
                call.channel,
                call.t,
                [
                    ("CommandId", command_id),
                    ("Command", line),
                    ("ResultCode", code),
                    ("Result", RESULT_TEXT.get(code, "Failure")),
                ],
            )
            if self._hangup_pending:
                # res_agi announces the hang-up before answering the command that follows it.
                writer.write(b"HANGUP\n")
                self._hangup_pending = False
            writer.write(outcome.reply.encode("utf-8") + b"\n")
            if outcome.hung_up and not self._dead:
                self._dead = True
                self._hangup_pending = True
            await writer.drain()

    async def _execute(self, line: str) -> Outcome:
        call = self._call
        words = agi_commands.parse_args(line)
        if words and words[0].upper() == "HANGUP":
            if self._dead:
                return Outcome("200 result=1")
            call.hang_up_from_agi(call.t)
            return Outcome("200 result=1", hung_up=True)
        found = agi_commands.lookup(words)
        if found is None:
            return Outcome("510 Invalid or unknown command")
        handler, dead_ok, args = found
        if self._dead and not dead_ok:
            return Outcome("511 Command Not Permitted on a dead channel or intercept routine")
        try:
            outcome = await handler(call, args)
        except ValueError:
            # Bad arguments get Asterisk's usage reply, never a broken call.
            return Outcome("520 Invalid command syntax.  Proper usage not available.")
        if outcome.hung_up:
            call.note_hangup(call.hangup_at)
        return outcome
