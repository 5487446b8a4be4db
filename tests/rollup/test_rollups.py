"""Rollups agree with KPIs from the raw attempts, whatever order and repetition the changes come in."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import parse_interval
from hotline.kpi.report import ReportOptions, build_report
from hotline.reports.facts import prefer_ami
from hotline.rollup.contrib import Thresholds
from hotline.rollup.query import rollup_report
from hotline.rollup.tables import kpi_rollup
from hotline.rollup.writer import RollupWriter
from hotline.store import repo

from .conftest import DAY0, assert_close

Traffic = Callable[..., list[list[QueueAttempt]]]
TZ = ZoneInfo("Asia/Jakarta")
SITES = {"jkt": "jakarta", "yog": "yogyakarta"}


async def _raw(engine: AsyncEngine) -> list[QueueAttempt]:
    return prefer_ami([QueueAttempt(**row) for row in await repo.load_attempts(engine)])


async def _compare(engine: AsyncEngine, since: float, until: float) -> None:
    raw = await _raw(engine)
    for interval in (None, "15", "60", "day"):
        for by in (None, "queue", "agent", "site"):
            options = ReportOptions(
                tz=TZ,
                since=since,
                until=until,
                interval=parse_interval(interval) if interval else None,
                by=by,
                site_of=lambda pbx: SITES.get(pbx, pbx),
            )
            expected = build_report([a for a in raw if since <= a.entered_at < until], options).as_json()
            got = (await rollup_report(engine, options)).as_json()
            assert_close(got, expected, f"interval={interval} by={by}")


async def test_rollups_equal_raw_kpis_after_changes_in_any_order(
    engine: AsyncEngine, traffic: Traffic
) -> None:
    calls = traffic(11, 300)
    rng = random.Random(3)
    # Every call first shows up waiting, then as it ended; batches mix calls, repeat and reorder.
    updates: list[QueueAttempt] = []
    for call in calls:
        updates.append(replace(call[0], outcome=facts.WAITING, wait_s=None, agent=None, handle_s=None))
    finals = [a for call in calls for a in call]
    rng.shuffle(finals)
    updates += finals + rng.sample(finals, 50)
    writer = RollupWriter(Thresholds(20, 5))
    for start in range(0, len(updates), 37):
        await writer.apply(engine, updates[start : start + 37])
    await _compare(engine, DAY0 - 3600, DAY0 + 3 * 86400)
    # A window that cuts through the traffic, on 15-minute edges.
    await _compare(engine, DAY0 + 6 * 3600, DAY0 + 30 * 3600)


async def test_applying_the_same_attempts_again_changes_nothing(
    engine: AsyncEngine, traffic: Traffic
) -> None:
    attempts = [a for call in traffic(5, 60) for a in call]
    writer = RollupWriter()
    await writer.apply(engine, attempts)
    async with engine.connect() as connection:
        before = (await connection.execute(select(kpi_rollup).order_by(*kpi_rollup.primary_key))).all()
    seen: list[int] = []
    writer.add_listener(lambda delta: seen.append(len(delta)))
    await writer.apply(engine, reversed(attempts))
    async with engine.connect() as connection:
        after = (await connection.execute(select(kpi_rollup).order_by(*kpi_rollup.primary_key))).all()
    assert after == before
    assert seen == []  # nothing changed, nobody told


async def test_a_call_counts_once_from_ami_when_queue_log_backfilled_it_too(
    engine: AsyncEngine, traffic: Traffic
) -> None:
    from_log = traffic(7, 80, source=facts.SOURCE_QUEUE_LOG)
    writer = RollupWriter()
    await writer.apply(engine, [a for call in from_log for a in call])
    # AMI saw half of those calls (same call ids), slightly differently.
    from_ami = [
        [replace(a, source=facts.SOURCE_AMI, entered_at=a.entered_at + 1000) for a in c]
        for c in from_log[:40]
    ]
    await writer.apply(engine, [a for call in from_ami for a in call])
    report = await rollup_report(engine, ReportOptions(tz=TZ, since=DAY0 - 3600, until=DAY0 + 4 * 86400))
    assert report.overall["offered"] == 80
    await _compare(engine, DAY0 - 3600, DAY0 + 4 * 86400)


async def test_longest_wait_comes_down_when_a_wait_is_corrected(
    engine: AsyncEngine, traffic: Traffic
) -> None:
    (attempt,) = next(c for c in traffic(2, 50) if len(c) == 1 and c[0].outcome == facts.ANSWERED)
    writer = RollupWriter()
    await writer.apply(engine, [replace(attempt, wait_s=500.0)])
    await writer.apply(engine, [replace(attempt, wait_s=12.5)])
    report = await rollup_report(
        engine, ReportOptions(tz=TZ, since=DAY0 - 3600, until=DAY0 + 4 * 86400, by="agent")
    )
    assert report.overall["longest_wait"] == 12.5
    assert report.groups is not None and report.groups[str(attempt.agent)]["longest_wait"] == 12.5


async def test_listener_sees_exactly_what_was_not_in_the_snapshot(
    engine: AsyncEngine, traffic: Traffic
) -> None:
    calls = traffic(9, 40)
    writer = RollupWriter()
    await writer.apply(engine, [a for call in calls[:20] for a in call])
    offered_after: list[int] = []
    rows = await writer.read_and_listen(
        engine,
        DAY0 - 3600,
        lambda delta: offered_after.append(sum(v[0] for k, v in delta.items() if k[0] == k[1] == "")),
    )
    await writer.apply(engine, [a for call in calls[20:] for a in call])
    assert sum(row["offered"] for row in rows) == 20
    assert sum(offered_after) == 20


async def test_rollup_intervals_must_be_made_of_15_minutes(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="15-minute"):
        await rollup_report(
            engine, ReportOptions(tz=TZ, since=DAY0, until=DAY0 + 3600, interval=parse_interval("10"))
        )
