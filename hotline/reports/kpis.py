"""The KPIs of the store for a window: from the rollups when they can answer, else the raw attempts.

Both ``hotline kpi`` and ``GET /api/kpi`` compute through here, so the command and the API always
print the same figures. The rollups (:mod:`hotline.rollup`) hold 15-minute sums, so they answer
when

- the window's ends (if given) fall on a 15-minute boundary, and
- the intervals asked (if any) are made of whole 15-minute intervals (15, 30, 60 minutes, day,
  week, month);

otherwise the attempts of the window are read and summed (:func:`hotline.kpi.report.build_report`).
Either way a call counts from AMI when AMI saw it and from queue_log only otherwise
(:func:`hotline.reports.facts.prefer_ami`), as the rollups count it.

An old store whose ``kpi_rollup`` was never filled (attempts written before the rollups existed)
is noticed by one cheap query and answered from the attempts, with a warning to run
``hotline rebuild``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import MINUTE
from hotline.kpi.report import KpiReport, ReportOptions, build_report
from hotline.logs import get_logger
from hotline.reports.facts import prefer_ami
from hotline.rollup.query import rollup_report
from hotline.rollup.tables import INTERVAL_S, kpi_rollup
from hotline.store import repo
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


async def load_attempts(
    engine: AsyncEngine, since: float | None, until: float | None, pbx: str | None = None
) -> list[QueueAttempt]:
    """The attempts that entered a queue in ``[since, until)``, one source per call (AMI first)."""
    rows = await repo.load_attempts(engine, since=since, until=until, pbx=pbx)
    return prefer_ami([QueueAttempt(**row) for row in rows])


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
        return StoreKpis(await rollup_report(engine, options, pbx=pbx), FROM_ROLLUPS)
    log.debug("KPIs computed from the attempts", reason=reason)
    attempts = await load_attempts(engine, options.since, options.until, pbx)
    report = await asyncio.to_thread(build_report, attempts, options)
    return StoreKpis(report, FROM_ATTEMPTS)


def kpi_json(report: KpiReport, *, timezone: str, interval_label: str | None, source: str) -> dict[str, Any]:
    """The ``hotline kpi --json`` object (``GET /api/kpi`` returns the same)."""
    extra: dict[str, Any] = {"source": source, "timezone": timezone}
    if interval_label is not None:
        extra["interval"] = interval_label
    return {**report.as_json(), **extra}
