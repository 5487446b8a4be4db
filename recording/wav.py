"""Reading (and, for the emulator and tests, writing) the WAV files MixMonitor leaves.

Asterisk's ``wav`` format is RIFF/WAVE, 16-bit signed PCM, mono, 8 kHz; ``WAV`` (wav49) is GSM
in a RIFF container. Both carry a byte rate, so the duration is ``data bytes / byte rate``.

Asterisk writes the RIFF and data sizes into the header only when it closes the file, so a file
cut short (a crash, a full disk, a copy taken while recording) says 0 or a wrong size there. The
bytes on disk are the truth: :func:`read_wav_info` measures the data chunk from the file size
and reports the header's claim beside it, so a caller can flag the disagreement.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

HEADER_PROBE: Final = 4096
"""MixMonitor's header is 44 bytes (60 for wav49); any real WAV's chunks before ``data`` fit in this."""


class WavError(ValueError):
    """The file is not a WAV this module can measure; the message says what is wrong."""


@dataclass(frozen=True)
class WavInfo:
    audio_format: int
    """1 = PCM, 49 = GSM 6.10 (Asterisk's wav49)."""
    channels: int
    sample_rate: int
    byte_rate: int
    data_offset: int
    data_bytes: int
    """Bytes of audio actually in the file."""
    declared_bytes: int
    """What the header claims; differs from ``data_bytes`` for a file not closed properly."""

    @property
    def duration_s(self) -> float:
        return self.data_bytes / self.byte_rate if self.byte_rate else 0.0

    @property
    def header_ok(self) -> bool:
        return self.declared_bytes == self.data_bytes


def parse_header(head: bytes, file_size: int) -> WavInfo:
    """Measure a WAV from its first bytes (at least up to the ``data`` chunk) and its size on disk."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    offset = 12
    fmt: tuple[int, int, int, int] | None = None
    while offset + 8 <= len(head):
        chunk_id = head[offset : offset + 4]
        (size,) = struct.unpack_from("<I", head, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(head):
                raise WavError("fmt chunk is truncated")
            audio_format, channels, rate, byte_rate = struct.unpack_from("<HHII", head, body)
            fmt = (audio_format, channels, rate, byte_rate)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError("data chunk before the fmt chunk")
            if fmt[3] <= 0:
                raise WavError("byte rate is 0")
            actual = max(0, file_size - body)
            return WavInfo(fmt[0], fmt[1], fmt[2], fmt[3], body, actual, size)
        offset = body + size + (size & 1)
    raise WavError("no data chunk in the first bytes of the file")


def read_wav_info(path: Path) -> WavInfo:
    """Measure a WAV file on disk; :class:`WavError` if it is not one, ``OSError`` if unreadable."""
    with path.open("rb") as handle:
        head = handle.read(HEADER_PROBE)
        size = handle.seek(0, 2)
    return parse_header(head, size)


def pcm_header(data_bytes: int, sample_rate: int = 8000, channels: int = 1, bits: int = 16) -> bytes:
    """The 44-byte header of a PCM WAV holding ``data_bytes`` of audio."""
    block = channels * bits // 8
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        sample_rate,
        sample_rate * block,
        block,
        bits,
        b"data",
        data_bytes,
    )


def write_tone(
    target: BinaryIO,
    seconds: float,
    *,
    frequency: float = 440.0,
    sample_rate: int = 8000,
    amplitude: int = 6000,
) -> int:
    """Write a mono 16-bit PCM WAV of a sine tone (what an emulated call leaves); returns bytes written."""
    samples = max(0, round(seconds * sample_rate))
    step = 2 * math.pi * frequency / sample_rate
    frames = struct.pack(f"<{samples}h", *(int(amplitude * math.sin(step * i)) for i in range(samples)))
    header = pcm_header(len(frames), sample_rate)
    target.write(header)
    target.write(frames)
    return len(header) + len(frames)
