"""Fixtures of the rollup tests: random traffic.

The migrated engines on both backends (``engine``, ``db_url``, ``pg_url``) come from tests/pg_support.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt

DAY0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def random_call(
    rng: random.Random, pbx: str, call_id: str, entered_at: float, source: str
) -> list[QueueAttempt]:
    """The final attempts of one call: answered (maybe held, maybe transferred on), abandoned, timed out..."""
    queue = rng.choice(["cc-informasi", "cc-pengaduan", "cc-sapa"])
    wait = round(rng.uniform(0, 60), 3)
    first = QueueAttempt(
        pbx, call_id, 1, queue, None, "0812", entered_at, 1, facts.WAITING, None, None,
        None, None, None, None, None, None, None, rng.randint(0, 2), source,
    )  # fmt: skip
    roll = rng.random()
    if roll < 0.15:
        return [replace(first, outcome=facts.ABANDONED, wait_s=wait, ended_at=entered_at + wait)]
    if roll < 0.2:
        return [replace(first, outcome=facts.TIMEOUT, wait_s=wait, ended_at=entered_at + wait)]
    if roll < 0.22:
        return [replace(first, outcome=facts.EXIT_KEY, wait_s=wait)]
    if roll < 0.24:
        return [first]  # still waiting
    handle = float(rng.randint(20, 600))
    hold = round(rng.uniform(0, 30), 3) if source == facts.SOURCE_AMI and rng.random() < 0.3 else 0.0
    answered = replace(
        first,
        outcome=facts.ANSWERED,
        wait_s=wait,
        agent=f"agent-{rng.randint(1, 6)}",
        connected_at=entered_at + wait,
        handle_s=handle,
        hold_s=hold if source == facts.SOURCE_AMI else None,
        completed_by=facts.BY_CALLER,
        ended_at=entered_at + wait + handle,
    )
    if rng.random() < 0.1:
        answered = replace(answered, handle_s=None, hold_s=None, completed_by=None, ended_at=None)
        return [answered]  # still in conversation
    if rng.random() > 0.12:
        return [answered]
    moved = answered.ended_at or entered_at
    answered = replace(answered, completed_by=facts.BY_TRANSFER, transfer_target="600@cc")
    second = replace(
        first, attempt=2, queue="cc-helpdesk", entered_at=moved, ring_no_answer=0,
        outcome=facts.ABANDONED if rng.random() < 0.3 else facts.ANSWERED,
    )  # fmt: skip
    if second.outcome == facts.ABANDONED:
        second = replace(second, wait_s=2.0, ended_at=moved + 2)
    else:
        second = replace(
            second,
            wait_s=4.0,
            agent="agent-9",
            handle_s=90.0,
            hold_s=answered.hold_s,
            completed_by=facts.BY_AGENT,
        )
    return [answered, second]


def _traffic(
    seed: int, calls: int, *, span_s: float = 2 * 86400, source: str = facts.SOURCE_AMI
) -> list[list[QueueAttempt]]:
    rng = random.Random(seed)
    return [
        random_call(rng, rng.choice(["jkt", "yog"]), f"{seed}.{n}", DAY0 + rng.uniform(0, span_s), source)
        for n in range(calls)
    ]


@pytest.fixture
def traffic() -> Callable[..., list[list[QueueAttempt]]]:
    """traffic(seed, calls, span_s=, source=): per call, its final attempts."""
    return _traffic


def assert_close(left: Any, right: Any, path: str = "") -> None:
    """Equal, except floats within one rounding step: the rollups keep milliseconds, not microseconds."""
    if isinstance(left, dict):
        assert set(left) == set(right), path
        for key in left:
            assert_close(left[key], right[key], f"{path}.{key}")
    elif isinstance(left, list):
        assert len(left) == len(right), path
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_close(a, b, f"{path}[{i}]")
    elif isinstance(left, float) and isinstance(right, float):
        assert left == pytest.approx(right, abs=0.1001), path  # one rounding step (0.1 s)
    else:
        assert left == right, path
