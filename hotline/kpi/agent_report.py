"""The agent KPIs (:mod:`hotline.kpi.agent_definitions`) put into a ``--by agent`` report.

Each agent's object gains :data:`~hotline.kpi.agent_definitions.AGENT_KEYS` after its call KPIs
(which stay as they were); an agent who logged in but answered no call is listed too, with the
call figures of no call. With intervals, each interval of the agent carries the same keys, its
spans clipped to the interval. No IO here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.kpi.agent_definitions import WRAPUP_REASON, AgentTime, agent_times, totals, zero
from hotline.kpi.agent_spans import AgentSpan
from hotline.kpi.definitions import BY_AGENT, PER_ATTEMPT, summarize
from hotline.kpi.intervals import interval_start, interval_starts, iso
from hotline.kpi.report import Figures, KpiReport, ReportOptions


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
    if options.until is not None:
        until = min(until, options.until)
    since = options.since if options.since is not None else min((s.started_at for s in rows), default=until)
    if not math.isfinite(since) or until <= since:
        rows = []
    starts: list[float] | None = None
    window: list[float] = []
    if options.interval is not None:
        if options.since is not None and options.until is not None:
            # Every interval of the window is listed, as the call figures list them.
            window = interval_starts(options.since, options.until, options.interval, options.tz)
        if rows:
            first = interval_start(since, options.interval, options.tz)
            starts = (
                window
                if window and window[0] == first
                else interval_starts(first, until, options.interval, options.tz)
            )
    per_bucket = agent_times(rows, since, until, starts=starts, wrapup_reason=wrapup_reason) if rows else {}
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
        labels = _Labels(options.tz)
        report.group_intervals = {
            agent: _intervals(report.group_intervals.get(agent, []), per_bucket.get(agent, {}), window,
                              labels, empty_calls, nothing)
            for agent in groups
        }  # fmt: skip
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


def _intervals(
    rows: list[Figures],
    buckets: dict[float, AgentTime],
    window: list[float],
    labels: _Labels,
    empty_calls: Figures,
    nothing: dict[str, Any],
) -> list[Figures]:
    """An agent's interval rows with their session figures; intervals with only sessions added."""
    by_start: dict[float, Figures] = {labels.epoch(row["start"]): row for row in rows}
    for start in (*window, *buckets):
        if start not in by_start:
            by_start[start] = {"start": labels.iso(start), **empty_calls}
    out: list[Figures] = []
    for start in sorted(by_start):
        time_of = buckets.get(start)
        out.append({**by_start[start], **(time_of.as_dict() if time_of else nothing)})
    return out
