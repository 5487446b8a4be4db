"""A scripted FastAGI peer: plays Asterisk towards hotline's real AGI server, one command at a time.

Where the emulator plays a caller in emulated time, this peer answers each command at once
from a script, and can hang the caller up at exactly the N-th command - the way to test
"hang-up at every step". Replies follow res_agi: playback commands answer ``result=-1`` when
the caller is gone, ``HANGUP`` is written before the next reply, and only dead-channel
commands (SET/GET VARIABLE, EXEC) still work afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hotline.emulator.agi_commands import parse_args

AUDIO = ("STREAM FILE", "GET DATA", "SAY NUMBER", "SAY DIGITS", "GET OPTION", "WAIT FOR DIGIT")


@dataclass
class PeerResult:
    commands: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    played: list[str] = field(default_factory=list)
    """Prompt files of STREAM FILE and GET DATA, in order."""
    said: list[str] = field(default_factory=list)
    """Arguments of SAY NUMBER / SAY DIGITS, in order."""
    hung_up_by_ivr: bool = False

    def count(self, prefix: str) -> int:
        return sum(1 for c in self.commands if c.startswith(prefix))


@dataclass
class ScriptedCaller:
    """What the caller keys in: ``keys`` answer each GET DATA in turn (None: time out)."""

    keys: Sequence[str | None] = ()
    escapes: Mapping[str, str] = field(default_factory=dict)
    """Prompt file -> key pressed while it plays (STREAM FILE with that key among its escapes)."""
    hangup_at: int | None = None
    """The caller hangs up during the N-th command (1-based)."""
    hangup_now: bool = False
    """Set while a call runs: the caller hangs up during the next command."""
    callerid: str = "081234567890"
    uniqueid: str = "1700000000.1"
    channel: str = "PJSIP/provider-00000001"
    language: str = "en"

    def environment(self, script: str) -> bytes:
        pairs = [
            ("agi_network", "yes"),
            ("agi_network_script", script),
            ("agi_request", f"agi://127.0.0.1/{script}"),
            ("agi_channel", self.channel),
            ("agi_language", self.language),
            ("agi_type", "PJSIP"),
            ("agi_uniqueid", self.uniqueid),
            ("agi_version", "22.10.1"),
            ("agi_callerid", self.callerid),
            ("agi_calleridname", "Siti Rahayu"),
            ("agi_dnid", "1500569"),
            ("agi_context", "hotline-ivr"),
            ("agi_extension", "main"),
            ("agi_priority", "3"),
        ]
        return ("".join(f"{k}: {v}\n" for k, v in pairs) + "\n").encode()

    async def call(self, port: int, script: str, timeout: float = 10.0) -> PeerResult:
        """Connect, answer every command until hotline closes the session; returns what happened."""
        result = PeerResult()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        keys = list(self.keys)
        escapes = dict(self.escapes)
        dead = False
        try:
            writer.write(self.environment(script))
            async with asyncio.timeout(timeout):
                while line := (await reader.readline()).decode().rstrip("\n"):
                    result.commands.append(line)
                    words = parse_args(line)
                    name = " ".join(w.upper() for w in words[:2])
                    if not dead and (len(result.commands) == self.hangup_at or self.hangup_now):
                        dead = True
                        if name in AUDIO:
                            writer.write(b"200 result=-1\n")
                            continue
                        writer.write(b"HANGUP\n")
                    elif dead and (name in AUDIO or words[0].upper() == "HANGUP"):
                        writer.write(b"511 Command Not Permitted on a dead channel or intercept routine\n")
                        continue
                    writer.write((_reply(words, name, keys, escapes, result) + "\n").encode())
                    await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        return result


def _reply(
    words: list[str], name: str, keys: list[str | None], escapes: dict[str, str], result: PeerResult
) -> str:
    args = words[2:] if name in AUDIO or name in ("SET VARIABLE", "GET VARIABLE") else words[1:]
    if name == "GET DATA":
        result.played.append(args[0])
        typed = keys.pop(0) if keys else None
        return f"200 result={typed}" if typed else "200 result= (timeout)"
    if name == "STREAM FILE":
        result.played.append(args[0])
        key = escapes.get(args[0])
        if key and len(args) > 1 and key in args[1]:
            escapes.pop(args[0])
            return f"200 result={ord(key)} endpos=800"
        return "200 result=0 endpos=12000"
    if name in ("SAY NUMBER", "SAY DIGITS"):
        result.said.append(args[0])
        return "200 result=0"
    if name == "SET VARIABLE":
        result.variables[args[0]] = args[1]
        return "200 result=1"
    if name == "GET VARIABLE":
        value = result.variables.get(args[0])
        return "200 result=0" if value is None else f"200 result=1 ({value})"
    if words[0].upper() == "EXEC":
        app, data = words[1], words[2] if len(words) > 2 else ""
        if app.lower() == "set" and "=" in data:
            key, value = data.split("=", 1)
            result.variables[key] = value
        return "200 result=0"
    if words[0].upper() == "HANGUP":
        result.hung_up_by_ivr = True
        return "200 result=1"
    return "510 Invalid or unknown command"
