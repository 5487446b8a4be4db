"""The KPIs of the store for a window: from the rollups when they can answer, else the raw attempts.

Both ``hotline kpi`` and ``GET /api/kpi`` compute through here, so the command and the API always
print the same figures. The rollups (:mod:`hotline.rollup`) hold 15-minute sums, so they answer
when

- the window's ends (if given) fall on a 15-minute boundary, and
- the intervals asked (if any) are made of whole 15-minute intervals (15, 30, 60 minutes, day,
  week, month);

otherwise the attempts of the window are read and summed (:mod:`hotline.reports.attempts`: whole
calls at the window's edges, durations in milliseconds, as the rollups count them).
Either way a call counts from AMI when AMI saw it and from queue_log only otherwise
(:func:`hotline.reports.facts.prefer_ami`), as the rollups count it.

An old store whose ``kpi_rollup`` was never filled (attempts written before the rollups existed)
is noticed by one cheap query and answered from the attempts, with a warning to run
``hotline rebuild``.

Per agent, the agent sessions of the window (``agent_session``) add each agent's login, pause and
occupancy figures (:func:`hotline.kpi.agent_report.add_agent_times`), on either path; spans still
open count until the window's end or the last moment the store knows of. For a window on 15-minute
boundaries they come from the agent time rollup (:mod:`hotline.rollup.agent_time_query`, the same
figures), except for a team's agents, which are picked span by span.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.agent_report import add_agent_times, add_bucket_times, agent_window
from hotline.kpi.agent_spans import AgentSpan
from hotline.kpi.definitions import BY_AGENT
from hotline.kpi.intervals import MINUTE
from hotline.kpi.report import KpiReport, ReportOptions
from hotline.logs import get_logger
from hotline.reports.agent_time import add_agent_time, add_bucket_time, period_window
from hotline.reports.attempts import load_window, window_report
from hotline.reports.model import Report
from hotline.rollup import agent_store
from hotline.rollup.agent_time_query import agent_bucket_times
from hotline.rollup.query import collector_paused, rollup_report
from hotline.rollup.tables import INTERVAL_S, kpi_rollup
from hotline.store.models import Base, QueueAttemptRow

log = get_logger(__name__)

FROM_ROLLUPS: Final = "rollups"
FROM_ATTEMPTS: Final = "attempts"
_ATTEMPT: Final = Base.metadata.tables[QueueAttemptRow.__tablename__]


@dataclass(frozen=True, slots=True)
class StoreKpis:
    """A report and where it was computed from (:data:`FROM_ROLLUPS` or :data:`FROM_ATTEMPTS`)."""

    report: KpiReport
    computed_from: str


def rollups_refusal(options: ReportOptions) -> str | None:
    """Why the rollups cannot answer ``options`` exactly, or None when they can."""
    for name, edge in (("start", options.since), ("end", options.until)):
        if edge is not None and edge % INTERVAL_S:
            return f"the window's {name} is not on a 15-minute boundary"
    spec = options.interval
    if spec is not None and spec.kind == MINUTE and spec.minutes % (INTERVAL_S // 60):
        return f"{spec.minutes}-minute intervals are not made of 15-minute ones"
    return None


async def _rollups_missing(engine: AsyncEngine) -> bool:
    """True when attempts exist but no rollup row does (a store from before the rollups)."""
    async with engine.connect() as connection:
        rollup = (await connection.execute(select(kpi_rollup.c.agent).limit(1))).first()
        if rollup is not None:
            return False
        attempt = (await connection.execute(select(_ATTEMPT.c.call_id).limit(1))).first()
    return attempt is not None


async def store_kpis(
    engine: AsyncEngine, options: ReportOptions, *, pbx: str | None = None, raw: bool = False
) -> StoreKpis:
    """The report of ``options`` over the store; ``raw`` forces the attempts path.

    The CPU-bound sums of the attempts path run in a worker thread, so a month asked over HTTP
    does not stall the event loop (the wallboard and the CTI share it).
    """
    reason = "--raw asked" if raw else rollups_refusal(options)
    if reason is None and await _rollups_missing(engine):
        reason = "the rollups are empty while attempts exist"
        log.warning("KPI rollups are empty: run 'hotline rebuild'; computing from the attempts")
    if reason is None:
        report = await rollup_report(engine, options, pbx=pbx)
        return StoreKpis(normalized(await with_agent_times(engine, report, options, pbx=pbx)), FROM_ROLLUPS)
    log.debug("KPIs computed from the attempts", reason=reason)
    window = await load_window(engine, options.since, options.until, pbx)
    report = await asyncio.to_thread(window_report, window, options)
    return StoreKpis(normalized(await with_agent_times(engine, report, options, pbx=pbx)), FROM_ATTEMPTS)


async def with_agent_times(
    engine: AsyncEngine,
    report: KpiReport,
    options: ReportOptions,
    *,
    pbx: str | None = None,
    keep: Callable[[AgentSpan], bool] | None = None,
) -> KpiReport:
    """``report`` with the agents' session figures when it is grouped by agent (else as it is)."""
    if options.by != BY_AGENT:
        return report
    end = agent_store.window_end(options.until, await agent_store.last_moment(engine, pbx), time.time())
    if keep is None and options.since is not None and options.until is not None:
        plan = agent_window(options, end)
        # A month per 15 minutes is ~200,000 rows of short-lived dicts: no cyclic collection
        # while they are built (the collector would walk them again and again), as for the calls.
        with collector_paused():
            per_bucket = await agent_bucket_times(
                engine,
                since=plan.since,
                until=plan.until,
                load_until=options.until,
                starts=plan.starts,
                pbx=pbx,
            )
            if per_bucket is not None:
                return add_bucket_times(report, per_bucket, options, plan)
    spans = await agent_store.load_spans(engine, options.since, options.until, pbx=pbx)
    return await asyncio.to_thread(add_agent_times, report, spans, options, until=end, keep=keep)


async def with_period_agent_time(
    engine: AsyncEngine,
    report: Report,
    tz: ZoneInfo,
    *,
    pbx: str | None = None,
    keep: Callable[[AgentSpan], bool] | None = None,
) -> Report:
    """A day/week/month ``report`` with its agents' time when grouped by agent (else as it is):
    from the agent time rollup when no ``keep`` picks spans, else swept from the period's spans."""
    if report.by != BY_AGENT:
        return report
    since, end, starts = period_window(report, tz)
    until = min(end, agent_store.window_end(end, await agent_store.last_moment(engine, pbx), time.time()))
    if keep is None:
        per_bucket = await agent_bucket_times(
            engine, since=since, until=until, load_until=end, starts=starts, pbx=pbx
        )
        if per_bucket is not None:
            return add_bucket_time(report, per_bucket)
    spans = await agent_store.load_spans(engine, since, end, pbx=pbx)
    return await asyncio.to_thread(add_agent_time, report, spans, tz, until=until, keep=keep)


_SECONDS_AND_RATIOS: Final = frozenset(
    {"scr", "abandon_rate", "aht", "talk_total", "hold_total", "asa", "service_level", "longest_wait"}
)


def _as_floats(figures: dict[str, Any]) -> dict[str, Any]:
    # A sum over no ACD call is the integer 0 on the attempts path and 0.0 from the rollups'
    # milliseconds: printed, "0" and "0.0". Seconds and ratios are always floats.
    # A copy with those keys set (they keep their places): a month per 15 minutes by agent is
    # ~200,000 rows of some 25 keys, of which only these few need a look.
    out = figures.copy()
    for key in _SECONDS_AND_RATIOS:
        if key in figures and isinstance(value := figures[key], int):
            out[key] = float(value)
    return out


def normalized(report: KpiReport) -> KpiReport:
    """``report`` with every duration and ratio a float (or None), whichever path computed it."""
    return KpiReport(
        overall=_as_floats(report.overall),
        intervals=None if report.intervals is None else [_as_floats(f) for f in report.intervals],
        groups=None if report.groups is None else {k: _as_floats(f) for k, f in report.groups.items()},
        group_intervals={k: [_as_floats(f) for f in v] for k, v in report.group_intervals.items()},
    )


def kpi_json(report: KpiReport, *, timezone: str, interval_label: str | None, source: str) -> dict[str, Any]:
    """The ``hotline kpi --json`` object (``GET /api/kpi`` returns the same)."""
    extra: dict[str, Any] = {"source": source, "timezone": timezone}
    if interval_label is not None:
        extra["interval"] = interval_label
    return {**report.as_json(), **extra}
