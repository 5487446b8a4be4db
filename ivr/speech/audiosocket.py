"""Asterisk AudioSocket protocol, without IO.

Checked against Asterisk 22.10.1 (``include/asterisk/res_audiosocket.h``,
``res/res_audiosocket.c``, ``apps/app_audiosocket.c``). Every message is a 3-byte
header, kind (1 byte) and payload length (2 bytes, big-endian), then the payload:

======  ===========================================================  ===============
kind    payload                                                      sent by
======  ===========================================================  ===============
0x00    none: end the session (closing the socket is the same)       either side
0x01    the stream's UUID, 16 bytes binary; always the first message  Asterisk
0x03    one DTMF digit, ASCII                                         Asterisk
0x10    audio, signed 16-bit little-endian mono, 8 kHz (``slin``)     either side
0x11    the same at 12 kHz; 0x12 16 kHz, 0x13 24, 0x14 32, 0x15 44.1,  either side
..0x18  0x16 48, 0x17 96, 0x18 192 kHz (channel driver only)
0xff    an error, optional application-specific code                 Asterisk
======  ===========================================================  ===============

The dialplan application ``AudioSocket(uuid,host:port)`` always sends 0x10 (it forces
the channel to slin 8 kHz). When the server sends 0x00, Asterisk ends the application
with 0 and the dialplan (or the AGI ``EXEC``) goes on; the channel is not hung up.

The parser follows h11's shape: ``receive_data(bytes)`` then ``next_event()`` until it
answers :data:`NEED_DATA`. Anything that is not this protocol raises
:class:`AudioSocketProtocolError`; the stream is unusable after that.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Final

HEADER_BYTES: Final = 3
SLIN_8K_FRAME_BYTES: Final = 320
"""One 20 ms frame of 8 kHz slin, what Asterisk sends for a usual channel."""
DEFAULT_MAX_PAYLOAD: Final = 8192
"""Well above a 20 ms frame at 192 kHz (7680 bytes); a longer payload is not audio we expect."""


class Kind(enum.IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


AUDIO_RATES: Final[dict[int, int]] = {
    0x10: 8000,
    0x11: 12000,
    0x12: 16000,
    0x13: 24000,
    0x14: 32000,
    0x15: 44100,
    0x16: 48000,
    0x17: 96000,
    0x18: 192000,
}
"""Audio kinds and their sample rates (Asterisk 22 source; some docs number them differently)."""


class AudioSocketProtocolError(ValueError):
    """The peer sent bytes that are not AudioSocket."""


@dataclass(frozen=True)
class StreamId:
    """0x01: which stream (and so which listening menu) this connection carries."""

    uuid: uuid.UUID


@dataclass(frozen=True)
class Audio:
    """0x10..0x18: signed 16-bit little-endian mono samples at ``rate`` Hz."""

    pcm: bytes
    rate: int = 8000


@dataclass(frozen=True)
class Dtmf:
    """0x03: a key the caller pressed while the stream ran."""

    digit: str


@dataclass(frozen=True)
class Hangup:
    """0x00: the peer ends the session."""


@dataclass(frozen=True)
class ErrorFrame:
    """0xff: the peer reports an error; ``code`` is its first payload byte, if any."""

    code: int | None


Event = StreamId | Audio | Dtmf | Hangup | ErrorFrame


class NeedData(enum.Enum):
    """The type of :data:`NEED_DATA`."""

    NEED_DATA = "NEED_DATA"


NEED_DATA: Final = NeedData.NEED_DATA


class AudioSocketParser:
    """Bytes from the peer in, events out."""

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self._buffer = bytearray()
        self._max_payload = max_payload
        self._closed = False

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a whole message (nonzero at EOF: a cut message)."""
        return len(self._buffer)

    def receive_data(self, data: bytes) -> None:
        self._buffer += data

    def next_event(self) -> Event | NeedData:
        if self._closed:
            raise AudioSocketProtocolError("message after the stream failed")
        if len(self._buffer) < HEADER_BYTES:
            return NEED_DATA
        kind = self._buffer[0]
        length = int.from_bytes(self._buffer[1:3], "big")
        # Checked before the payload arrives, so a bogus length cannot make us buffer 64 KiB.
        if length > self._max_payload:
            self._fail(f"payload of {length} bytes is over the {self._max_payload}-byte limit")
        if len(self._buffer) < HEADER_BYTES + length:
            return NEED_DATA
        payload = bytes(self._buffer[HEADER_BYTES : HEADER_BYTES + length])
        del self._buffer[: HEADER_BYTES + length]
        return self._event(kind, payload)

    def _event(self, kind: int, payload: bytes) -> Event:
        if kind == Kind.HANGUP:
            return Hangup()
        if kind == Kind.UUID:
            if len(payload) != 16:
                self._fail(f"UUID message of {len(payload)} bytes, expected 16")
            return StreamId(uuid.UUID(bytes=payload))
        if kind == Kind.DTMF:
            if len(payload) != 1 or chr(payload[0]) not in "0123456789*#ABCD":
                self._fail(f"DTMF message {payload[:8]!r} is not one key")
            return Dtmf(chr(payload[0]))
        if kind in AUDIO_RATES:
            # Asterisk itself refuses empty audio; an odd length cannot be 16-bit samples.
            if not payload or len(payload) % 2:
                self._fail(f"audio message of {len(payload)} bytes is not whole 16-bit samples")
            return Audio(payload, AUDIO_RATES[kind])
        if kind == Kind.ERROR:
            return ErrorFrame(payload[0] if payload else None)
        self._fail(f"unknown message kind 0x{kind:02x}")
        raise AssertionError("unreachable")  # _fail always raises; this keeps mypy sure

    def _fail(self, reason: str) -> None:
        self._closed = True
        raise AudioSocketProtocolError(reason)


def _message(kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > 0xFFFF:
        raise ValueError(f"AudioSocket payload of {len(payload)} bytes does not fit a 16-bit length")
    return bytes([kind]) + len(payload).to_bytes(2, "big") + payload


def encode_hangup() -> bytes:
    return _message(Kind.HANGUP)


def encode_uuid(stream: uuid.UUID) -> bytes:
    return _message(Kind.UUID, stream.bytes)


def encode_dtmf(digit: str) -> bytes:
    if len(digit) != 1 or digit not in "0123456789*#ABCD":
        raise ValueError(f"not one DTMF key: {digit!r}")
    return _message(Kind.DTMF, digit.encode("ascii"))


def encode_audio(pcm: bytes, rate: int = 8000) -> bytes:
    kinds = {r: k for k, r in AUDIO_RATES.items()}
    if rate not in kinds:
        raise ValueError(f"AudioSocket has no audio kind for {rate} Hz")
    return _message(kinds[rate], pcm)


def encode_error(code: int | None = None) -> bytes:
    return _message(Kind.ERROR, b"" if code is None else bytes([code]))
