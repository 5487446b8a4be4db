"""Forecast against actual, per interval, intraday (up to now) and at the end of the day.

Error measures (offered calls):

- error = actual - forecast (positive: more calls came than planned), and its absolute value;
- percent error = error / actual x 100 (None for an interval without calls: undefined);
- MAPE = mean of |percent error| over the compared intervals that had calls;
- WAPE = sum |error| / sum actual x 100: the error in share of the traffic, which quiet night
  intervals cannot blow up as they do MAPE. WFM teams usually judge a forecast on WAPE.

Only *complete* intervals (ended by ``now``) are compared; the running one is shown but not
counted, so an intraday figure never punishes the forecast for calls still to come.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline.wfm.forecast import IntervalForecast, IntervalHistory
from hotline.wfm.staffing import StaffingTarget, staff_interval


@dataclass(frozen=True, slots=True)
class IntervalComparison:
    """One interval of the day: what was forecast and what happened."""

    start: float
    forecast_offered: float
    forecast_aht: float | None
    actual_offered: int | None
    """None for an interval that has not begun."""
    actual_aht: float | None
    complete: bool
    """The interval has ended (its errors count in the day's accuracy)."""
    forecast_agents: int | None
    """Agents the forecast asked for (Erlang C)."""
    actual_agents: int | None
    """Agents the traffic that came would have needed (Erlang C on the actual calls and AHT)."""

    @property
    def error(self) -> float | None:
        """actual - forecast offered; None until the interval has ended (a running one is partial)."""
        if not self.complete or self.actual_offered is None:
            return None
        return self.actual_offered - self.forecast_offered

    @property
    def abs_error(self) -> float | None:
        return None if self.error is None else abs(self.error)

    @property
    def percent_error(self) -> float | None:
        """error / actual x 100; None when no call came (the ratio is undefined)."""
        if self.error is None or not self.actual_offered:
            return None
        return self.error / self.actual_offered * 100


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Error measures over the complete intervals."""

    intervals: int
    forecast_offered: float
    actual_offered: int
    mape: float | None
    wape: float | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """A day's forecast against what happened up to ``now``."""

    rows: list[IntervalComparison]
    accuracy: Accuracy
    projected_offered: float
    """The day's expected total: actual calls so far, plus the forecast of the time still to come
    (the rest of the running interval pro rata, and every later interval)."""
    forecast_offered: float
    """The whole day's forecast."""
    day_complete: bool


def accuracy(rows: Iterable[IntervalComparison]) -> Accuracy:
    """MAPE and WAPE over the complete rows."""
    done = [row for row in rows if row.complete and row.actual_offered is not None]
    percents = [abs(p) for row in done if (p := row.percent_error) is not None]
    actual = sum(row.actual_offered or 0 for row in done)
    return Accuracy(
        intervals=len(done),
        forecast_offered=sum(row.forecast_offered for row in done),
        actual_offered=actual,
        mape=sum(percents) / len(percents) if percents else None,
        wape=sum(row.abs_error or 0.0 for row in done) / actual * 100 if actual else None,
    )


def compare(
    forecasts: Sequence[IntervalForecast],
    actual: Iterable[IntervalHistory],
    interval_s: float,
    now: float,
    target: StaffingTarget | None = None,
) -> Comparison:
    """Forecast vs actual for the forecast's intervals, as known at ``now`` (epoch)."""
    wanted = target or StaffingTarget()
    happened = {row.start: row for row in actual}
    rows: list[IntervalComparison] = []
    projected = 0.0
    for item in forecasts:
        begun = item.start <= now
        seen = happened.get(item.start)
        offered = (seen.offered if seen else 0) if begun else None
        aht = seen.aht if seen and begun else None
        planned = staff_interval(item.offered, item.aht, interval_s, wanted)
        needed = staff_interval(offered, aht, interval_s, wanted) if offered is not None else None
        remaining = min(1.0, max(0.0, (item.start + interval_s - now) / interval_s))
        projected += (offered or 0) + item.offered * remaining
        rows.append(
            IntervalComparison(
                start=item.start,
                forecast_offered=item.offered,
                forecast_aht=item.aht,
                actual_offered=offered,
                actual_aht=aht,
                complete=item.start + interval_s <= now,
                forecast_agents=planned.agents if planned else None,
                actual_agents=needed.agents if needed else None,
            )
        )
    return Comparison(
        rows=rows,
        accuracy=accuracy(rows),
        projected_offered=projected,
        forecast_offered=sum(row.forecast_offered for row in rows),
        day_complete=bool(rows) and all(row.complete for row in rows),
    )
