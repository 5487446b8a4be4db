"""The KPI report of a set of attempts: overall, per interval and per group, as plain data.

This is what ``hotline kpi`` prints (as JSON, CSV or a table): the figures come from
:mod:`hotline.kpi.definitions`, the interval boundaries from :mod:`hotline.kpi.intervals`.
No IO here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo

from hotline.kpi.definitions import PER_CALL, KpiSummary, group_attempts, summarize, summarize_by
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import IntervalSpec, interval_start, interval_starts, iso

SUMMARY_KEYS: Final = tuple(summarize([]).as_dict())
"""The keys of every KPI object, in the order JSON and CSV print them."""

Figures = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What to compute: the definitions' thresholds, the window, intervals and grouping."""

    tz: ZoneInfo
    service_level_s: float = 20
    short_abandon_s: float = 5
    since: float | None = None
    until: float | None = None
    interval: IntervalSpec | None = None
    by: str | None = None
    site_of: Callable[[str], str] = field(default=str)


@dataclass(slots=True)
class KpiReport:
    """Overall figures, and optionally intervals and groups (each with their own intervals)."""

    overall: Figures
    intervals: list[Figures] | None = None
    groups: dict[str, Figures] | None = None
    group_intervals: dict[str, list[Figures]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` object: the overall keys, plus ``intervals`` and ``groups`` when asked."""
        result: dict[str, Any] = dict(self.overall)
        if self.intervals is not None:
            result["intervals"] = self.intervals
        if self.groups is not None:
            result["groups"] = {
                name: {**figures, **self._intervals_of(name)} for name, figures in self.groups.items()
            }
        return result

    def _intervals_of(self, name: str) -> dict[str, list[Figures]]:
        return {"intervals": self.group_intervals[name]} if name in self.group_intervals else {}


def build_report(attempts: Iterable[QueueAttempt], options: ReportOptions) -> KpiReport:
    """Compute everything ``options`` asks for from ``attempts`` (already limited to the window)."""
    rows = list(attempts)
    report = KpiReport(overall=_summary(rows, options, PER_CALL).as_dict())
    clock = _IntervalClock(options, options.interval) if options.interval is not None else None
    if clock is not None:
        report.intervals = clock.figures(rows, PER_CALL)
    if options.by is not None:
        groups, unit = group_attempts(rows, options.by, site_of=options.site_of)
        report.groups = {name: _summary(members, options, unit).as_dict() for name, members in groups.items()}
        if clock is not None:
            report.group_intervals = {name: clock.figures(members, unit) for name, members in groups.items()}
    return report


def _summary(rows: list[QueueAttempt], options: ReportOptions, unit: str) -> KpiSummary:
    return summarize(
        rows, service_level_s=options.service_level_s, short_abandon_s=options.short_abandon_s, unit=unit
    )


class _IntervalClock:
    """Interval starts, computed once per report and shared by the overall figures and every group."""

    def __init__(self, options: ReportOptions, spec: IntervalSpec) -> None:
        self.options, self.spec = options, spec
        self._by_minute: dict[int, float] = {}  # UTC minute -> interval start
        self._labels: dict[float, str] = {}
        self.window: list[float] = []
        if options.since is not None and options.until is not None:
            # A chart of the window must have no gaps: every interval is listed, zeros if empty.
            self.window = interval_starts(options.since, options.until, spec, options.tz)

    def start_of(self, attempt: QueueAttempt) -> float:
        # Every UTC offset in use is whole minutes, so a whole UTC minute lies in one interval:
        # a month of calls needs at most 44,640 timezone conversions, however many calls it has.
        minute = int(attempt.entered_at // 60)
        if minute not in self._by_minute:
            self._by_minute[minute] = interval_start(minute * 60, self.spec, self.options.tz)
        return self._by_minute[minute]

    def label(self, start: float) -> str:
        if start not in self._labels:
            self._labels[start] = iso(start, self.options.tz)
        return self._labels[start]

    def figures(self, rows: list[QueueAttempt], unit: str) -> list[Figures]:
        """One object per interval, oldest first."""
        per_start = summarize_by(
            rows,
            self.start_of,
            service_level_s=self.options.service_level_s,
            short_abandon_s=self.options.short_abandon_s,
            unit=unit,
        )
        if self.window:
            empty = _summary([], self.options, unit)
            for start in self.window:
                per_start.setdefault(start, empty)
        return [{"start": self.label(start), **per_start[start].as_dict()} for start in sorted(per_start)]


def within(attempts: Iterable[QueueAttempt], since: float | None, until: float | None) -> list[QueueAttempt]:
    """The attempts that entered a queue in [since, until), as the store selects them."""
    return [
        a
        for a in attempts
        if (since is None or a.entered_at >= since) and (until is None or a.entered_at < until)
    ]
