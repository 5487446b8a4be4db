"""Interval history for the forecast, from the store's queue attempts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.definitions import PER_ATTEMPT, PER_CALL, summarize_by
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import IntervalSpec, interval_start
from hotline.reports.facts import load_facts
from hotline.wfm.forecast import IntervalHistory, day_bounds


def history_from_attempts(
    attempts: Iterable[QueueAttempt], spec: IntervalSpec, tz: ZoneInfo, *, queue: str | None = None
) -> list[IntervalHistory]:
    """Offered and AHT per interval, with the KPI module's definitions.

    The whole centre counts calls (a transfer into a second queue is one offered call, as in
    ``hotline kpi``); one ``queue`` counts every attempt it received, as the per-queue KPIs do,
    because each is work that queue's agents must be staffed for.
    """
    rows = [a for a in attempts if queue is None or a.queue == queue]
    buckets = summarize_by(
        rows,
        lambda a: interval_start(a.entered_at, spec, tz),
        unit=PER_CALL if queue is None else PER_ATTEMPT,
    )
    return [
        IntervalHistory(start=start, offered=kpis.offered, aht=kpis.aht, acd_calls=kpis.acd_calls)
        for start, kpis in sorted(buckets.items())
    ]


def history_window(first_day: date, days: int, weeks: int, tz: ZoneInfo) -> tuple[float, float]:
    """The epochs to load so that every sample week of a ``days``-day forecast is covered."""
    # Every sample lies within ``weeks`` weeks before the first day (see forecast._History.samples).
    since, _ = day_bounds(first_day - timedelta(days=7 * weeks), tz)
    until, _ = day_bounds(first_day, tz)
    return since, until


async def load_history(
    engine: AsyncEngine,
    since: float,
    until: float,
    spec: IntervalSpec,
    tz: ZoneInfo,
    *,
    pbx: str | None = None,
    queue: str | None = None,
) -> list[IntervalHistory]:
    """Interval history of ``[since, until)`` from the store."""
    attempts = await load_facts(engine, since, until, pbx=pbx)
    return history_from_attempts(attempts, spec, tz, queue=queue)
