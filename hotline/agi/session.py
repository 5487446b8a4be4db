"""Typed FastAGI commands, as a handler sees them.

Every command is awaitable and returns a typed result. Commands that play or read
audio answer ``result=-1`` when the caller hangs up, so they raise
:class:`~hotline.agi.errors.AgiHangup` then. (Asterisk also answers ``-1`` when a
prompt file is missing; the two cannot be told apart from the reply, and treating
it as a hangup is the safe reading: the handler stops and the dialplan goes on.)

Deadlines: each command gets the session's ``command_timeout`` plus the longest
wait it may legitimately take (a GET DATA of 4 digits with 5 s per digit may take
20 s more than its prompt).
"""

from __future__ import annotations

from typing import Final, NamedTuple

from hotline.agi.channel import AgiChannel
from hotline.agi.errors import AgiHangup, AgiProtocolError
from hotline.agi.events import AgiReply
from hotline.names import VAR_STATUS

_DEFAULT_FIRST_DIGIT_MS: Final = 6000
_DEFAULT_OPTION_MS: Final = 5000
_MAX_DIGITS_BUDGETED: Final = 32
_WAIT_FOREVER: Final = float("inf")


class StreamResult(NamedTuple):
    """STREAM FILE / GET OPTION: the digit that stopped playback (or None) and the sample offset."""

    digit: str | None
    endpos: int


class GetDataResult(NamedTuple):
    """GET DATA: the digits typed ('' if none) and whether input ended by timeout."""

    digits: str
    timed_out: bool


class RecordResult(NamedTuple):
    """RECORD FILE: the digit that stopped it, the sample offset, and why it ended."""

    digit: str | None
    endpos: int
    ended_by: str | None
    """'dtmf', 'timeout', 'randomerror', 'writefile' ... as Asterisk says it."""


def _number(reply: AgiReply) -> int:
    value = reply.result_int
    if value is None:
        raise AgiProtocolError(f"expected a numeric result, got {reply.text!r}")
    return value


def _digit(code: int) -> str | None:
    # Playback commands answer the ASCII code of the digit pressed, 0 for none.
    return chr(code) if code > 0 else None


def _endpos(reply: AgiReply) -> int:
    try:
        return int(reply.extras.get("endpos", "0"))
    except ValueError:
        return 0


def _budget(wait_ms: int | None) -> float:
    """Extra seconds of deadline for a wait of ``wait_ms`` (negative: no deadline)."""
    if wait_ms is None:
        return 0.0
    return _WAIT_FOREVER if wait_ms < 0 else wait_ms / 1000


class AgiSession(AgiChannel):
    """What a route handler receives: the call's ``env``, its ``pbx`` and the typed commands."""

    _status_set = False

    @property
    def status_set(self) -> bool:
        """True once this session set HOTLINE_STATUS (the server then leaves it alone)."""
        return self._status_set

    def _alive(self, reply: AgiReply, command: str) -> AgiReply:
        """Audio commands answer -1 when the caller is gone: that is a hangup, not a result."""
        if reply.result == "-1":
            self.note_hangup()
            raise AgiHangup(f"{command} answered -1", reply)
        return reply

    async def answer(self) -> None:
        self._alive(await self.command("ANSWER"), "ANSWER")

    async def stream_file(self, file: str, escape_digits: str = "") -> StreamResult:
        """Play ``file``; returns the escape digit pressed (or None) and the end position."""
        reply = self._alive(await self.command("STREAM FILE", file, escape_digits), "STREAM FILE")
        return StreamResult(_digit(_number(reply)), _endpos(reply))

    async def get_data(
        self, file: str, timeout_ms: int | None = None, max_digits: int | None = None
    ) -> GetDataResult:
        """Play ``file`` and read up to ``max_digits`` digits (``#`` ends input early)."""
        args: list[str | int] = [file]
        if timeout_ms is not None or max_digits is not None:
            args.append(timeout_ms if timeout_ms is not None else 0)  # 0: Asterisk's default
        if max_digits is not None:
            args.append(max_digits)
        per_digit = _budget(timeout_ms if timeout_ms else _DEFAULT_FIRST_DIGIT_MS)
        extra = per_digit * min(max_digits or _MAX_DIGITS_BUDGETED, _MAX_DIGITS_BUDGETED)
        reply = await self.command("GET DATA", *args, reply_timeout=self.command_timeout + extra)
        self._alive(reply, "GET DATA")
        return GetDataResult(reply.result, reply.data == "timeout")

    async def get_option(self, file: str, escape_digits: str, timeout_ms: int | None = None) -> StreamResult:
        """Play ``file`` then wait ``timeout_ms`` for one of ``escape_digits``."""
        args: list[str | int] = [file, escape_digits]
        if timeout_ms is not None:
            args.append(timeout_ms)
        extra = _budget(timeout_ms if timeout_ms else _DEFAULT_OPTION_MS)
        reply = await self.command("GET OPTION", *args, reply_timeout=self.command_timeout + extra)
        self._alive(reply, "GET OPTION")
        return StreamResult(_digit(_number(reply)), _endpos(reply))

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """Wait for one digit; ``timeout_ms=-1`` waits for ever. None on timeout."""
        reply = await self.command(
            "WAIT FOR DIGIT", timeout_ms, reply_timeout=self.command_timeout + _budget(timeout_ms)
        )
        self._alive(reply, "WAIT FOR DIGIT")
        return _digit(_number(reply))

    async def say_digits(self, digits: str, escape_digits: str = "") -> str | None:
        reply = self._alive(await self.command("SAY DIGITS", digits, escape_digits), "SAY DIGITS")
        return _digit(_number(reply))

    async def say_number(self, number: int, escape_digits: str = "") -> str | None:
        reply = self._alive(await self.command("SAY NUMBER", number, escape_digits), "SAY NUMBER")
        return _digit(_number(reply))

    async def set_variable(self, name: str, value: str | int) -> None:
        try:
            await self.command("SET VARIABLE", name, value)
        except AgiHangup as exc:
            # On a dead channel SET VARIABLE still works (200 with the hangup notice): the
            # status is set then, and the server must not overwrite it.
            if name == VAR_STATUS and exc.reply is not None and exc.reply.ok:
                self._status_set = True
            raise
        if name == VAR_STATUS:
            self._status_set = True

    async def get_variable(self, name: str) -> str | None:
        """The variable's value, or None if it is not set."""
        reply = await self.command("GET VARIABLE", name)
        return (reply.data or "") if reply.result == "1" else None

    async def exec_(self, app: str, *args: str | int, reply_timeout: float | None = None) -> int:
        """Run a dialplan application; returns its result (-2: no such application).

        Asterisk takes the application's options as one argument, so ``args`` are joined
        with commas (``exec_('Playback', 'a', 'b')`` runs ``Playback(a,b)``). Long-running
        applications (Queue, Dial) need ``reply_timeout`` (seconds; ``math.inf`` for none).
        """
        options = [",".join(str(a) for a in args)] if args else []
        reply = await self.command("EXEC", app, *options, reply_timeout=reply_timeout)
        return _number(reply)

    async def record_file(
        self,
        file: str,
        fmt: str,
        escape_digits: str = "",
        timeout_ms: int = -1,
        beep: bool = False,
        silence: int | None = None,
    ) -> RecordResult:
        """Record to ``file.fmt`` until a digit, ``timeout_ms`` (-1: none) or ``silence`` seconds."""
        args: list[str | int] = [file, fmt, escape_digits, timeout_ms]
        if beep:
            args.append("BEEP")
        if silence is not None:
            args.append(f"s={silence}")
        reply = await self.command(
            "RECORD FILE", *args, reply_timeout=self.command_timeout + _budget(timeout_ms)
        )
        if reply.result == "-1" and reply.data in (None, "hangup"):
            self.note_hangup()
            raise AgiHangup("RECORD FILE answered -1", reply)
        code = _number(reply)
        digit = _digit(code) if reply.data == "dtmf" else None
        return RecordResult(digit, _endpos(reply), reply.data)

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command("VERBOSE", message, level)

    async def hangup(self) -> None:
        """Hang the channel up. The session stays open for dead-channel commands."""
        await self.command("HANGUP")
        self.note_hangup()
