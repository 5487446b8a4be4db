"""ivr.breaker.CircuitBreaker as plain state, driven by a hand-moved clock."""

from __future__ import annotations

import pytest

from ivr.breaker import CircuitBreaker, CircuitOpen, CircuitState

from .conftest import FakeClock


def make(clock: FakeClock, threshold: int = 3, reset: float = 10.0) -> CircuitBreaker:
    return CircuitBreaker("test", failure_threshold=threshold, reset_timeout_s=reset, clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.acquire()
        breaker.failure()


def test_opens_after_consecutive_failures_only(clock: FakeClock) -> None:
    breaker = make(clock)
    fail(breaker, 2)
    breaker.acquire()
    breaker.success()  # a success in between resets the count
    fail(breaker, 2)
    assert breaker.state is CircuitState.CLOSED
    fail(breaker, 1)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpen) as raised:
        breaker.acquire()
    assert raised.value.retry_in_s == pytest.approx(10.0)


def test_half_open_lets_one_probe_and_closes_on_success(clock: FakeClock) -> None:
    breaker = make(clock)
    fail(breaker, 3)
    clock.advance(9.9)
    with pytest.raises(CircuitOpen):
        breaker.acquire()
    clock.advance(0.1)
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.acquire()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.acquire()  # everyone else still fails fast while it is in flight
    breaker.success()
    assert breaker.state is CircuitState.CLOSED
    breaker.acquire()
    breaker.acquire()


def test_failed_probe_reopens_for_a_full_cool_down(clock: FakeClock) -> None:
    breaker = make(clock)
    fail(breaker, 3)
    clock.advance(10)
    breaker.acquire()
    breaker.failure()
    assert breaker.state is CircuitState.OPEN
    clock.advance(9)
    with pytest.raises(CircuitOpen):
        breaker.acquire()
    clock.advance(1)
    breaker.acquire()


def test_abandoned_probe_frees_the_slot(clock: FakeClock) -> None:
    breaker = make(clock)
    fail(breaker, 3)
    clock.advance(10)
    breaker.acquire()
    breaker.abandon()  # the caller hung up mid-probe
    breaker.acquire()  # the next caller may probe
    breaker.success()
    assert breaker.state is CircuitState.CLOSED


@pytest.mark.parametrize(("threshold", "reset"), [(0, 1.0), (1, -1.0)])
def test_bad_settings_are_refused(clock: FakeClock, threshold: int, reset: float) -> None:
    with pytest.raises(ValueError, match="test"):
        make(clock, threshold, reset)
