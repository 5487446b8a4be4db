"""What MixMonitor leaves on disk for an emulated call: a short 8 kHz mono 16-bit WAV.

The emulator writes where the shipped dialplan makes Asterisk write
(``<spool>/<site>/<YYYY>/<MM>/<DD>/<uniqueid>.wav``, the date in the PBX's time zone), so the
recording feature can be tested against real files. The audio is a tone, capped at a few
seconds: a test needs a real WAV with a real duration, not a call's worth of bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
import wave
import zoneinfo
from pathlib import Path
from typing import Final

SAMPLE_RATE: Final = 8000


def recording_path(spool: str, site: str, uniqueid: str, at: float, timezone: str) -> Path:
    """The file the dialplan's ``MixMonitor(${HOTLINE_SITE}/${STRFTIME(...)}/${UNIQUEID}.wav,b)`` names."""
    day = dt.datetime.fromtimestamp(at, zoneinfo.ZoneInfo(timezone)).strftime("%Y/%m/%d")
    return Path(spool) / site / day / f"{uniqueid}.wav"


def write_recording(path: Path, seconds: float, frequency: float = 440.0) -> int:
    """Write a tone of ``seconds`` (at least one sample) to ``path``; returns the audio bytes written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = max(1, round(seconds * SAMPLE_RATE))
    step = 2 * math.pi * frequency / SAMPLE_RATE
    frames = struct.pack(f"<{samples}h", *(int(6000 * math.sin(step * i)) for i in range(samples)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(frames)
    return len(frames)
