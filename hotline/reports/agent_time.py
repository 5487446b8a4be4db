"""The agents' time in a daily/weekly/monthly report: login, pause by reason, available, occupancy.

A report grouped by agent (or a team leader's report of the team's agents) gets, per agent,
the figures of :mod:`hotline.kpi.agent_definitions` over the whole period and per bucket
(interval or day), from the agent spans of the period clipped to each bucket. An agent who was
logged in but answered no call is listed too, with the call figures of no call. No IO here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from zoneinfo import ZoneInfo

from hotline.kpi.agent_definitions import AgentTime, agent_times, totals
from hotline.kpi.agent_spans import AgentSpan
from hotline.kpi.definitions import BY_AGENT, PER_ATTEMPT, summarize
from hotline.reports.model import Report, bucket_starts
from hotline.wfm.forecast import day_bounds


def period_window(report: Report, tz: ZoneInfo) -> tuple[float, float, list[float]]:
    """(start, end, bucket starts) of the report's period."""
    period = report.period
    since, _ = day_bounds(period.first_day, tz)
    _, end = day_bounds(period.end_day - timedelta(days=1), tz)
    return since, end, bucket_starts(period, tz)


def add_agent_time(
    report: Report,
    spans: Iterable[AgentSpan],
    tz: ZoneInfo,
    *,
    until: float,
    keep: Callable[[AgentSpan], bool] | None = None,
) -> Report:
    """``report`` with ``agent_time`` and ``agent_time_buckets`` filled when grouped by agent.

    Open spans count until ``until`` (capped at the period's end).
    """
    if report.by != BY_AGENT:
        return report
    since, end, starts = period_window(report, tz)
    rows = [s for s in spans if keep is None or keep(s)]
    per_bucket = agent_times(rows, since, min(until, end), starts=starts) if min(until, end) > since else {}
    return add_bucket_time(report, per_bucket)


def add_bucket_time(report: Report, per_bucket: dict[str, dict[float, AgentTime]]) -> Report:
    """``report`` with the agents' time already computed per bucket (the sweep's or the rollup's)."""
    if report.by != BY_AGENT:
        return report
    report.agent_time = totals(per_bucket)
    report.agent_time_buckets = per_bucket
    missing = sorted(set(report.agent_time) - set(report.groups))
    if missing:
        empty = summarize([], unit=PER_ATTEMPT)
        for agent in missing:
            report.groups[agent] = empty
            report.group_buckets[agent] = [(start, None) for start, _ in report.buckets]
        report.groups = dict(sorted(report.groups.items()))
        report.group_buckets = dict(sorted(report.group_buckets.items()))
    return report
