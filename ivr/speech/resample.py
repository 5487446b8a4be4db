"""8 kHz telephone audio to the 16 kHz a speech model expects.

Feeding 8 kHz samples to a 16 kHz model is not a small loss: every sound comes out
an octave high and twice as fast, and nothing is recognized. ``audioop.ratecv`` would
do, but ``audioop`` warns on import since Python 3.11 and is gone in 3.13, so this is
a small streaming interpolator of our own.

Method: upsample by 2 with a half-band low-pass FIR, split into its two phases.
Even output samples are the input samples themselves (a half-band filter's even
phase is a pure delay); odd samples are a ``2 * HALF_TAPS``-tap Lanczos-windowed sinc
of the neighbours. Plain linear interpolation would leave mirror images of the voice
band between 4 and 8 kHz, exactly where the model's filter bank still looks.
Latency: HALF_TAPS input samples (1 ms at 8 kHz).
"""

from __future__ import annotations

import math
import operator
import sys
from array import array
from typing import Final

HALF_TAPS: Final = 8


def _odd_phase(half: int) -> tuple[float, ...]:
    def sinc(x: float) -> float:
        return 1.0 if x == 0 else math.sin(math.pi * x) / (math.pi * x)

    # Offsets of the neighbours from the new sample's position: -7.5 .. +7.5.
    taps = [sinc(k - half + 0.5) * sinc((k - half + 0.5) / half) for k in range(2 * half)]
    total = sum(taps)
    return tuple(t / total for t in taps)  # unit DC gain: silence and offsets stay put


_COEFFS: Final = _odd_phase(HALF_TAPS)


def _to_samples(pcm: bytes) -> array[int]:
    if len(pcm) % 2:
        raise ValueError(f"{len(pcm)} bytes is not whole 16-bit samples")
    samples = array("h")
    samples.frombytes(pcm)
    if sys.byteorder == "big":  # the wire format is little-endian
        samples.byteswap()
    return samples


def _clip(value: float) -> int:
    return -32768 if value < -32768 else 32767 if value > 32767 else round(value)


class Upsampler2x:
    """Streaming 2x upsampler for signed 16-bit little-endian mono PCM.

    Feed chunks of any (even) size in order; the output is the same as for the
    whole signal at once. Each call returns exactly twice as many samples as given.
    """

    def __init__(self) -> None:
        # Zeros stand for the silence before the stream began.
        self._history: list[int] = [0] * (2 * HALF_TAPS)

    def process(self, pcm: bytes) -> bytes:
        samples = _to_samples(pcm)
        window = self._history + samples.tolist()
        out = array("h", bytes(4 * len(samples)))
        coeffs = _COEFFS
        mul = operator.mul
        for i in range(len(samples)):
            # window[i + 1 : i + 1 + 2 * HALF_TAPS] are the neighbours of the gap after
            # window[i + HALF_TAPS]; that sample comes out first, the gap's value second.
            neighbours = window[i + 1 : i + 1 + 2 * HALF_TAPS]
            out[2 * i] = window[i + HALF_TAPS]
            out[2 * i + 1] = _clip(sum(map(mul, coeffs, neighbours)))
        self._history = window[len(window) - 2 * HALF_TAPS :]
        if sys.byteorder == "big":
            out.byteswap()
        return out.tobytes()
