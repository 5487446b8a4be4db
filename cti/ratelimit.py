"""A token bucket per socket for client commands (a stuck key or a script must not drive the PBX)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

DEFAULT_RATE: Final = 5.0
"""Commands per second a console sustains (a person clicks far fewer)."""
DEFAULT_BURST: Final = 10


class CommandLimiter:
    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def allow(self) -> bool:
        """Take one token; False when the bucket is empty (the command is refused, not queued)."""
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
