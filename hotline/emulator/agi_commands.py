"""The AGI commands the emulated channel understands, with Asterisk's replies and timing.

Each command runs in emulated time on the caller's channel: prompts take as long as
their sound file, digit-reading commands take the scripted keys at their scripted
instants, and a caller hang-up during a command ends it with ``result=-1``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from hotline.emulator.channels import Channel
from hotline.emulator.pbx import PbxCore

SAMPLES_PER_S = 8000
SOUND_SAMPLES = {"beep": 3404}
"""Length of known prompts in 8 kHz samples (beep.gsm on the reference PBX); others count 1.5 s."""
SAY_SECONDS_PER_DIGIT = 0.5


def sound_seconds(name: str) -> float:
    return SOUND_SAMPLES.get(name.rsplit("/", 1)[-1], int(1.5 * SAMPLES_PER_S)) / SAMPLES_PER_S


class AgiCall(Protocol):
    """What a command needs from the call it runs on (implemented by CallRunner)."""

    core: PbxCore
    channel: Channel
    t: float

    @property
    def hangup_at(self) -> float: ...

    def next_digit(self, start: float) -> tuple[float, str] | None: ...

    def take_digit(self, instant: float, digit: str) -> None: ...

    def end_silence(self) -> None: ...

    async def sleep_to(self, instant: float) -> float: ...


def parse_args(line: str) -> list[str]:
    """Split like res_agi's parse_args: whitespace, double quotes group, backslash escapes."""
    args: list[str] = []
    current: list[str] = []
    in_quotes = escaped = have_arg = False
    for ch in line:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = have_arg = True
        elif ch == '"':
            in_quotes = not in_quotes
            have_arg = True
        elif ch in " \t" and not in_quotes:
            if have_arg:
                args.append("".join(current))
                current, have_arg = [], False
        else:
            current.append(ch)
            have_arg = True
    if have_arg:
        args.append("".join(current))
    return args


@dataclass
class Outcome:
    reply: str
    hung_up: bool = False


async def _listen(call: AgiCall, end: float, escape: str | None) -> tuple[float, str | None, bool]:
    """Run until ``end``; stop early on a scripted key in ``escape`` (None: any key) or on hang-up.

    Returns (instant reached, key pressed or None, hung up?).
    """
    due = call.next_digit(call.t)
    stop = min(end, call.hangup_at)
    if due is not None and due[0] < stop and (escape is None or due[1] in escape):
        stop = due[0]
    else:
        due = None
    reached = await call.sleep_to(stop)
    if reached >= call.hangup_at:
        return reached, None, True
    if due is not None and reached >= due[0]:
        call.take_digit(due[0], due[1])
        return due[0], due[1], False
    return reached, None, False


async def stream_file(call: AgiCall, args: list[str]) -> Outcome:
    if not args:
        return Outcome("520 Invalid command syntax.  Proper usage not available.")
    start, length = call.t, sound_seconds(args[0])
    escape = args[1] if len(args) > 1 else ""
    reached, key, hung_up = await _listen(call, start + length, escape or "\0")
    endpos = round(min(reached - start, length) * SAMPLES_PER_S)
    if hung_up:
        return Outcome(f"200 result=-1 endpos={endpos}", True)
    return Outcome(f"200 result={ord(key) if key else 0} endpos={endpos}")


async def get_data(call: AgiCall, args: list[str]) -> Outcome:
    if not args:
        return Outcome("520 Invalid command syntax.  Proper usage not available.")
    timeout = (
        int(args[1]) / 1000 if len(args) > 1 and args[1].lstrip("-").isdigit() and int(args[1]) > 0 else 6.0
    )
    maxdigits = int(args[2]) if len(args) > 2 and args[2].isdigit() else 1024
    _, key, hung_up = await _listen(call, call.t + sound_seconds(args[0]), None)
    if hung_up:
        return Outcome("200 result=-1", True)
    typed = ""
    while True:
        if key is None:
            _, key, hung_up = await _listen(call, call.t + timeout, None)
            if hung_up:
                return Outcome("200 result=-1", True)
            if key is None:
                call.end_silence()
                return Outcome(f"200 result={typed} (timeout)")
        if key == "#":
            return Outcome(f"200 result={typed}")
        typed += key
        key = None
        if len(typed) >= maxdigits:
            return Outcome(f"200 result={typed}")


async def get_option(call: AgiCall, args: list[str]) -> Outcome:
    if len(args) < 2:
        return Outcome("520 Invalid command syntax.  Proper usage not available.")
    start, length = call.t, sound_seconds(args[0])
    reached, key, hung_up = await _listen(call, start + length, args[1])
    endpos = round(min(reached - start, length) * SAMPLES_PER_S)
    if not hung_up and key is None:
        timeout = int(args[2]) / 1000 if len(args) > 2 and args[2].isdigit() else 5.0
        reached, key, hung_up = await _listen(call, call.t + timeout, args[1])
        if not hung_up and key is None:
            call.end_silence()
    if hung_up:
        return Outcome(f"200 result=-1 endpos={endpos}", True)
    return Outcome(f"200 result={ord(key) if key else 0} endpos={endpos}")


async def wait_for_digit(call: AgiCall, args: list[str]) -> Outcome:
    ms = int(args[0]) if args and args[0].lstrip("-").isdigit() else -1
    end = math.inf if ms < 0 else call.t + ms / 1000
    _, key, hung_up = await _listen(call, end, None)
    if hung_up:
        return Outcome("200 result=-1", True)
    if key is None:
        call.end_silence()
    return Outcome(f"200 result={ord(key) if key else 0}")


async def say(call: AgiCall, args: list[str]) -> Outcome:
    if not args:
        return Outcome("520 Invalid command syntax.  Proper usage not available.")
    escape = args[1] if len(args) > 1 else ""
    _, key, hung_up = await _listen(call, call.t + SAY_SECONDS_PER_DIGIT * len(args[0]), escape or "\0")
    if hung_up:
        return Outcome("200 result=-1", True)
    return Outcome(f"200 result={ord(key) if key else 0}")


async def set_variable(call: AgiCall, args: list[str]) -> Outcome:
    if len(args) < 2:
        return Outcome("520 Invalid command syntax.  Proper usage not available.")
    call.core.set_variable(call.channel, args[0], args[1], call.t)
    return Outcome("200 result=1")


async def get_variable(call: AgiCall, args: list[str]) -> Outcome:
    name = args[0].removeprefix("${").removesuffix("}") if args else ""
    builtin = {
        "UNIQUEID": call.channel.uniqueid,
        "CHANNEL": call.channel.name,
        "CALLERID(num)": call.channel.caller_num,
        "CALLERID(name)": call.channel.caller_name,
    }
    value = call.channel.variables.get(name, builtin.get(name))
    return Outcome("200 result=0" if value is None else f"200 result=1 ({value})")


async def exec_app(call: AgiCall, args: list[str]) -> Outcome:
    app = args[0].lower() if args else ""
    data = args[1] if len(args) > 1 else ""
    if app == "set" and "=" in data:
        name, value = data.split("=", 1)
        call.core.set_variable(call.channel, name, value, call.t)
    elif app in ("playback", "background"):
        await _listen(call, call.t + sound_seconds(data.split(",")[0]), "\0")
    elif app == "wait":
        await _listen(call, call.t + float(data or 0), "\0")
    elif app not in ("noop", "verbose", "log", "answer", "progress", "ringing", "mixmonitor"):
        return Outcome("200 result=-2")
    return Outcome("200 result=-1" if call.t >= call.hangup_at else "200 result=0", call.t >= call.hangup_at)


async def _fixed(reply: str) -> Outcome:
    return Outcome(reply)


Handler = Callable[[AgiCall, list[str]], Awaitable[Outcome]]

COMMANDS: dict[tuple[str, ...], tuple[Handler, bool]] = {
    ("STREAM", "FILE"): (stream_file, False),
    ("GET", "DATA"): (get_data, False),
    ("GET", "OPTION"): (get_option, False),
    ("WAIT", "FOR", "DIGIT"): (wait_for_digit, False),
    ("SAY", "DIGITS"): (say, False),
    ("SAY", "NUMBER"): (say, False),
    ("SAY", "ALPHA"): (say, False),
    ("SET", "VARIABLE"): (set_variable, True),
    ("GET", "VARIABLE"): (get_variable, True),
    ("GET", "FULL", "VARIABLE"): (get_variable, True),
    ("EXEC",): (exec_app, True),
    ("VERBOSE",): (lambda _c, _a: _fixed("200 result=1"), True),
    ("NOOP",): (lambda _c, _a: _fixed("200 result=0"), True),
    ("ANSWER",): (lambda _c, _a: _fixed("200 result=0"), False),
    ("CHANNEL", "STATUS"): (lambda _c, _a: _fixed("200 result=6"), False),
}
"""Command words -> (handler, allowed on a dead channel), as in res_agi's command table."""


def lookup(words: list[str]) -> tuple[Handler, bool, list[str]] | None:
    upper = [w.upper() for w in words]
    for size in (3, 2, 1):
        entry = COMMANDS.get(tuple(upper[:size]))
        if entry is not None and len(upper) >= size:
            return entry[0], entry[1], words[size:]
    return None
