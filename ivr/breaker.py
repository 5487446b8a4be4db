"""A circuit breaker shared by the IVR's external-system clients (core system, ticketing).

A caller on the line must never wait through a string of timeouts to an upstream that is
down: after ``failure_threshold`` consecutive failures the circuit *opens* and every call
fails at once. After ``reset_timeout_s`` one call is let through as a *probe* (half-open);
its success closes the circuit, its failure opens it again for another cool-down. While the
probe is in flight every other call still fails fast, so a recovering upstream is not hit by
the whole backlog at once.

The breaker is plain state (no IO, no tasks): callers ask :meth:`CircuitBreaker.acquire`
before an attempt and report the outcome with :meth:`success`, :meth:`failure` or, for an
attempt that ended without an answer either way (the caller hung up), :meth:`abandon`.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from hotline.logs import get_logger

_log = get_logger(__name__)


class CircuitState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """The circuit is open (or a half-open probe is already in flight): the call was not made."""

    def __init__(self, name: str, retry_in_s: float) -> None:
        super().__init__(f"{name}: circuit open, next probe in {max(retry_in_s, 0.0):.1f}s")
        self.name = name
        self.retry_in_s = retry_in_s


class CircuitBreaker:
    """Consecutive-failure circuit breaker with a single half-open probe."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"{name}: failure_threshold must be at least 1, not {failure_threshold}")
        if reset_timeout_s < 0:
            raise ValueError(f"{name}: reset_timeout_s must not be negative, not {reset_timeout_s}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> CircuitState:
        """The current state; an open circuit whose cool-down is over reports HALF_OPEN."""
        if self._state is CircuitState.OPEN and self._cooled_down():
            return CircuitState.HALF_OPEN
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def _cooled_down(self) -> bool:
        return self._clock() - self._opened_at >= self.reset_timeout_s

    def acquire(self) -> None:
        """Allow one attempt, or raise :class:`CircuitOpen` without making it."""
        if self._state is CircuitState.CLOSED:
            return
        if self._state is CircuitState.OPEN:
            if not self._cooled_down():
                raise CircuitOpen(self.name, self.reset_timeout_s - (self._clock() - self._opened_at))
            self._state = CircuitState.HALF_OPEN
            _log.info("circuit_half_open", upstream=self.name)
        if self._probe_in_flight:
            raise CircuitOpen(self.name, 0.0)
        self._probe_in_flight = True

    def success(self) -> None:
        """The attempt reached a healthy upstream (any answer that is not a server failure)."""
        if self._state is not CircuitState.CLOSED:
            _log.info("circuit_closed", upstream=self.name)
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._probe_in_flight = False

    def failure(self) -> None:
        """The attempt failed (timeout, connection error, 5xx)."""
        self._failures += 1
        self._probe_in_flight = False
        if self._state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
            if self._state is not CircuitState.OPEN:
                _log.warning(
                    "circuit_opened",
                    upstream=self.name,
                    consecutive_failures=self._failures,
                    cool_down_s=self.reset_timeout_s,
                )
            self._state = CircuitState.OPEN
            self._opened_at = self._clock()

    def abandon(self) -> None:
        """The attempt ended without an outcome (cancelled): free the probe slot, change nothing else.

        Without this a probe cancelled by a caller's hang-up would leave the circuit half-open
        with its only probe slot taken, failing every later call forever.
        """
        self._probe_in_flight = False
