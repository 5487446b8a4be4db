"""``hotline kpi`` from the rollups and from the raw attempts (``--raw``) prints the same output.

On the real captures ingested as AMI traffic, and on generated days of two PBXs (transfers across
intervals and across the window's edges, holds to the microsecond, queue_log backfills): every
grouping and interval, over windows that cut through the traffic, compared as JSON, CSV and text.
The path taken is checked too: the rollups answer whenever they can, the attempts otherwise.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import hotline.reports.kpis as store_kpis_module
from hotline.kpi import facts, render
from hotline.kpi.intervals import iso, parse_interval, zone
from hotline.kpi.report import ReportOptions
from hotline.reports.kpis import FROM_ATTEMPTS, FROM_ROLLUPS, store_kpis
from hotline.rollup.writer import RollupWriter
from hotline.store import create_engine, migrate

from .conftest import CAPTURES, DAY0, Run, captures_with_events, generated_days

TZ = zone("Asia/Jakarta")
INTERVALS = (None, "15", "30", "60", "day", "week", "month")
GROUPINGS = (None, "queue", "agent", "site")
SITES = {"jkt": "jakarta", "yog": "yogyakarta"}


@pytest.fixture
def rollup_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every options object the rollups were asked for."""
    seen: list[Any] = []
    real = store_kpis_module.rollup_report

    async def spy(engine: Any, options: Any, *, pbx: str | None = None) -> Any:
        seen.append(options)
        return await real(engine, options, pbx=pbx)

    monkeypatch.setattr(store_kpis_module, "rollup_report", spy)
    yield seen


def _both(hotline_cli: Run, rollup_calls: list[Any], *argv: str) -> str:
    """Run ``hotline kpi ARGV`` from the rollups and with --raw; assert equal output; return it."""
    before = len(rollup_calls)
    fast = hotline_cli("kpi", *argv)
    assert fast.code == 0, fast.err
    assert len(rollup_calls) == before + 1, f"the rollups did not answer {argv}"
    raw = hotline_cli("kpi", "--raw", *argv)
    assert raw.code == 0, raw.err
    assert len(rollup_calls) == before + 1, "--raw still read the rollups"
    assert fast.out == raw.out, f"rollups and raw attempts differ for {argv}"
    return fast.out


async def _same_reports(engine: AsyncEngine, windows: list[tuple[float | None, float | None]]) -> int:
    """Every interval and grouping over each window: both paths give the same JSON, CSV and text."""
    compared = 0
    for (since, until), interval, by in itertools.product(windows, INTERVALS, GROUPINGS):
        options = ReportOptions(
            tz=TZ,
            since=since,
            until=until,
            interval=parse_interval(interval) if interval else None,
            by=by,
            site_of=lambda pbx: SITES.get(pbx, pbx),
        )
        fast = await store_kpis(engine, options)
        raw = await store_kpis(engine, options, raw=True)
        assert (fast.computed_from, raw.computed_from) == (FROM_ROLLUPS, FROM_ATTEMPTS)
        where = f"window {since}..{until} interval {interval} by {by}"
        assert json.dumps(fast.report.as_json()) == json.dumps(raw.report.as_json()), where
        assert render.to_csv(fast.report, by) == render.to_csv(raw.report, by), where
        text = [render.to_text(r.report, "t", scr_target=90, aht_target=450, by=by) for r in (fast, raw)]
        assert text[0] == text[1], where
        compared += 1
    return compared


def test_captures_give_the_same_output_from_rollups_and_raw_attempts(
    hotline_cli: Run, rollup_calls: list[Any], tmp_path: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/captures.db"
    names = captures_with_events()
    assert {"answered-hold", "blind-transfer", "abandon", "ringnoanswer", "queue-timeout"} <= set(names)
    for name in names:
        trace = str(CAPTURES / name / "ami.raw")
        assert hotline_cli("ingest", "--ami-trace", trace, "--pbx", "ref", "--db", db).code == 0
    whole = json.loads(_both(hotline_cli, rollup_calls, "--db", db, "--json"))
    assert whole["offered"] == 9 and whole["answered"] >= 5 and whole["hold_total"] > 0
    # The captured calls entered on 2026-11-24 between 17:04 and 17:27, Jakarta time.
    window = ("--from", "2026-11-24T17:00", "--to", "2026-11-24T17:30")
    for output in ("--json", "--csv", "--log-level=error"):
        _both(hotline_cli, rollup_calls, "--db", db, *window, "--interval", "15", "--by", "queue", output)
    _both(hotline_cli, rollup_calls, "--db", db, "--from", "2026-11-24T17:15", "--by", "agent", "--csv")

    async def compare() -> int:
        engine = create_engine(db)
        try:
            edge = 1_764_064_800.0  # 2026-11-24T17:00+07:00
            windows = [(None, None), (edge, edge + 1800), (edge + 900, None), (None, edge + 900)]
            return await _same_reports(engine, windows)
        finally:
            await engine.dispose()

    assert asyncio.run(compare()) == 4 * len(INTERVALS) * len(GROUPINGS)


async def _fill(db: str, seed: int, calls: int, days: int) -> None:
    """The generated calls written as the service writes them: in batches, changed as they go."""
    engine = create_engine(db)
    await migrate(engine)
    writer = RollupWriter()
    attempts = [a for call in generated_days(seed, calls, days) for a in call]
    try:
        # Every call first as "waiting", then its final attempts: the writer moves the sums.
        early = [replace(a, outcome=facts.WAITING, wait_s=None, agent=None, handle_s=None) for a in attempts]
        for start in range(0, len(early), 700):
            await writer.apply(engine, early[start : start + 700])
        for start in range(0, len(attempts), 900):
            await writer.apply(engine, reversed(attempts[start : start + 900]))
    finally:
        await engine.dispose()


@pytest.mark.slow
def test_generated_days_give_the_same_output_from_rollups_and_raw_attempts(
    hotline_cli: Run, rollup_calls: list[Any], tmp_path: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/days.db"
    asyncio.run(_fill(db, seed=5, calls=2500, days=6))
    day2 = DAY0 + 86400
    morning = DAY0 + 4 * 86400 + 9 * 3600 + 45 * 60
    _both(
        hotline_cli,
        rollup_calls,
        "--db",
        db,
        "--from",
        iso(day2, TZ),
        "--to",
        iso(day2 + 3 * 86400, TZ),
        "--json",
    )
    for pbx in ("jkt", "yog"):
        _both(
            hotline_cli, rollup_calls, "--db", db, "--pbx", pbx, "--interval", "60", "--by", "agent", "--csv"
        )

    async def compare() -> int:
        engine = create_engine(db)
        try:
            windows = [
                (None, None),
                (day2, day2 + 3 * 86400),
                (morning, morning + 86400),
            ]
            return await _same_reports(engine, windows)
        finally:
            await engine.dispose()

    assert asyncio.run(compare()) == 3 * len(INTERVALS) * len(GROUPINGS)


def test_what_the_rollups_cannot_answer_comes_from_the_attempts(
    hotline_cli: Run, rollup_calls: list[Any], tmp_path: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/days.db"
    asyncio.run(_fill(db, seed=8, calls=300, days=2))
    for argv in (
        ("--interval", "20"),  # not made of 15-minute intervals
        ("--interval", "5"),
        ("--from", "2026-01-01T10:07"),  # a window edge inside a 15-minute interval
        ("--to", "2026-01-01T23:59:30"),
    ):
        result = hotline_cli("kpi", "--db", db, "--json", *argv)
        assert result.code == 0, result.err
        assert rollup_calls == [], f"the rollups answered {argv}"
        # ... and what it prints is the raw path's own answer.
        assert result.out == hotline_cli("kpi", "--raw", "--db", db, "--json", *argv).out
    assert json.loads(result.out)["offered"] > 0


def test_raw_takes_no_queue_log(hotline_cli: Run) -> None:
    result = hotline_cli("kpi", "--raw", "--queue-log", str(CAPTURES / "abandon" / "queue_log"))
    assert result.code == 2
    assert "--raw" in result.err and "--queue-log" in result.err
