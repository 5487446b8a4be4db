"""The rollup report's shortcuts give the raw report's figures: database-side local intervals while
the UTC offset holds, per-15-minute folding across a clock change, and the direct figures builder."""

from __future__ import annotations

import asyncio
import gc
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.definitions import PER_ATTEMPT, PER_CALL
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import iso, parse_interval
from hotline.kpi.report import ReportOptions, build_report
from hotline.reports.facts import prefer_ami
from hotline.rollup import writer as writer_module
from hotline.rollup.clock import Buckets, LocalClock, buckets_for, steady_offset
from hotline.rollup.contrib import Thresholds
from hotline.rollup.query import empty_totals, figures_table, rollup_report, summary_of
from hotline.rollup.tables import SUM_COLUMNS
from hotline.rollup.writer import RollupWriter
from hotline.store import repo

from .conftest import DAY0, assert_close

Traffic = Callable[..., list[list[QueueAttempt]]]
BERLIN = ZoneInfo("Europe/Berlin")
JAKARTA = ZoneInfo("Asia/Jakarta")
SPRING_FORWARD = datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()
"""Europe/Berlin goes from +01:00 to +02:00 at this moment."""


def _moved(attempt: QueueAttempt, by: float) -> QueueAttempt:
    def later(stamp: float | None) -> float | None:
        return None if stamp is None else stamp + by

    return replace(
        attempt,
        entered_at=attempt.entered_at + by,
        connected_at=later(attempt.connected_at),
        ended_at=later(attempt.ended_at),
    )


async def _agree(engine: AsyncEngine, tz: ZoneInfo, since: float, until: float) -> None:
    raw = prefer_ami([QueueAttempt(**row) for row in await repo.load_attempts(engine)])
    window = [a for a in raw if since <= a.entered_at < until]
    for interval in (None, "15", "30", "60", "day", "week", "month"):
        for by in (None, "queue", "agent", "site"):
            spec = parse_interval(interval) if interval else None
            options = ReportOptions(
                tz=tz, since=since, until=until, by=by, interval=spec,
                site_of=lambda pbx: "one site",  # both PBXs in one site: the site sums two rows
            )  # fmt: skip
            got = (await rollup_report(engine, options)).as_json()
            assert_close(got, build_report(window, options).as_json(), f"{tz} interval={interval} by={by}")


async def test_intervals_across_a_clock_change_are_folded_one_by_one(
    engine: AsyncEngine, traffic: Traffic
) -> None:
    # Two days of traffic around Berlin's spring-forward night.
    calls = [[_moved(a, SPRING_FORWARD - DAY0 - 86400) for a in call] for call in traffic(21, 250)]
    await RollupWriter(Thresholds(20, 5)).apply(engine, [a for call in calls for a in call])
    since, until = SPRING_FORWARD - 86400, SPRING_FORWARD + 86400
    assert (
        LocalClock(ReportOptions(tz=BERLIN, since=since, until=until, interval=parse_interval("60"))).buckets
        is None
    )
    await _agree(engine, BERLIN, since, until)
    # The day before the change: one offset, so the database makes the intervals.
    assert buckets_for(parse_interval("60"), BERLIN, since, SPRING_FORWARD - 3600) is not None
    await _agree(engine, BERLIN, since, SPRING_FORWARD - 3600)


async def test_intervals_made_by_the_database_match_the_raw_report(
    engine: AsyncEngine, traffic: Traffic
) -> None:
    await RollupWriter(Thresholds(20, 5)).apply(engine, [a for call in traffic(23, 300) for a in call])
    # A window that does not start on an hour, so the first hour is partly outside it.
    await _agree(engine, JAKARTA, DAY0 + 1800 + 900, DAY0 + 2 * 86400)


async def test_an_empty_window_reports_zero_calls(engine: AsyncEngine) -> None:
    for interval in (None, "60"):
        options = ReportOptions(
            tz=JAKARTA, since=DAY0, until=DAY0 + 7200, interval=parse_interval(interval) if interval else None
        )
        report = await rollup_report(engine, options)
        assert report.overall["offered"] == 0
        assert report.as_json() == build_report([], options).as_json()


def test_the_offset_is_steady_only_without_a_clock_change() -> None:
    assert steady_offset(JAKARTA, DAY0, DAY0 + 31 * 86400) == 7 * 3600
    assert steady_offset(BERLIN, SPRING_FORWARD - 86400, SPRING_FORWARD - 1) == 3600
    assert steady_offset(BERLIN, SPRING_FORWARD - 86400, SPRING_FORWARD + 1) is None
    # Summer time on and off again inside the window: the same offset at both ends, not steady.
    assert steady_offset(BERLIN, DAY0, DAY0 + 365 * 86400) is None


def test_buckets_put_each_moment_in_its_local_interval() -> None:
    since, until = DAY0, DAY0 + 31 * 86400
    assert buckets_for(parse_interval("month"), JAKARTA, since, until) is None
    kathmandu = buckets_for(parse_interval("60"), ZoneInfo("Asia/Kathmandu"), since, until)  # +05:45
    assert kathmandu is not None and kathmandu.start_of(int(DAY0)) == DAY0 - 45 * 60
    week = buckets_for(parse_interval("week"), JAKARTA, since, until)
    assert week is not None
    monday = datetime(2025, 12, 29, tzinfo=JAKARTA).timestamp()
    assert week.start_of(int(DAY0)) == monday
    day = buckets_for(parse_interval("day"), JAKARTA, since, until)
    assert day == Buckets(86400, 7 * 3600)
    assert day.start_of(int(DAY0) + 17 * 3600) == datetime(2026, 1, 2, tzinfo=JAKARTA).timestamp()
    assert not day.is_identity and Buckets(900, 7 * 3600).is_identity


@pytest.mark.parametrize("unit", [PER_CALL, PER_ATTEMPT])
def test_the_figures_table_equals_one_summary_per_row(unit: str) -> None:
    rng = random.Random(5)
    cases = [empty_totals()]
    for _ in range(500):
        totals = [rng.choice([0, 0, 1, rng.randint(0, 5000)]) for _ in SUM_COLUMNS]
        totals.append(rng.choice([-1, 0, rng.randint(0, 900_000)]))
        cases.append(totals)
    starts = [f"s{n}" for n in range(len(cases))]
    expected = [{"start": s, **summary_of(t, unit).as_dict()} for s, t in zip(starts, cases, strict=True)]
    got = figures_table(starts, cases, unit)
    assert got == expected
    assert all(list(a) == list(b) for a, b in zip(got, expected, strict=True))  # same keys, same order
    assert figures_table([], [], unit) == []


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Kathmandu", "UTC", "Europe/Berlin"])
def test_local_starts_are_labelled_as_iso_labels_them(zone: str) -> None:
    tz = ZoneInfo(zone)
    since = DAY0 + 0.25  # a window need not start on a whole second
    options = ReportOptions(tz=tz, since=since, until=since + 40 * 86400, interval=parse_interval("15"))
    clock = LocalClock(options)
    assert clock.window and all(clock.iso(start) == iso(start, tz) for start in clock.window)


async def test_a_batch_larger_than_one_statement_is_written_whole(
    engine: AsyncEngine, traffic: Traffic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "SQLITE_MAX_VARIABLES", 200)  # a few rows per statement
    await RollupWriter(Thresholds(20, 5)).apply(engine, [a for call in traffic(29, 150) for a in call])
    await _agree(engine, JAKARTA, DAY0 - 3600, DAY0 + 3 * 86400)


async def test_reports_pause_the_cyclic_collector_and_restore_it(
    engine: AsyncEngine, traffic: Traffic
) -> None:
    await RollupWriter().apply(engine, [a for call in traffic(31, 50) for a in call])
    options = ReportOptions(
        tz=JAKARTA, since=DAY0, until=DAY0 + 86400, interval=parse_interval("15"), by="queue"
    )
    seen: list[bool] = []

    async def watch() -> None:
        await asyncio.sleep(0)
        seen.append(gc.isenabled())

    assert gc.isenabled()
    await asyncio.gather(rollup_report(engine, options), rollup_report(engine, options), watch())
    assert seen == [False] and gc.isenabled()  # paused while reports ran, on again after both
    gc.disable()
    try:
        await rollup_report(engine, options)
        assert not gc.isenabled()  # a collector someone else turned off stays off
    finally:
        gc.enable()
