"""Emulated time: seconds of a call pass ``speed`` times faster than real ones.

Event timestamps, uniqueids, queue_log and CDR times all read this clock, so a call
played at speed 50 still reports a 14 s talk time. Every call keeps its own cursor
(see :class:`~hotline.emulator.calls.CallRunner`) and sleeps *until* an emulated
instant, so the durations a script asks for come out exact, not "about right".
"""

from __future__ import annotations

import asyncio
import time


class EmulatedClock:
    """Wall clock of the emulated PBX: ``start_epoch`` at creation, advancing ``speed`` x real time."""

    def __init__(self, start_epoch: float, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, not {speed}")
        self.start_epoch = start_epoch
        self.speed = speed
        self._real_start = time.monotonic()

    def now(self) -> float:
        return self.start_epoch + (time.monotonic() - self._real_start) * self.speed

    def real_seconds(self, emulated_seconds: float) -> float:
        return emulated_seconds / self.speed

    async def sleep_until(self, instant: float) -> None:
        """Sleep (really) until the emulated clock reaches ``instant``; return at once if it has."""
        delay = (instant - self.now()) / self.speed
        if delay > 0:
            await asyncio.sleep(delay)
