"""The forecast: same weekday and interval of recent weeks, weighted, with missing history."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.kpi.intervals import IntervalSpec
from hotline.wfm.forecast import (
    IntervalHistory,
    day_intervals,
    exponential_weights,
    forecast_days,
    linear_weights,
)

TZ = ZoneInfo("Asia/Jakarta")
HALF_HOUR = IntervalSpec("minute", 30)
TARGET = date(2026, 3, 10)  # a Tuesday


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = TZ) -> float:
    return datetime.combine(day, time(hour, minute), tz).timestamp()


def week(k: int) -> date:
    """The same weekday ``k`` weeks before the target day."""
    return TARGET - timedelta(days=7 * k)


def slot(forecasts: list, hour: int, minute: int = 0):  # type: ignore[no-untyped-def]
    wanted = at(TARGET, hour, minute)
    return next(f for f in forecasts if f.start == wanted)


def test_linear_weights_favour_the_last_week() -> None:
    # Offered at 10:00 was 60 last week, 50 the week before ... 10 six weeks ago.
    history = [IntervalHistory(at(week(k), 10), 70 - 10 * k, 300.0, 70 - 10 * k) for k in range(1, 7)]
    forecasts = forecast_days(history, TARGET, HALF_HOUR, TZ)
    assert len(forecasts) == 48
    ten = slot(forecasts, 10)
    weights = linear_weights(6)  # 6, 5, 4, 3, 2, 1
    assert ten.offered == pytest.approx(sum(w * (60 - 10 * i) for i, w in enumerate(weights)) / 21)
    assert ten.offered == pytest.approx(1820 / 42)  # 43.3: above the plain mean (35), toward recent
    assert ten.aht == 300.0 and ten.weeks == 6
    # An observed day without a row for 10:30 had no call then.
    assert slot(forecasts, 10, 30).offered == 0.0


def test_exponential_weights_halve_each_older_week() -> None:
    history = [IntervalHistory(at(week(1), 9), 40, 200.0, 40), IntervalHistory(at(week(2), 9), 10, 200.0, 10)]
    forecasts = forecast_days(history, TARGET, HALF_HOUR, TZ, weeks=2, weights=exponential_weights(2))
    assert slot(forecasts, 9).offered == pytest.approx((40 * 1 + 10 * 0.5) / 1.5)


def test_a_missing_week_is_skipped_not_counted_as_zero() -> None:
    # Weeks 1 and 3 observed; week 2 had no data at all (hotline down): weights renormalise.
    history = [
        IntervalHistory(at(week(1), 11), 30, 240.0, 30),
        IntervalHistory(at(week(3), 11), 12, 240.0, 12),
    ]
    forecasts = forecast_days(history, TARGET, HALF_HOUR, TZ, weeks=3)
    eleven = slot(forecasts, 11)
    assert eleven.weeks == 2
    assert eleven.offered == pytest.approx((3 * 30 + 1 * 12) / 4)


def test_no_history_gives_an_empty_forecast_flagged_as_such() -> None:
    forecasts = forecast_days([], TARGET, HALF_HOUR, TZ)
    assert all(f.offered == 0 and f.aht is None and f.weeks == 0 for f in forecasts)


def test_aht_is_weighted_by_calls_and_falls_back_to_the_day() -> None:
    history = [
        IntervalHistory(at(week(1), 8), 1, 900.0, 1),  # one long call
        IntervalHistory(at(week(2), 8), 9, 300.0, 9),
        IntervalHistory(at(week(1), 9), 5, None, 0),  # nobody answered at 09:00
    ]
    forecasts = forecast_days(history, TARGET, HALF_HOUR, TZ, weeks=2, weights=[1, 1])
    assert slot(forecasts, 8).aht == pytest.approx((900 + 9 * 300) / 10)
    # 09:00 never had an answered call: it takes the sampled days' AHT.
    assert slot(forecasts, 9).aht == pytest.approx((900 + 9 * 300) / 10)
    assert slot(forecasts, 9).offered == pytest.approx(2.5)


def test_a_week_forecast_uses_each_days_own_weekday_and_never_itself() -> None:
    monday = date(2026, 3, 9)
    history = [
        IntervalHistory(at(monday - timedelta(days=7 - n), 10), 10 * (n + 1), 300.0, 1) for n in range(7)
    ]
    forecasts = forecast_days(history, monday, HALF_HOUR, TZ, days=7, weeks=1)
    assert len(forecasts) == 7 * 48
    tens = [f.offered for f in forecasts if datetime.fromtimestamp(f.start, TZ).time() == time(10)]
    assert tens == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0]


def test_a_daylight_saving_day_has_its_extra_hour_forecast() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    fall_back = date(2026, 10, 25)  # a Sunday of 25 hours: 02:00-03:00 happens twice
    history = [IntervalHistory(at(fall_back - timedelta(days=7), 2, 30, berlin), 8, 120.0, 8)]
    forecasts = forecast_days(history, fall_back, HALF_HOUR, berlin, weeks=1)
    assert len(forecasts) == len(day_intervals(fall_back, HALF_HOUR, berlin)) == 50
    both_passes = [
        f.offered for f in forecasts if datetime.fromtimestamp(f.start, berlin).time() == time(2, 30)
    ]
    assert both_passes == [8.0, 8.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"weeks": 0}, "weeks"), ({"days": 0}, "days"), ({"weights": [1.0, 2.0]}, "weights")],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        forecast_days([], TARGET, HALF_HOUR, TZ, **kwargs)  # type: ignore[arg-type]


def test_day_intervals_need_minutes() -> None:
    with pytest.raises(ValueError, match="minutes"):
        day_intervals(TARGET, IntervalSpec("day"), TZ)
