"""KPIs read from the rollups: the same figures as :func:`hotline.kpi.report.build_report`, fast.

The database sums the 15-minute rows of the window (one row per interval, or per interval and
group); Python then folds those into the asked intervals on the local clock and turns the sums
into :class:`~hotline.kpi.definitions.KpiSummary` with the formulas of
:mod:`hotline.kpi.definitions`. A month of a big center is about 3,000 intervals, whatever the
number of calls, so the time does not grow with the traffic.

Rollups resolve 15 minutes: the window is widened to whole 15-minute intervals, and interval
lengths in minutes must be multiples of 15 (15, 30, 60; day, week and month always are, in every
time zone whose offset is a multiple of 15 minutes, Asia/Jakarta included).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.definitions import BY_QUEUE, BY_SITE, PER_ATTEMPT, PER_CALL, KpiSummary, summarize
from hotline.kpi.intervals import MINUTE, interval_start, iso
from hotline.kpi.report import KpiReport, ReportOptions
from hotline.rollup.tables import (
    ALL,
    INTERVAL_S,
    MAX_COLUMN,
    MEASURES,
    NO_AGENT,
    SUM_COLUMNS,
    kpi_rollup,
)

_I: Final = {name: i for i, name in enumerate(SUM_COLUMNS)}
_WIDTH: Final = len(SUM_COLUMNS)
Totals = list[int]
"""The SUM_COLUMNS of some rows, then their longest wait (ms, -1 for none) as the last item."""


def empty_totals() -> Totals:
    return [0] * _WIDTH + [-1]


def _sum_rows(rows: Sequence[Totals]) -> Totals:
    """The totals of many rows at once (column by column: far faster than row by row)."""
    if not rows:
        return empty_totals()
    columns = list(zip(*rows, strict=True))
    return [sum(column) for column in columns[:_WIDTH]] + [max(columns[_WIDTH])]


_CALLS: Final = slice(_I["offered"], _I["waiting"] + 1)
_ATTEMPTS: Final = slice(_I["attempts_offered"], _I["attempts_waiting"] + 1)
(_ACD, _HOLD_UNKNOWN, _HANDLE, _HOLD, _TALK, _WAITS, _WAIT_SUM, _WITHIN, _TRANSFERS, _RNA) = (
    _I[name] for name in MEASURES
)


def summary_of(totals: Totals, unit: str = PER_CALL) -> KpiSummary:
    """The KPIs of summed rollup rows, counting offers in calls (``'call'``) or attempts.

    Called once per interval of a report (3,000 times for a month): plain index arithmetic.
    """
    v = totals
    offered, answered, abandoned, short, timed_out, exited, waiting = v[
        _CALLS if unit == PER_CALL else _ATTEMPTS
    ]
    acd, answered_waits, hold_known = v[_ACD], v[_WAITS], v[_HOLD_UNKNOWN] == 0
    longest = v[_WIDTH]
    return KpiSummary(
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short,
        timed_out=timed_out,
        exited=exited,
        waiting=waiting,
        acd_calls=acd,
        scr=answered / offered * 100 if offered > 0 else None,
        abandon_rate=(abandoned - short) / (offered - short) * 100 if offered > short else None,
        aht=v[_HANDLE] / 1000 / acd if acd else None,
        talk_total=v[_TALK] / 1000 if hold_known else None,
        hold_total=v[_HOLD] / 1000 if hold_known else None,
        asa=v[_WAIT_SUM] / 1000 / answered_waits if answered_waits else None,
        service_level=v[_WITHIN] / answered_waits * 100 if answered_waits else None,
        longest_wait=longest / 1000 if longest >= 0 else None,
        transfers=v[_TRANSFERS],
        ring_no_answer=v[_RNA],
    )


async def read_sums(
    engine: AsyncEngine,
    since: float | None,
    until: float | None,
    *,
    group: str | None = None,
    pbx: str | None = None,
) -> list[tuple[int, str, Totals]]:
    """``(interval_start, group value, totals)`` per 15-minute interval (and group) of the window.

    ``group`` is None (one row per interval: the total rows), ``'pbx'`` (the PBX total rows),
    ``'queue'`` (queue rows) or ``'agent'`` (agent rows); ``pbx`` keeps one PBX's rows only.
    """
    table = kpi_rollup
    where: list[Any] = []
    if group is None or group == "pbx":
        # Pre-summed rows: one per interval (and PBX), read as they are.
        where += [table.c.agent == NO_AGENT, table.c.queue == ALL]
        where.append(
            table.c.pbx == (pbx if pbx is not None else ALL) if group is None else table.c.pbx != ALL
        )
        keys: list[Any] = [table.c.interval_start] + ([table.c.pbx] if group else [])
        query = select(*keys, *(table.c[name] for name in SUM_COLUMNS), table.c[MAX_COLUMN])
    else:
        where.append(table.c.agent != NO_AGENT if group == "agent" else table.c.agent == NO_AGENT)
        if group == "queue":
            where += [table.c.queue != ALL, table.c.pbx != ALL]
        keys = [table.c.interval_start, table.c[group]]
        sums = [func.sum(table.c[name]) for name in SUM_COLUMNS]
        query = select(*keys, *sums, func.max(table.c[MAX_COLUMN])).group_by(*keys)
    if pbx is not None and group is not None:
        where.append(table.c.pbx == pbx)
    # Queue rows are read along the primary key (agent, queue, pbx, ...): "+ 0" keeps the planner
    # off the interval index, whose lookups cost more than that scan. Agent rows (the bulk) take it.
    start = table.c.interval_start + 0 if group == "queue" else table.c.interval_start
    if since is not None:
        where.append(start >= int(since // INTERVAL_S) * INTERVAL_S)
    if until is not None:
        where.append(start < until)
    async with engine.connect() as connection:
        rows = (await connection.execute(query.where(*where))).all()
    width = len(keys)
    return [(int(row[0]), str(row[1]) if width > 1 else "", [int(v) for v in row[width:]]) for row in rows]


def _check(options: ReportOptions) -> None:
    spec = options.interval
    if spec is not None and spec.kind == MINUTE and spec.minutes % (INTERVAL_S // 60):
        raise ValueError(f"rollups hold 15-minute intervals: {spec.minutes} minutes cannot be made of them")


async def rollup_report(engine: AsyncEngine, options: ReportOptions, *, pbx: str | None = None) -> KpiReport:
    """The report :func:`hotline.kpi.report.build_report` would compute, from the rollups.

    ``options.service_level_s`` and ``short_abandon_s`` are those the rollups were built with
    (see :class:`hotline.rollup.contrib.Thresholds`).
    """
    _check(options)
    overall_rows = await read_sums(
        engine, options.since, options.until, group="pbx" if options.by == BY_SITE else None, pbx=pbx
    )
    starts = _LocalStarts(options)
    report = KpiReport(overall=summary_of(_total(overall_rows)).as_dict())
    if options.interval is not None:
        report.intervals = starts.figures(overall_rows, PER_CALL)
    if options.by is None:
        return report
    if options.by == BY_SITE:
        grouped = [(start, options.site_of(name), totals) for start, name, totals in overall_rows]
        unit = PER_CALL
    else:
        column = "queue" if options.by == BY_QUEUE else "agent"
        grouped = await read_sums(engine, options.since, options.until, group=column, pbx=pbx)
        unit = PER_ATTEMPT
    by_name: dict[str, list[tuple[int, str, Totals]]] = {}
    for row in grouped:
        by_name.setdefault(row[1], []).append(row)
    report.groups = {name: summary_of(_total(rows), unit).as_dict() for name, rows in sorted(by_name.items())}
    if options.interval is not None:
        report.group_intervals = {name: starts.figures(rows, unit) for name, rows in sorted(by_name.items())}
    return report


def _total(rows: Iterable[tuple[int, str, Totals]]) -> Totals:
    return _sum_rows([totals for _, _, totals in rows])


class _LocalStarts:
    """15-minute rollup starts -> local interval starts (each converted once) and the figures per interval."""

    def __init__(self, options: ReportOptions) -> None:
        self.options = options
        self._cache: dict[int, float] = {}
        self.window: list[float] = []
        if options.interval is not None and options.since is not None and options.until is not None:
            # Every interval is a union of 15-minute rollup intervals, so the starts of those cover
            # every interval touching the window (what interval_starts lists), at a fraction of its cost.
            first = int(options.since // INTERVAL_S) * INTERVAL_S
            grid = range(first, math.ceil(options.until), INTERVAL_S)
            self.window = sorted({self.start_of(start) for start in grid})

    def start_of(self, rollup_start: int) -> float:
        known = self._cache.get(rollup_start)
        if known is None:
            known = self._cache[rollup_start] = self._convert(rollup_start)
        return known

    def _convert(self, stamp: int) -> float:
        spec, tz = self.options.interval, self.options.tz
        assert spec is not None
        if spec.kind == MINUTE:
            # Fast path: the UTC offset is the same at the moment and at the interval's start (no
            # clock change in between), so the start is plain arithmetic on the local clock.
            offset = _offset(stamp, tz)
            span = spec.minutes * 60
            start = stamp - (stamp + offset) % span
            if _offset(start, tz) == offset:
                return float(start)
        return interval_start(stamp, spec, tz)

    def figures(self, rows: Iterable[tuple[int, str, Totals]], unit: str) -> list[dict[str, Any]]:
        per_start: dict[float, list[Totals]] = {}
        for start, _, totals in rows:
            if not totals[_I["attempts_offered"]]:
                continue  # a row emptied by a correction: the raw attempts would show no interval there
            per_start.setdefault(self.start_of(start), []).append(totals)
        figures = {
            local: summary_of(parts[0] if len(parts) == 1 else _sum_rows(parts), unit).as_dict()
            for local, parts in per_start.items()
        }
        empty = summarize([], unit=unit).as_dict()
        for local in self.window:
            if local not in figures:
                figures[local] = empty
        tz = self.options.tz
        return [{"start": iso(local, tz), **figures[local]} for local in sorted(figures)]


def _offset(stamp: float, tz: ZoneInfo) -> int:
    delta = datetime.fromtimestamp(stamp, tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0
