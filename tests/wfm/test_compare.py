"""Forecast vs actual: errors per interval, MAPE, WAPE, intraday and end of day; history from attempts."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hotline.kpi.facts import ABANDONED, BY_TRANSFER
from hotline.kpi.intervals import IntervalSpec
from hotline.wfm.compare import compare
from hotline.wfm.forecast import IntervalForecast, IntervalHistory
from hotline.wfm.history import history_from_attempts

TZ = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 3, 10)


def at(hour: int, minute: int = 0) -> float:
    return datetime.combine(DAY, time(hour, minute), TZ).timestamp()


FORECAST = [
    IntervalForecast(at(9), 10.0, 300.0, 6),
    IntervalForecast(at(9, 30), 20.0, 300.0, 6),
    IntervalForecast(at(10), 40.0, 300.0, 6),
    IntervalForecast(at(10, 30), 0.0, None, 6),
]
ACTUAL = [
    IntervalHistory(at(9), 8, 280.0, 8),
    IntervalHistory(at(9, 30), 25, 320.0, 25),
    IntervalHistory(at(10), 12, 300.0, 12),  # the running interval at 10:10
]


def test_errors_per_interval_and_the_day_so_far() -> None:
    result = compare(FORECAST, ACTUAL, 1800, now=at(10, 10))
    first, second, running, later = result.rows
    assert (first.error, first.abs_error, first.percent_error) == (-2.0, 2.0, -25.0)
    assert (second.error, second.percent_error) == (5.0, 20.0)
    assert first.complete and second.complete and not running.complete and not later.complete
    assert later.actual_offered is None and later.error is None
    assert running.actual_offered == 12 and running.error is None  # partial: no error yet
    # Only the two ended intervals count: MAPE = (25 + 20) / 2; WAPE = (2 + 5) / (8 + 25).
    assert result.accuracy.intervals == 2
    assert result.accuracy.mape == pytest.approx(22.5)
    assert result.accuracy.wape == pytest.approx(7 / 33 * 100)
    assert (result.accuracy.forecast_offered, result.accuracy.actual_offered) == (30.0, 33)
    # 45 calls so far, 2/3 of the running interval still to come (40 x 2/3), then 0 at 10:30.
    assert result.projected_offered == pytest.approx(8 + 25 + 12 + 40 * 2 / 3)
    assert not result.day_complete
    # Agents: the forecast asked for Erlang C on 10 calls x 300 s; the actual 8 calls x 280 s need fewer.
    assert first.forecast_agents is not None and first.actual_agents is not None
    assert first.actual_agents <= first.forecast_agents


def test_end_of_day_compares_every_interval() -> None:
    result = compare(FORECAST, ACTUAL, 1800, now=at(23, 59))
    assert result.day_complete
    assert result.accuracy.intervals == 4
    # 10:30 had no call and none was forecast: no percent error (undefined), no absolute error.
    assert result.rows[3].percent_error is None and result.rows[3].abs_error == 0.0
    assert result.accuracy.wape == pytest.approx((2 + 5 + 28) / 45 * 100)
    assert result.projected_offered == 45


def test_history_counts_calls_overall_and_attempts_per_queue(make_calls) -> None:  # type: ignore[no-untyped-def]
    calls = make_calls(DAY, time(9), 4, 200.0)
    # The first call is blind-transferred into a second queue: one call, two ACD calls.
    first = calls[0]
    calls[0] = dataclasses.replace(first, completed_by=BY_TRANSFER, handle_s=100.0)
    calls.append(
        dataclasses.replace(first, attempt=2, queue="cc-pengaduan", entered_at=first.entered_at + 120)
    )
    calls += [
        dataclasses.replace(c, outcome=ABANDONED, handle_s=None, call_id=c.call_id + "x") for c in calls[1:2]
    ]
    spec = IntervalSpec("minute", 30)
    overall = history_from_attempts(calls, spec, TZ)
    assert [(h.start, h.offered, h.acd_calls) for h in overall] == [(at(9), 5, 5)]
    assert overall[0].aht == pytest.approx((100 + 200 * 4) / 5)
    informasi = history_from_attempts(calls, spec, TZ, queue="cc-informasi")
    assert [(h.offered, h.acd_calls) for h in informasi] == [(5, 4)]
    assert history_from_attempts(calls, spec, TZ, queue="no-such-queue") == []
