"""FastAGI protocol core, without IO (in the manner of h11).

Bytes from Asterisk go in with :meth:`AgiParser.receive_data` (``b""`` means the
peer closed); events come out of :meth:`AgiParser.next_event` (``None`` means:
feed more bytes). Commands become bytes with :func:`encode_command` (from
:mod:`hotline.agi.encoding`, re-exported here).

Why the environment block is kept as bytes until its blank line: Asterisk writes
UTF-8 caller names ("Śantoso") and TCP can cut a character in two between reads;
decoding a complete block never loses it. Invalid UTF-8 is replaced, never fatal.

Why ``HANGUP`` is an event of its own: Asterisk writes it into the reply stream
whenever the caller hangs up, before or after the reply to the pending command
(Asterisk 22 sends ``200 result=-1`` for GET DATA, then ``HANGUP`` only once the
next command arrives, then that command's reply). A reader that took it for a
reply would answer every later command with the previous command's reply.

Limits: a line longer than ``max_line`` or an environment / usage block larger
than ``max_block`` is a :class:`AgiProtocolError` as soon as it is exceeded, so a
peer that never sends a newline cannot make the parser buffer without end. Errors
are sticky: once raised, every later call raises the same error.
"""

from __future__ import annotations

from typing import Final

from hotline.agi.encoding import MAX_COMMAND_BYTES, encode_command, quote_argument
from hotline.agi.errors import AgiProtocolError
from hotline.agi.events import (
    NO_EXTRAS,
    AgiEnvironment,
    AgiEvent,
    AgiReply,
    ConnectionClosed,
    HangupNotice,
    parse_reply_line,
)

MAX_LINE_BYTES: Final = 64 * 1024
MAX_BLOCK_BYTES: Final = 256 * 1024

_HANGUP_LINE: Final = b"HANGUP"
_HANGUP_NOTICE: Final = HangupNotice()

_KNOWN_LINES: dict[bytes, AgiEvent] = {_HANGUP_LINE: _HANGUP_NOTICE}
"""Events of the lines that make up nearly all of the traffic, parsed once per process.

``200 result=0`` and its kin are immutable and identical every time, so each is parsed
once and then found with one dict lookup. Only the short form with a result of at most
two characters is kept (``-1``, a digit's ASCII code, a menu choice): that bounds the
table and keeps what callers type (account numbers, PINs) and variable values out of it.
"""
_KNOWN_LINES_MAX: Final = 1024
_KNOWN_LINE_BYTES: Final = len(b"200 result=-1")

_ENVIRONMENT, _REPLIES, _USAGE, _CLOSED = range(4)


class AgiParser:
    """Incremental FastAGI reader for the server side: environment first, then replies."""

    __slots__ = (
        "_block",
        "_block_size",
        "_buffer",
        "_eof",
        "_error",
        "_line_start",
        "_scanned",
        "_state",
        "_usage_code",
        "_usage_first",
        "max_block",
        "max_line",
    )

    def __init__(
        self,
        *,
        max_line: int = MAX_LINE_BYTES,
        max_block: int = MAX_BLOCK_BYTES,
        expect_environment: bool = True,
    ) -> None:
        self.max_line = max_line
        self.max_block = max_block
        self._buffer = bytearray()
        # Bytes at the head of the buffer already searched for a newline: a long line fed
        # one byte at a time must not be rescanned from its start on every call.
        self._scanned = 0
        self._line_start = 0  # start of the partial last line of the environment block
        self._eof = False
        self._error: AgiProtocolError | None = None
        self._state = _ENVIRONMENT if expect_environment else _REPLIES
        self._block: list[bytes] = []
        self._block_size = 0
        self._usage_code = ""
        self._usage_first = ""

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes read from the socket; ``b""`` tells the parser the peer closed."""
        if not data:
            self._eof = True
        elif not self._eof:
            self._buffer += data

    def next_event(self) -> AgiEvent | None:
        """The next complete event, or ``None`` if more bytes are needed."""
        if self._error is not None:
            raise self._error
        try:
            if self._state == _ENVIRONMENT:
                return self._take_environment()
            while (line := self._next_line()) is not None:
                event = _KNOWN_LINES.get(line) if self._state == _REPLIES else None
                if event is None:
                    event = self._on_line(line)
                if event is not None:
                    return event
            return self._on_eof() if self._eof else None
        except AgiProtocolError as exc:
            self._error = exc
            raise

    @property
    def buffered(self) -> int:
        """Bytes received and not yet turned into events."""
        return len(self._buffer)

    @property
    def has_buffered(self) -> bool:
        """True if bytes (or the end of the stream) wait to be turned into events."""
        return bool(self._buffer) or self._eof

    def _next_line(self) -> bytes | None:
        buffer = self._buffer
        end = buffer.find(b"\n", self._scanned)
        if end < 0:
            self._scanned = len(buffer)
            if len(buffer) > self.max_line:
                raise AgiProtocolError(f"line longer than {self.max_line} bytes")
            return None
        if end > self.max_line:
            raise AgiProtocolError(f"line longer than {self.max_line} bytes")
        line = bytes(buffer[:end])
        del buffer[: end + 1]
        self._scanned = 0
        return line[:-1] if line.endswith(b"\r") else line

    def _on_line(self, line: bytes) -> AgiEvent | None:
        if line == _HANGUP_LINE:
            return _HANGUP_NOTICE
        if self._state == _USAGE:
            return self._on_usage_line(line)
        if not line:
            return None  # a stray blank line carries nothing; skipping it keeps replies in step
        text = line.decode("utf-8", errors="replace")
        if text[3:4] == "-" and text[:3].isdigit():
            self._state = _USAGE
            self._usage_code = text[:3]
            self._usage_first = text[4:]
            return None
        reply = parse_reply_line(text)
        if (
            len(line) <= _KNOWN_LINE_BYTES
            and reply.extras is NO_EXTRAS  # the short form: nothing after the result
            and len(_KNOWN_LINES) < _KNOWN_LINES_MAX
        ):
            _KNOWN_LINES[line] = reply
        return reply

    def _grow_block(self, line: bytes) -> None:
        self._block.append(line)
        self._block_size += len(line) + 1
        if self._block_size > self.max_block:
            raise AgiProtocolError(f"block larger than {self.max_block} bytes")

    def _take_environment(self) -> AgiEnvironment | None:
        # The block is cut at its blank line with two C-level searches rather than line by
        # line in Python: every call starts with one, and they arrive by the hundred at once.
        buffer = self._buffer
        if not buffer:
            if self._eof:
                raise AgiProtocolError(
                    "connection closed before the end of the AGI environment (0 lines read)"
                )
            return None
        if buffer[:1] == b"\n" or buffer[:2] == b"\r\n":
            raise AgiProtocolError("empty AGI environment")
        start = max(self._scanned - 2, 0)
        ends = [
            (i, n)
            for i, n in ((buffer.find(b"\n\n", start), 2), (buffer.find(b"\n\r\n", start), 3))
            if i >= 0
        ]
        if not ends:
            self._check_incomplete_environment()
            return None
        end, terminator = min(ends)
        if end > self.max_block:
            raise AgiProtocolError(f"block larger than {self.max_block} bytes")
        block = bytes(buffer[:end])
        del buffer[: end + terminator]
        self._scanned = self._line_start = 0
        if end > self.max_line and max(map(len, block.split(b"\n"))) > self.max_line:
            raise AgiProtocolError(f"line longer than {self.max_line} bytes")
        text = block.decode("utf-8", errors="replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").removesuffix("\r")
        raw: dict[str, str] = {}
        for entry in text.split("\n"):
            key, colon, value = entry.partition(": ")
            if not colon or not key or key[-1] == " ":
                key, value = _loose_entry(entry)
            raw[key] = value
        self._state = _REPLIES
        return AgiEnvironment(raw)

    def _check_incomplete_environment(self) -> None:
        buffer = self._buffer
        last_newline = buffer.rfind(b"\n", self._scanned)
        if last_newline >= 0:
            self._line_start = last_newline + 1
        self._scanned = len(buffer)
        if len(buffer) - self._line_start > self.max_line:
            raise AgiProtocolError(f"line longer than {self.max_line} bytes")
        if len(buffer) > self.max_block:
            raise AgiProtocolError(f"block larger than {self.max_block} bytes")
        if self._eof:
            lines = buffer.count(b"\n")
            raise AgiProtocolError(
                f"connection closed before the end of the AGI environment ({lines} lines read)"
            )

    def _on_usage_line(self, line: bytes) -> AgiReply | None:
        text = line.decode("utf-8", errors="replace")
        if not text.startswith(self._usage_code + " "):
            self._grow_block(line)
            return None
        usage = b"\n".join(self._block).decode("utf-8", errors="replace").strip("\n")
        self._block, self._block_size = [], 0
        self._state = _REPLIES
        return AgiReply(code=int(self._usage_code), usage=usage, text=self._usage_first)

    def _on_eof(self) -> ConnectionClosed:
        if self._state == _USAGE:
            raise AgiProtocolError("connection closed inside a usage block")
        if self._buffer:
            raise AgiProtocolError(f"connection closed inside a line ({len(self._buffer)} bytes)")
        self._state = _CLOSED
        return ConnectionClosed()


def _loose_entry(entry: str) -> tuple[str, str]:
    """``key:value`` as a peer other than Asterisk may write it (Asterisk always writes ``: ``)."""
    key, colon, value = entry.partition(":")
    if not colon or not key.strip():
        raise AgiProtocolError(f"not an AGI environment line: {entry[:80]!r}")
    return key.strip(), value.removeprefix(" ")


__all__ = [
    "MAX_BLOCK_BYTES",
    "MAX_COMMAND_BYTES",
    "MAX_LINE_BYTES",
    "AgiEnvironment",
    "AgiEvent",
    "AgiParser",
    "AgiReply",
    "ConnectionClosed",
    "HangupNotice",
    "encode_command",
    "parse_reply_line",
    "quote_argument",
]
