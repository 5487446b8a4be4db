"""Generated queue attempts for the WFM tests: a known number of calls per interval and day."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hotline.kpi.facts import ANSWERED, QueueAttempt

JAKARTA = ZoneInfo("Asia/Jakarta")
_IDS = itertools.count(1)

MakeCalls = Callable[[date, time, int, float], list[QueueAttempt]]


def answered_call(entered_at: float, handle_s: float, *, queue: str = "cc-informasi") -> QueueAttempt:
    """One call answered after 10 s and handled for ``handle_s`` seconds."""
    number = next(_IDS)
    return QueueAttempt(
        pbx="jkt",
        call_id=f"{number}.1",
        attempt=1,
        queue=queue,
        linkedid=f"{number}.1",
        caller_number=None,
        entered_at=entered_at,
        position=1,
        outcome=ANSWERED,
        ended_at=entered_at + 10 + handle_s,
        wait_s=10.0,
        agent="agent-1",
        agent_interface="PJSIP/1001",
        connected_at=entered_at + 10,
        handle_s=handle_s,
        hold_s=0.0,
        completed_by="agent",
        transfer_target=None,
        ring_no_answer=0,
        source="ami",
    )


@pytest.fixture
def make_calls() -> MakeCalls:
    """``count`` answered calls spread over the 30 minutes from ``day`` ``at`` (Jakarta), AHT ``aht``."""

    def make(day: date, at: time, count: int, aht: float) -> list[QueueAttempt]:
        start = datetime.combine(day, at, JAKARTA).timestamp()
        return [answered_call(start + 1800 * (n + 0.5) / count, aht) for n in range(count)]

    return make
