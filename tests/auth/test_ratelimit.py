"""The login limiter: failures per (username, address) in a sliding window, bounded memory."""

from __future__ import annotations

import pytest

from hotline.auth.ratelimit import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_sixth_try_after_five_failures_waits_for_the_window() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_failures=5, window=60, clock=clock)
    for _ in range(5):
        assert limiter.retry_after("1001", "10.0.0.1") == 0
        limiter.failed("1001", "10.0.0.1")
        clock.now += 1
    assert limiter.retry_after("1001", "10.0.0.1") == 55
    clock.now += 55
    assert limiter.retry_after("1001", "10.0.0.1") == 0


def test_pairs_are_independent() -> None:
    limiter = LoginLimiter(max_failures=2, window=60, clock=Clock())
    for _ in range(2):
        limiter.failed("1001", "10.0.0.1")
    assert limiter.retry_after("1001", "10.0.0.1") > 0
    assert limiter.retry_after("1001", "10.0.0.2") == 0  # same user, other address
    assert limiter.retry_after("1002", "10.0.0.1") == 0  # same address (a NAT'd floor), other user


def test_a_success_clears_the_failures() -> None:
    limiter = LoginLimiter(max_failures=2, window=60, clock=Clock())
    limiter.failed("1001", "ip")
    limiter.succeeded("1001", "ip")
    limiter.failed("1001", "ip")
    assert limiter.retry_after("1001", "ip") == 0


def test_memory_is_bounded_by_dropping_the_stalest_pairs() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_failures=1, window=60, max_keys=3, clock=clock)
    for name in ("a", "b", "c", "d"):
        limiter.failed(name, "ip")
    assert limiter.tracked() == 3
    assert limiter.retry_after("a", "ip") == 0  # the oldest was forgotten
    assert limiter.retry_after("d", "ip") > 0


def test_old_failures_leave_the_window() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_failures=2, window=10, clock=clock)
    limiter.failed("u", "ip")
    clock.now += 11
    limiter.failed("u", "ip")
    assert limiter.retry_after("u", "ip") == 0
    clock.now += 11
    assert limiter.retry_after("u", "ip") == 0
    assert limiter.tracked() == 0


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        LoginLimiter(max_failures=0)
