"""A team leader's view: the KPIs and reports of the ACD calls their team's agents handled.

Only what an agent did can belong to a team. Offered, abandoned, timed-out calls and SCR per
queue, per site or overall count callers before any agent answered them, so they belong to no
team: a team leader gets those refused (see :data:`NOT_A_TEAM_FIGURE`), and sees instead

- per agent: their team's agents only, figures as ``by=agent`` gives them to QA (every ACD call
  the agent answered is one offer to that agent);
- as the total: the team's agents together, counted the same way (so "offered" is the ACD calls
  delivered to the team, and SCR is 100 % by construction, as it is per agent).

The total is computed by treating the team as one agent, so it follows exactly the per-agent rules
of :mod:`hotline.kpi.definitions` and the millisecond durations of :mod:`hotline.reports.attempts`.
"""

from __future__ import annotations

import dataclasses
from typing import Final
from zoneinfo import ZoneInfo

from hotline.kpi.definitions import BY_AGENT, PER_ATTEMPT, summarize
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.report import KpiReport, ReportOptions
from hotline.reports import model
from hotline.reports.attempts import WindowAttempts, window_report

NOT_A_TEAM_FIGURE: Final = (
    "team leaders see their own team's agents (by=agent): offered, abandoned and SCR per queue, per "
    "site or overall count callers before an agent answers them, so they belong to no team"
)


def _as_one_agent(rows: list[QueueAttempt], team: str) -> list[QueueAttempt]:
    return [dataclasses.replace(a, agent=team) for a in rows]


def team_kpis(rows: list[QueueAttempt], options: ReportOptions, team: str) -> KpiReport:
    """The ``by=agent`` report of the team's ACD calls ``rows``, its total as the overall figures."""
    per_agent = dataclasses.replace(options, by=BY_AGENT)
    agents = window_report(WindowAttempts(rows, {}), per_agent)
    whole = window_report(WindowAttempts(_as_one_agent(rows, team), {}), per_agent)
    groups = whole.groups or {}
    overall = groups.get(team) or summarize([], unit=PER_ATTEMPT).as_dict()
    intervals = None
    if options.interval is not None:
        # With no call at all, the window's empty intervals are those of the (empty) overall series.
        intervals = whole.group_intervals.get(team, agents.intervals)
    return KpiReport(
        overall=overall, intervals=intervals, groups=agents.groups, group_intervals=agents.group_intervals
    )


def team_report(
    rows: list[QueueAttempt],
    period: model.Period,
    tz: ZoneInfo,
    team: str,
    *,
    timezone: str,
    targets: model.Targets,
    by: str,
) -> model.Report:
    """The period's report of the team's ACD calls ``rows``, per agent or as the team's one row."""
    as_team = model.build_report(
        _as_one_agent(rows, team), period, tz, timezone=timezone, targets=targets, by=BY_AGENT
    )
    if by == model.BY_TEAM:
        report = as_team
        report.by = model.BY_TEAM
    else:
        report = model.build_report(rows, period, tz, timezone=timezone, targets=targets, by=BY_AGENT)
    empty = summarize([], unit=PER_ATTEMPT)
    report.overall = as_team.groups.get(team, empty)
    report.buckets = as_team.group_buckets.get(team, [(start, None) for start, _ in report.buckets])
    report.scope = f"team {team}"
    return report
