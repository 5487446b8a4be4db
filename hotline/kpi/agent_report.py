"""The agent KPIs (:mod:`hotline.kpi.agent_definitions`) put into a ``--by agent`` report.

Each agent's object gains :data:`~hotline.kpi.agent_definitions.AGENT_KEYS` after its call KPIs
(which stay as they were); an agent who logged in but answered no call is listed too, with the
call figures of no call. With intervals, each interval of the agent carries the same keys, its
spans clipped to the interval. No IO here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.kpi.agent_definitions import WRAPUP_REASON, AgentTime, agent_times, totals, zero
from hotline.kpi.agent_spans import AgentSpan
from hotline.kpi.definitions import BY_AGENT, PER_ATTEMPT, summarize
from hotline.kpi.intervals import interval_start, interval_starts, iso
from hotline.kpi.report import Figures, KpiReport, ReportOptions


@dataclass(frozen=True, slots=True)
class AgentWindow:
    """Where a ``--by agent`` report sweeps the agents' spans: ``[since, until)``, its buckets."""

    since: float
    until: float
    starts: list[float] | None
    """The interval starts (None: one bucket, the whole window)."""
    window: list[float]
    """Every interval start of the asked window, listed even without figures."""


def agent_window(options: ReportOptions, until: float, first_start: float | None = None) -> AgentWindow:
    """The window of ``options`` whose open spans end at ``until``; ``first_start`` is the earliest
    span's start, the window's start when ``options`` has none."""
    if options.until is not None:
        until = min(until, options.until)
    since = options.since if options.since is not None else (until if first_start is None else first_start)
    starts: list[float] | None = None
    window: list[float] = []
    if options.interval is not None:
        if options.since is not None and options.until is not None:
            # Every interval of the window is listed, as the call figures list them.
            window = interval_starts(options.since, options.until, options.interval, options.tz)
        if math.isfinite(since) and until > since:
            first = interval_start(since, options.interval, options.tz)
            starts = (
                window
                if window and window[0] == first
                else interval_starts(first, until, options.interval, options.tz)
            )
    return AgentWindow(since, until, starts, window)


def add_agent_times(
    report: KpiReport,
    spans: Iterable[AgentSpan],
    options: ReportOptions,
    *,
    until: float,
    keep: Callable[[AgentSpan], bool] | None = None,
    wrapup_reason: str = WRAPUP_REASON,
) -> KpiReport:
    """``report`` (grouped by agent) with every agent's session figures; open spans end at ``until``.

    ``keep`` selects the agents to list (a team leader's team); reports not grouped by agent are
    returned as they are.
    """
    if options.by != BY_AGENT or report.groups is None:
        return report
    rows = [s for s in spans if keep is None or keep(s)]
    plan = agent_window(options, until, min((s.started_at for s in rows), default=None))
    if not math.isfinite(plan.since) or plan.until <= plan.since:
        rows = []
    per_bucket = (
        agent_times(rows, plan.since, plan.until, starts=plan.starts, wrapup_reason=wrapup_reason)
        if rows
        else {}
    )
    return add_bucket_times(report, per_bucket, options, plan, wrapup_reason=wrapup_reason)


def add_bucket_times(
    report: KpiReport,
    per_bucket: dict[str, dict[float, AgentTime]],
    options: ReportOptions,
    plan: AgentWindow,
    *,
    wrapup_reason: str = WRAPUP_REASON,
) -> KpiReport:
    """``report`` with the agents' figures already computed per bucket of ``plan`` (the sweep's, or
    the agent time rollup's: :mod:`hotline.rollup.agent_time_query`)."""
    if options.by != BY_AGENT or report.groups is None:
        return report
    whole = totals(per_bucket)
    empty_calls = summarize([], unit=PER_ATTEMPT).as_dict()
    nothing = zero(wrapup_reason)
    groups: dict[str, Figures] = {}
    for agent in sorted(set(report.groups) | set(whole)):
        calls = report.groups.get(agent, empty_calls)
        time_of = whole.get(agent)
        groups[agent] = {**calls, **(time_of.as_dict() if time_of else nothing)}
    report.groups = groups
    if options.interval is not None:
        rows = _IntervalRows(options.tz, plan.window, empty_calls, nothing)
        called = report.group_intervals
        report.group_intervals = {
            agent: rows.of(called.get(agent, []), per_bucket.get(agent, {})) for agent in groups
        }
    return report


class _Labels:
    """ISO labels of interval starts and their epochs, each converted once per report."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._iso: dict[float, str] = {}
        self._epoch: dict[str, float] = {}

    def iso(self, start: float) -> str:
        label = self._iso.get(start)
        if label is None:
            label = self._iso[start] = iso(start, self.tz)
            self._epoch[label] = start
        return label

    def epoch(self, label: str) -> float:
        start = self._epoch.get(label)
        if start is None:
            start = self._epoch[label] = datetime.fromisoformat(label).timestamp()
        return start


class _IntervalRows:
    """Each agent's interval rows with their session figures, built once per row.

    A row is ``{**calls, **time.as_dict()}`` (``calls``: the agent's call figures of the interval,
    ``{"start": label, **empty_calls}`` without any); it is built as a copy of one dict with the
    time figures set in it (:meth:`~hotline.kpi.agent_definitions.AgentTime.put_figures`), the
    same keys in the same order. The call rows are copied, never changed: the report they came
    from may still be in use. Rows without time share ``nothing``'s (empty) ``pause_by_reason``.
    """

    def __init__(self, tz: ZoneInfo, window: list[float], empty_calls: Figures, nothing: Figures) -> None:
        self.labels = _Labels(tz)
        self.window = window
        self.window_labels = [self.labels.iso(start) for start in window]
        self.known_starts = frozenset(window)
        self.known_labels = frozenset(self.window_labels)
        self.blank: Figures = {"start": "", **empty_calls, **nothing}
        self.nothing = nothing

    def of(self, rows: list[Figures], buckets: dict[float, AgentTime]) -> list[Figures]:
        """The rows of an agent with call rows ``rows`` and times ``buckets``: every interval of the
        window and every other one either has, in order."""
        calls = {row["start"]: row for row in rows}
        if self.window and self.known_starts.issuperset(buckets) and self.known_labels.issuperset(calls):
            # Everything falls in the window (as nearly always): its starts are already in order.
            return [self._row(calls.get(label), label, buckets.get(start))
                    for start, label in zip(self.window, self.window_labels, strict=True)]  # fmt: skip
        labels = self.labels
        by_start = {labels.epoch(label): label for label in calls}
        for start in (*self.window, *buckets):
            if start not in by_start:
                by_start[start] = labels.iso(start)
        return [
            self._row(calls.get(label), label, buckets.get(start))
            for start, label in sorted(by_start.items())
        ]

    def _row(self, calls: Figures | None, label: str, time_of: AgentTime | None) -> Figures:
        if calls is None:
            row = self.blank.copy()
            row["start"] = label
        else:
            row = calls.copy()
            if time_of is None:
                row.update(self.nothing)
        if time_of is not None:
            time_of.put_figures(row)
        return row
