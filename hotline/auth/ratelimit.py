"""Login throttling: a few failures per (username, client address) per window, then 429.

Keyed on the pair, not the address alone, because a contact center floor often reaches hotline
from one NAT address: one agent mistyping must not lock out the whole floor, while a guesser
hammering one account is stopped after :attr:`LoginLimiter.max_failures` tries. A success clears
the pair's failures. Memory is bounded: at most :attr:`LoginLimiter.max_keys` pairs are tracked,
the stalest dropped first, so a flood of invented usernames cannot grow the process.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Final

DEFAULT_MAX_FAILURES: Final = 5
DEFAULT_WINDOW_S: Final = 60.0
DEFAULT_MAX_KEYS: Final = 50_000


class LoginLimiter:
    """Sliding-window failure counter per (username, address)."""

    def __init__(
        self,
        *,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window: float = DEFAULT_WINDOW_S,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_failures < 1 or window <= 0 or max_keys < 1:
            raise ValueError("max_failures, window and max_keys must be positive")
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float] | None:
        stamps = self._failures.get(key)
        if stamps is None:
            return None
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
            return None
        return stamps

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until this pair may try again; 0 when it may try now."""
        now = self._clock()
        stamps = self._recent((username, address), now)
        if stamps is None or len(stamps) < self.max_failures:
            return 0
        # The window slides: one more try is allowed when the oldest counted failure leaves it.
        oldest_counted = stamps[-self.max_failures]
        return max(1, math.ceil(oldest_counted + self.window - now))

    def failed(self, username: str, address: str) -> None:
        """Count one failed login of this pair."""
        key = (username, address)
        now = self._clock()
        stamps = self._recent(key, now)
        if stamps is None:
            stamps = self._failures[key] = deque(maxlen=self.max_failures)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(key)
        stamps.append(now)

    def succeeded(self, username: str, address: str) -> None:
        """A correct password clears this pair's failures."""
        self._failures.pop((username, address), None)

    def tracked(self) -> int:
        """Pairs with failures in memory (for tests and metrics)."""
        return len(self._failures)
