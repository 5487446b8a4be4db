"""What a report holds: the period, its KPIs overall, per bucket (interval or day) and per group.

Every number comes from :mod:`hotline.kpi.definitions` (``summarize``, ``summarize_by``,
``group_attempts``): a report never defines a KPI of its own, so it always agrees with
``hotline kpi`` for the same window.

- A **day** report is bucketed per interval (30 minutes by default), a **week** (ISO, Monday
  first) or **month** report per day, all on the contact center's local clock.
- Groups: ``site`` (calls, like the overall figures), ``queue`` and ``agent`` (attempts, as the
  KPI module counts them), and ``team``: the ACD calls of the agents ``team_of(agent)`` places in a
  team. No team directory exists yet, so ``team`` is offered only when a ``team_of`` is given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from hotline.kpi.agent_definitions import AgentTime
from hotline.kpi.definitions import (
    BY_AGENT,
    GROUPINGS,
    PER_CALL,
    KpiSummary,
    group_attempts,
    summarize,
    summarize_by,
)
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import DAY, MINUTE, IntervalSpec, interval_start, interval_starts
from hotline.wfm.forecast import day_bounds

DAILY: Final = "day"
WEEKLY: Final = "week"
MONTHLY: Final = "month"
PERIODS: Final = (DAILY, WEEKLY, MONTHLY)
BY_TEAM: Final = "team"

TeamOf = Callable[[str], str | None]
"""Team of an agent (MemberName), None when the agent is in no team."""


@dataclass(frozen=True, slots=True)
class Period:
    """The local days a report covers, and how it is bucketed."""

    kind: str
    first_day: date
    end_day: date
    """The day after the last one."""
    bucket: IntervalSpec

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.end_day - self.first_day).days)]

    @property
    def label(self) -> str:
        """``2026-03-10``, ``2026-W11`` or ``2026-03``: names the report and its files."""
        if self.kind == WEEKLY:
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == MONTHLY:
            return self.first_day.strftime("%Y-%m")
        return self.first_day.isoformat()


def period_of(kind: str, day: date, interval_minutes: int = 30) -> Period:
    """The day, ISO week (Monday..Sunday) or calendar month holding ``day``."""
    if kind == DAILY:
        if interval_minutes <= 0 or 60 % interval_minutes:
            raise ValueError(f"interval must divide an hour (15, 30, 60), not {interval_minutes}")
        return Period(kind, day, day + timedelta(days=1), IntervalSpec(MINUTE, interval_minutes))
    if kind == WEEKLY:
        first = day - timedelta(days=day.weekday())
        return Period(kind, first, first + timedelta(days=7), IntervalSpec(DAY))
    if kind == MONTHLY:
        first = day.replace(day=1)
        end = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
        return Period(kind, first, end, IntervalSpec(DAY))
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {kind!r}")


@dataclass(frozen=True, slots=True)
class Targets:
    """The manual's targets the charts draw and the tables colour against."""

    scr: float = 90.0
    aht: float = 450.0
    service_level_s: float = 20.0
    short_abandon_s: float = 5.0


@dataclass(slots=True)
class Report:
    """Everything the HTML and CSV renderers print."""

    period: Period
    timezone: str
    targets: Targets
    by: str | None
    overall: KpiSummary
    buckets: list[tuple[float, KpiSummary | None]]
    """Every bucket of the period in order; None where no call entered."""
    groups: dict[str, KpiSummary] = field(default_factory=dict)
    group_buckets: dict[str, list[tuple[float, KpiSummary | None]]] = field(default_factory=dict)
    scope: str | None = None
    """Whose calls, when not the whole center's (a team leader's report: ``team A``)."""
    agent_time: dict[str, AgentTime] = field(default_factory=dict)
    """Per agent (grouped by agent): login, pause by reason, occupancy (hotline.reports.agent_time)."""
    agent_time_buckets: dict[str, dict[float, AgentTime]] = field(default_factory=dict)
    """The same per agent and bucket start; a bucket without logged-in time is missing."""


def bucket_starts(period: Period, tz: ZoneInfo) -> list[float]:
    """Every bucket start of the period (so an idle interval still shows, empty)."""
    since, _ = day_bounds(period.first_day, tz)
    _, until = day_bounds(period.end_day - timedelta(days=1), tz)
    return interval_starts(since, until, period.bucket, tz)


def _groups(
    attempts: list[QueueAttempt], by: str, site_of: Callable[[str], str], team_of: TeamOf | None
) -> tuple[dict[str, list[QueueAttempt]], str]:
    if by != BY_TEAM:
        return group_attempts(attempts, by, site_of=site_of)
    if team_of is None:
        raise ValueError("no team directory is configured: report by site, queue or agent")
    agents, unit = group_attempts(attempts, BY_AGENT)
    teams: dict[str, list[QueueAttempt]] = defaultdict(list)
    for agent, rows in agents.items():
        teams[team_of(agent) or "(no team)"].extend(rows)
    return dict(sorted(teams.items())), unit


def build_report(
    attempts: Iterable[QueueAttempt],
    period: Period,
    tz: ZoneInfo,
    *,
    timezone: str,
    targets: Targets = Targets(),
    by: str | None = None,
    site_of: Callable[[str], str] = str,
    team_of: TeamOf | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """The report of the ``attempts`` that entered a queue in the period, grouped ``by`` one of
    site/queue/agent/team; ``progress(done, total)`` is called as groups are computed."""
    if by is not None and by not in (*GROUPINGS, BY_TEAM):
        raise ValueError(f"grouping must be one of {', '.join((*GROUPINGS, BY_TEAM))}, not {by!r}")
    since, _ = day_bounds(period.first_day, tz)
    _, until = day_bounds(period.end_day - timedelta(days=1), tz)
    rows = [a for a in attempts if since <= a.entered_at < until]
    options = {"service_level_s": targets.service_level_s, "short_abandon_s": targets.short_abandon_s}
    starts = bucket_starts(period, tz)

    def bucket_of(attempt: QueueAttempt) -> float:
        return interval_start(attempt.entered_at, period.bucket, tz)

    def series(selected: list[QueueAttempt], unit: str) -> list[tuple[float, KpiSummary | None]]:
        found = summarize_by(selected, bucket_of, unit=unit, **options)
        return [(start, found.get(start)) for start in starts]

    report = Report(
        period=period,
        timezone=timezone,
        targets=targets,
        by=by,
        overall=summarize(rows, unit=PER_CALL, **options),
        buckets=series(rows, PER_CALL),
    )
    if by is None:
        return report
    groups, unit = _groups(rows, by, site_of, team_of)
    for done, (name, selected) in enumerate(groups.items(), start=1):
        report.groups[name] = summarize(selected, unit=unit, **options)
        report.group_buckets[name] = series(selected, unit)
        if progress is not None:
            progress(done, len(groups))
    return report
