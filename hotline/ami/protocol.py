"""AMI protocol core, without IO (in the manner of h11).

Bytes go in with :meth:`AmiParser.receive_data`; whole messages come out of
:meth:`AmiParser.next_message` (``None`` means: feed more bytes). Actions become
bytes with :func:`encode_action`.

Why the buffer is split on bytes and decoded only per complete frame: Asterisk
writes UTF-8 caller names ("Śantoso") and TCP can cut a character in two between
reads. Decoding a chunk at a time (as panoramisk 1.4 does, with errors ignored)
loses the character; decoding complete frames never does. Invalid UTF-8 is
replaced (U+FFFD), never dropped, and since CR and LF are ASCII a replacement can
never swallow a frame boundary, so decoding a run of complete frames at once is
the same as decoding them one by one.

A frame is ``Key: Value\\r\\n`` lines ending in an empty line. The only line that
is not in a frame is the banner (``Asterisk Call Manager/11.0.0\\r\\n``), sent
once at connect with no blank line after it. Keys may repeat (``Variable``,
``Output``, ``ChanVariable``), so headers are kept in arrival order.

Why messages are split into headers lazily: the reader only needs to know a
frame's kind and event name to route it. Splitting every frame into key/value
strings eagerly costs more than framing, routing and queueing together, so it is
done once, on first access, by whoever reads a field (see ``bench/bench_ami.py``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MAX_FRAME_BYTES",
    "AmiMessage",
    "AmiParser",
    "AmiProtocolError",
    "Banner",
    "Event",
    "Garbage",
    "Message",
    "Response",
    "encode_action",
    "encode_message",
    "parse_frame",
]

MAX_FRAME_BYTES: Final = 1024 * 1024
"""A frame larger than this is garbage (or an attack); it is dropped and reported."""

_BANNER_PREFIX: Final = b"Asterisk Call Manager/"
_END: Final = b"\r\n\r\n"
_LEGACY_BODY_END: Final = "--END COMMAND--"


class AmiProtocolError(ValueError):
    """The peer sent something that is not AMI. The parser has already resynchronised."""


@dataclass(frozen=True, slots=True)
class Banner:
    """``Asterisk Call Manager/<version>``: 11.0.0 on Asterisk 22, 12.0.0 on 23."""

    version: str


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes that could not be read as a frame; reported so the caller can log one clear error."""

    reason: str
    size: int


def _split_headers(lines: list[str]) -> list[list[str]]:
    """The careful reading of a frame's lines, for frames the fast path refused."""
    pairs: list[list[str]] = []
    for line in lines:
        if "\n" in line:
            # Command output of Asterisk before 14 ("Response: Follows"): LF-separated lines ending
            # with --END COMMAND--. Given the shape Asterisk 22 uses, one Output header per line.
            pairs.extend(["Output", out] for out in line.split("\n") if out and out != _LEGACY_BODY_END)
            continue
        if not line or line == _LEGACY_BODY_END:
            continue
        key, sep, value = line.partition(": ")
        if sep:
            pairs.append([key, value])
            continue
        colon = line.find(":")
        if colon > 0:
            pairs.append([line[:colon].strip(), line[colon + 1 :].lstrip(" ")])
        else:
            # Text that is not a header is kept under a synthetic key, so nothing is silently lost.
            pairs.append(["Output", line])
    return pairs


class Message:
    """One AMI frame: headers in arrival order, repeated keys kept.

    Build one from pairs (``Event((("Event", "Hangup"), ("Uniqueid", "1.2")))``). The parser builds
    them from the frame text, which is split into headers on first access. There are only read
    accessors: a message never changes once built.

    Lookups (``get``, ``[]``, ``in``) ignore case; when a key repeats, the first value wins
    (``get_all`` returns every one).
    """

    __slots__ = ("_index", "_lower", "_pairs", "_text")
    _may_have_body: bool = False

    _text: str
    _pairs: list[list[str]] | tuple[tuple[str, str], ...] | None
    _index: dict[str, str] | None
    _lower: dict[str, str] | None

    def __init__(self, headers: Iterable[tuple[str, str]]) -> None:
        pairs = tuple((str(k), str(v)) for k, v in headers)
        self._text = ""
        self._pairs = pairs
        index = dict(pairs)
        self._index = index if len(index) == len(pairs) else dict(reversed(pairs))
        self._lower = None

    @classmethod
    def _from_text(cls, text: str) -> Message:
        msg = cls.__new__(cls)
        msg._text = text
        msg._pairs = msg._index = msg._lower = None
        return msg

    def _split(self) -> dict[str, str]:
        text = self._text
        # Fast path: every line is "Key: Value". A line without ": " gives a 1-item list and dict()
        # refuses it, which sends the frame to the careful reader.
        pairs = [line.split(": ", 1) for line in text.split("\r\n")]
        try:
            if self._may_have_body and "\n" in text.replace("\r\n", ""):
                raise ValueError("legacy command body")
            index = dict(pairs)
        except ValueError:
            pairs = _split_headers(text.split("\r\n"))
            index = dict(pairs)
        if len(index) != len(pairs):
            index = dict(reversed(pairs))  # a key repeats (Variable, Output): its first value wins
        self._pairs = pairs
        self._index = index
        return index

    def _lowered(self) -> dict[str, str]:
        lower = self._lower
        if lower is None:
            if self._pairs is None:
                self._split()
            lower = {}
            for key, value in reversed(self._pairs or ()):
                lower[key.lower()] = value
            self._lower = lower
        return lower

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of ``key`` (any case), or ``default``."""
        index = self._index
        if index is None:
            index = self._split()
        if key in index:
            return index[key]
        return self._lowered().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        index = self._index
        if index is None:
            index = self._split()
        return key in index or key.lower() in self._lowered()

    def get_all(self, key: str) -> list[str]:
        """Every value of ``key`` (any case), in arrival order."""
        low = key.lower()
        return [v for k, v in self._raw_pairs() if k.lower() == low]

    def as_dict(self) -> dict[str, str]:
        """First value of every key, original spelling, arrival order (for JSON and logs)."""
        pairs = self._raw_pairs()
        index = self._index or {}
        if len(index) == len(pairs):
            return index.copy()  # no repeated key: the index is already in arrival order
        out: dict[str, str] = {}
        for key, value in pairs:
            out.setdefault(key, value)
        return out

    def _raw_pairs(self) -> list[list[str]] | tuple[tuple[str, str], ...]:
        if self._pairs is None:
            self._split()
        return self._pairs or ()

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """Every header as (key, value), in arrival order."""
        pairs = self._raw_pairs()
        if isinstance(pairs, tuple):
            return pairs
        headers = tuple([(k, v) for k, v in pairs])
        self._pairs = headers
        return headers

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Message)
        return self.headers == other.headers

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.headers))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.headers!r})"


class Event(Message):
    """A frame with ``Event:``. ``OriginateResponse`` is an event even though it carries ``Response:``."""

    __slots__ = ("name",)
    name: str

    def __init__(self, headers: Iterable[tuple[str, str]]) -> None:
        super().__init__(headers)
        name = self.get("Event")
        if name is None:
            raise ValueError("an AMI event needs an Event header")
        self.name = name

    @property
    def is_list_item(self) -> bool:
        """Part of an action's EventList (carries the action's ActionID)."""
        return "ActionID" in self

    @property
    def is_list_complete(self) -> bool:
        return (self.get("EventList") or "").lower() == "complete"


class Response(Message):
    """A frame with ``Response: Success|Error|Goodbye|Follows``."""

    __slots__ = ()
    _may_have_body = True

    @property
    def status(self) -> str:
        return self.get("Response") or ""

    @property
    def ok(self) -> bool:
        return self.status.lower() in ("success", "goodbye", "follows")

    @property
    def message(self) -> str:
        return self.get("Message") or ""

    @property
    def starts_list(self) -> bool:
        return (self.get("EventList") or "").lower() == "start"

    @property
    def output(self) -> list[str]:
        """Lines of a ``Command`` action's output (``Output:`` headers; legacy bodies read the same way)."""
        return self.get_all("Output")


AmiMessage = Banner | Event | Response | Garbage


def _decode(raw: bytes) -> str:
    # Invalid UTF-8 is replaced, not dropped, so a bad byte costs one character, never a frame.
    return raw.decode("utf-8", errors="replace")


def _event_from_text(text: str, name: str) -> Event:
    event = Event.__new__(Event)
    event._text = text
    event._pairs = event._index = event._lower = None
    event.name = name
    return event


def _response_from_text(text: str) -> Response:
    response = Response.__new__(Response)
    response._text = text
    response._pairs = response._index = response._lower = None
    return response


def _classify(frame: str) -> Event | Response | Garbage:
    """Turn one decoded frame (no terminator) into a message; the common shapes take the fast path."""
    if frame.startswith("Event: "):
        eol = frame.find("\r\n")
        return _event_from_text(frame, frame[7:eol] if eol >= 0 else frame[7:])
    if frame.startswith("Response: "):
        return _response_from_text(frame)
    # Unusual spelling or order ("event:", Event not first): read every header, then decide.
    probe = Message._from_text(frame)
    name = probe.get("Event")
    if name is not None:
        return _event_from_text(frame, name)
    if "Response" in probe:
        return _response_from_text(frame)
    return Garbage("frame has neither Event nor Response", len(frame.encode("utf-8", "replace")))


def parse_frame(raw: bytes) -> Event | Response | Garbage:
    """Parse one frame (without its terminating empty line)."""
    frame = _decode(raw).lstrip("\r\n")
    if not frame:
        return Garbage("empty frame", len(raw))
    return _classify(frame)


class AmiParser:
    """Incremental AMI reader. Feed bytes; pull messages."""

    __slots__ = ("_banner_pending", "_buffer", "_ready", "_scanned", "_skip_to_frame_end", "max_frame")

    def __init__(self, *, expect_banner: bool = True, max_frame: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._ready: deque[AmiMessage] = deque()
        self._banner_pending = expect_banner
        self._skip_to_frame_end = False
        # Bytes of the buffer already searched for a frame end: feeding a byte at a time stays linear.
        self._scanned = 0
        self.max_frame = max_frame

    def receive_data(self, data: bytes) -> None:
        self._buffer += data

    def next_message(self) -> AmiMessage | None:
        """The next complete message, or ``None`` when more bytes are needed."""
        if not self._ready:
            self._parse_buffer()
            if not self._ready:
                return None
        return self._ready.popleft()

    def messages(self, data: bytes = b"") -> list[AmiMessage]:
        """Feed ``data`` and return every complete message now available."""
        if data:
            self._buffer += data
        self._parse_buffer()
        out = list(self._ready)
        self._ready.clear()
        return out

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a returned message."""
        return len(self._buffer)

    def _parse_buffer(self) -> None:
        buf = self._buffer
        if self._banner_pending and not self._read_banner():
            return
        if self._skip_to_frame_end and not self._skip_garbage():
            return
        end = buf.rfind(_END, max(0, self._scanned - 3))
        if end < 0:
            self._scanned = len(buf)
            if len(buf) > self.max_frame:
                self._overflow()
            return
        block = bytes(buf[:end])
        del buf[: end + 4]
        self._scanned = 0
        if end > self.max_frame:
            # Some frame in the block may be too large: check each one in bytes (rare, never on a live link).
            for raw in block.split(_END):
                self._add_frame_bytes(raw)
        else:
            self._add_frames(_decode(block))
        if len(buf) > self.max_frame:
            self._overflow()

    def _add_frames(self, text: str) -> None:
        ready = self._ready
        for frame in text.split("\r\n\r\n"):
            if frame[:1] in ("\r", "\n", ""):
                # A stray blank line between frames is not an error: skip it.
                frame = frame.lstrip("\r\n")
                if not frame:
                    continue
            ready.append(_classify(frame))

    def _add_frame_bytes(self, raw: bytes) -> None:
        if len(raw) > self.max_frame:
            self._ready.append(
                Garbage(f"frame of {len(raw)} bytes exceeds the {self.max_frame}-byte limit", len(raw))
            )
        else:
            self._add_frames(_decode(raw))

    def _read_banner(self) -> bool:
        """Consume the banner line if complete; False when more bytes are needed."""
        buf = self._buffer
        end = buf.find(b"\r\n")
        if end < 0:
            if len(buf) > self.max_frame:
                self._overflow()
                return True
            return False
        self._banner_pending = False
        if buf.startswith(_BANNER_PREFIX):
            line = bytes(buf[len(_BANNER_PREFIX) : end])
            del buf[: end + 2]
            self._ready.append(Banner(_decode(line).strip()))
        # No banner (the peer is not AMI, or we connected mid-stream): the bytes are frame data.
        return True

    def _skip_garbage(self) -> bool:
        """Drop bytes up to the end of the oversized frame; False when that end is not here yet."""
        buf = self._buffer
        end = buf.find(_END)
        if end < 0:
            # Keep only the last 3 bytes: the terminator may straddle reads.
            del buf[:-3]
            self._scanned = 0
            return False
        del buf[: end + 4]
        self._skip_to_frame_end = False
        self._scanned = 0
        return True

    def _overflow(self) -> None:
        size = len(self._buffer)
        self._ready.append(Garbage(f"more than {self.max_frame} bytes without a frame end", size))
        tail = bytes(self._buffer[-3:])
        self._buffer.clear()
        self._buffer += tail
        self._skip_to_frame_end = True
        self._banner_pending = False
        self._scanned = 0


def _clean(value: str) -> str:
    # A CR or LF inside a value would end the header (or the frame) early: header injection.
    if "\r" in value or "\n" in value:
        raise ValueError("AMI header values cannot contain CR or LF")
    return value


def encode_action(
    action: str,
    action_id: str,
    fields: Mapping[str, str | int | bool] | Iterable[tuple[str, str | int | bool]] = (),
) -> bytes:
    """``Action: X``, ``ActionID``, then the fields (an iterable of pairs may repeat keys, e.g. Variable)."""
    lines = [f"Action: {_clean(action)}", f"ActionID: {_clean(action_id)}"]
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    for key, value in pairs:
        if isinstance(value, bool):
            value = "true" if value else "false"
        lines.append(f"{_clean(str(key))}: {_clean(str(value))}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def encode_message(headers: Iterable[tuple[str, str]]) -> bytes:
    """Encode a frame as a server would (used by the emulator and by tests)."""
    return ("".join(f"{_clean(k)}: {_clean(v)}\r\n" for k, v in headers) + "\r\n").encode("utf-8")
