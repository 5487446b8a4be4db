"""Forecast offered calls and AHT per interval from the same weekday of recent weeks.

Method (documented in docs/wfm.md):

- For a target day, the samples are the ``weeks`` most recent days with the same weekday that lie
  before the first forecast day (so a week's forecast never feeds on itself).
- Each sample interval is matched by its local wall-clock start ("Tuesday 10:30"), so the method
  holds in any timezone.
- Offered = weighted mean of the samples' offered calls; the k-th most recent week weighs
  ``weights[k-1]`` (default :func:`linear_weights`: 6, 5, ..., 1 for six weeks, the last week
  counting six times as much as the sixth).
- AHT = mean of the samples' AHT weighted by week weight x ACD calls, so a quiet interval's one
  long call does not set the figure; an interval no sample answered a call in takes the same
  weighting over the whole sampled days.
- Missing history: a sample day the history holds no row for (hotline not yet running, an outage
  of the store) is *unobserved* and skipped, the weights renormalised over the observed ones; an
  observed day without a row for one interval had no call in it (0). No observed sample at all
  gives ``offered = 0`` with ``weeks = 0``, which the caller shows as "no history".

Pure functions: history in, forecasts out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.kpi.intervals import DAY, MINUTE, IntervalSpec, interval_start, interval_starts

DEFAULT_WEEKS = 6

_SlotKey = tuple[time, int]
"""Local wall-clock start of an interval and its fold (told apart only in a repeated DST hour)."""


@dataclass(frozen=True, slots=True)
class IntervalHistory:
    """What happened in one past interval."""

    start: float
    """Epoch of the interval start."""
    offered: int
    aht: float | None
    """Seconds; None when no ACD call ended in the interval."""
    acd_calls: int = 0
    """ACD calls AHT is the mean of (its weight when intervals are combined)."""


@dataclass(frozen=True, slots=True)
class IntervalForecast:
    """Expected traffic of one future interval."""

    start: float
    offered: float
    """Expected calls offered (a mean, so fractional)."""
    aht: float | None
    """Expected AHT in seconds; None when no sample had an answered call."""
    weeks: int
    """Observed sample weeks the figures rest on (0 = no history)."""


def linear_weights(weeks: int) -> list[float]:
    """``weeks, weeks-1, ..., 1``: the most recent week first."""
    return [float(weeks - k) for k in range(weeks)]


def exponential_weights(weeks: int, decay: float = 0.5) -> list[float]:
    """``1, decay, decay^2, ...``: each older week counts ``decay`` times the next newer one."""
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"decay must be in (0, 1], not {decay}")
    return [decay**k for k in range(weeks)]


def day_bounds(day: date, tz: ZoneInfo) -> tuple[float, float]:
    """Epochs of the local day's first moment and of the next day's."""
    spec = IntervalSpec(DAY)

    def midnight(of: date) -> float:
        # Noon always exists; the day holding it starts at the first moment of that local date.
        return interval_start(datetime.combine(of, time(12), tz).timestamp(), spec, tz)

    return midnight(day), midnight(day + timedelta(days=1))


def day_intervals(day: date, spec: IntervalSpec, tz: ZoneInfo) -> list[float]:
    """Every interval start of the local day."""
    if spec.kind != MINUTE:
        raise ValueError(f"forecast intervals are minutes (15, 30, 60), not {spec.label!r}")
    start, end = day_bounds(day, tz)
    return interval_starts(start, end, spec, tz)


def _slot(stamp: float, tz: ZoneInfo) -> tuple[date, _SlotKey]:
    local = datetime.fromtimestamp(stamp, tz)
    return local.date(), (local.time().replace(tzinfo=None, fold=0), local.fold)


class _History:
    """History indexed by local date and wall-clock slot."""

    def __init__(self, rows: Iterable[IntervalHistory], tz: ZoneInfo) -> None:
        self.days: dict[date, dict[_SlotKey, IntervalHistory]] = defaultdict(dict)
        for row in rows:
            if row.offered < 0:
                raise ValueError(f"history interval {row.start}: offered cannot be negative")
            day, key = _slot(row.start, tz)
            self.days[day][key] = row

    def samples(self, target: date, before: date, weeks: int) -> list[tuple[int, date]]:
        """(recency rank 0.., date) of the observed same-weekday samples."""
        first = target - timedelta(days=7)
        while first >= before:
            first -= timedelta(days=7)
        dates = [first - timedelta(days=7 * k) for k in range(weeks)]
        return [(rank, day) for rank, day in enumerate(dates) if day in self.days]


def forecast_days(
    history: Iterable[IntervalHistory],
    first_day: date,
    spec: IntervalSpec,
    tz: ZoneInfo,
    *,
    days: int = 1,
    weeks: int = DEFAULT_WEEKS,
    weights: Sequence[float] | None = None,
) -> list[IntervalForecast]:
    """Forecast every interval of ``days`` local days from ``first_day`` (see the module docstring)."""
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, not {weeks}")
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    chosen = list(weights) if weights is not None else linear_weights(weeks)
    if len(chosen) != weeks or any(w <= 0 for w in chosen):
        raise ValueError(f"need {weeks} positive weights, got {chosen}")
    index = _History(history, tz)
    result: list[IntervalForecast] = []
    for offset in range(days):
        target = first_day + timedelta(days=offset)
        samples = index.samples(target, first_day, weeks)
        fallback_aht = _weighted_aht(
            (chosen[rank], row) for rank, day in samples for row in index.days[day].values()
        )
        total_weight = sum(chosen[rank] for rank, _ in samples)
        for start in day_intervals(target, spec, tz):
            _, key = _slot(start, tz)
            found = [(chosen[rank], _matching(index.days[day], key)) for rank, day in samples]
            offered = sum(w * row.offered for w, row in found if row is not None)
            aht = _weighted_aht((w, row) for w, row in found if row is not None)
            result.append(
                IntervalForecast(
                    start=start,
                    offered=offered / total_weight if total_weight else 0.0,
                    aht=aht if aht is not None else fallback_aht,
                    weeks=len(samples),
                )
            )
    return result


def _matching(rows: dict[_SlotKey, IntervalHistory], key: _SlotKey) -> IntervalHistory | None:
    """The sample row of a slot; the second pass of a repeated (DST) hour takes the sample's only
    pass when the sample day had no repeat, so that hour is not forecast as silent."""
    row = rows.get(key)
    if row is None and key[1] == 1:
        row = rows.get((key[0], 0))
    return row


def _weighted_aht(rows: Iterable[tuple[float, IntervalHistory]]) -> float | None:
    weight = handled = 0.0
    for week_weight, row in rows:
        if row.aht is not None and row.acd_calls > 0:
            weight += week_weight * row.acd_calls
            handled += week_weight * row.acd_calls * row.aht
    return handled / weight if weight else None
