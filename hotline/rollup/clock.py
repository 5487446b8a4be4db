"""Where the 15-minute rollup intervals fall on a report's local clock.

A report interval is a span of the local wall clock (:mod:`hotline.kpi.intervals`). While the UTC
offset does not change, the local start of the interval holding a moment is plain arithmetic,
``stamp - (stamp + shift) % span``, which the database can compute and group by itself
(:class:`Buckets`): a month of day intervals is then 31 summed rows instead of 2,976 to add up in
Python. Across a clock change (or for months, whose length varies) every 15-minute start is
converted on its own, as :func:`hotline.kpi.intervals.interval_start` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from hotline.kpi.intervals import DAY, MINUTE, WEEK, IntervalSpec, interval_start, iso
from hotline.kpi.report import ReportOptions
from hotline.rollup.tables import INTERVAL_S

_HOUR: Final = 3600
_DAY_S: Final = 86400
_MONDAY_SHIFT: Final = 3 * _DAY_S
"""1970-01-01 was a Thursday: three days after a Monday midnight."""


@dataclass(frozen=True, slots=True)
class Buckets:
    """Local interval starts as arithmetic on epoch seconds, valid while the UTC offset holds."""

    span: int
    """Seconds per interval."""
    shift: int
    """The UTC offset, plus three days for weeks (so they start on Monday)."""

    def start_of(self, stamp: int) -> int:
        return stamp - (stamp + self.shift) % self.span

    @property
    def is_identity(self) -> bool:
        """Every 15-minute rollup start is its own local start (15-minute intervals)."""
        return self.span == INTERVAL_S and self.shift % INTERVAL_S == 0


def steady_offset(tz: ZoneInfo, since: float, until: float) -> int | None:
    """The UTC offset (s) of ``tz`` over ``[since, until]`` if it never changes there, else None.

    Sampled every hour: clocks change on the quarter hour at the finest, and never twice
    within an hour, so a change between two samples shows as two different samples.
    """
    first = _offset(since, tz)
    stamp = math.floor(since / _HOUR) * _HOUR + _HOUR
    while stamp < until:
        if _offset(stamp, tz) != first:
            return None
        stamp += _HOUR
    return first if _offset(until, tz) == first else None


def buckets_for(spec: IntervalSpec, tz: ZoneInfo, since: float, until: float) -> Buckets | None:
    """:class:`Buckets` for ``spec`` over the rollups of ``[since, until)``, if arithmetic suffices."""
    if spec.kind == MINUTE:
        span, extra = spec.minutes * 60, 0
    elif spec.kind == DAY:
        span, extra = _DAY_S, 0
    elif spec.kind == WEEK:
        span, extra = 7 * _DAY_S, _MONDAY_SHIFT
    else:
        return None  # months differ in length
    first = int(since // INTERVAL_S) * INTERVAL_S
    offset = steady_offset(tz, first - span, until)
    if offset is None or offset % INTERVAL_S:
        return None
    return Buckets(span, offset + extra)


class LocalClock:
    """Rollup starts -> local interval starts of ``options``, and every local start of its window."""

    def __init__(self, options: ReportOptions) -> None:
        self.options = options
        self.buckets: Buckets | None = None
        self.window: list[float] = []
        self._cache: dict[float, float] = {}
        self._dates: dict[int, str] = {}  # local day number -> "2026-01-31T"
        self._times: dict[int, str] = {}  # second of the local day -> "10:15:00+07:00"
        self._offset = 0
        self._zone_suffix = ""
        spec, since, until = options.interval, options.since, options.until
        if spec is None or since is None or until is None:
            return
        self.buckets = buckets_for(spec, options.tz, since, until)
        if self.buckets is not None:
            self._offset = _offset(since, options.tz)
            self._zone_suffix = datetime.fromtimestamp(int(since), options.tz).isoformat()[19:]  # "+07:00"
        # Every interval is a union of 15-minute rollup intervals, so the starts of those cover
        # every interval touching the window (what interval_starts lists), at a fraction of its cost.
        grid = range(int(since // INTERVAL_S) * INTERVAL_S, math.ceil(until), INTERVAL_S)
        self.window = sorted({self.start_of(start) for start in grid})

    def iso(self, local_start: float) -> str:
        """:func:`hotline.kpi.intervals.iso` of a local start; built from parts under one offset."""
        if self.buckets is None:
            return iso(local_start, self.options.tz)
        day, second = divmod(int(local_start) + self._offset, _DAY_S)
        date = self._dates.get(day)
        if date is None:
            local = datetime.fromtimestamp(local_start, self.options.tz)
            date = self._dates[day] = local.strftime("%Y-%m-%dT")
        time = self._times.get(second)
        if time is None:
            hour, rest = divmod(second, _HOUR)
            time = self._times[second] = f"{hour:02d}:{rest // 60:02d}:{rest % 60:02d}{self._zone_suffix}"
        return date + time

    def start_of(self, rollup_start: float) -> float:
        """The local start of the interval holding the 15-minute rollup interval ``rollup_start``."""
        if self.buckets is not None:
            return self.buckets.start_of(int(rollup_start))
        known = self._cache.get(rollup_start)
        if known is None:
            known = self._cache[rollup_start] = self._convert(rollup_start)
        return known

    def _convert(self, stamp: float) -> float:
        spec, tz = self.options.interval, self.options.tz
        assert spec is not None
        if spec.kind == MINUTE:
            # The UTC offset is the same at the moment and at the interval's start (no clock
            # change in between), so the start is plain arithmetic on the local clock.
            offset = _offset(stamp, tz)
            span = spec.minutes * 60
            start = stamp - (stamp + offset) % span
            if _offset(start, tz) == offset:
                return float(start)
        return interval_start(stamp, spec, tz)


def _offset(stamp: float, tz: ZoneInfo) -> int:
    delta = datetime.fromtimestamp(stamp, tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0
