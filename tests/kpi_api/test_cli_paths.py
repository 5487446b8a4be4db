"""``hotline kpi`` from the rollups and from the raw attempts (``--raw``) prints the same output.

On the real captures ingested as AMI traffic, and on generated days of two PBXs (transfers across
intervals, holds to the microsecond, queue_log backfills), every output format, grouping and
interval, over windows that cut through the traffic. The path taken is checked too: the rollups
answer whenever they can, the attempts otherwise.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hotline.reports.kpis as store_kpis_module
from hotline.kpi.intervals import iso, zone
from hotline.rollup.writer import RollupWriter
from hotline.store import create_engine, migrate

from .conftest import CAPTURES, DAY0, Run, captures_with_events, generated_days

TZ = zone("Asia/Jakarta")
INTERVALS = (None, "15", "30", "60", "day", "week", "month")
GROUPINGS = (None, "queue", "agent", "site")


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


def _formats() -> Iterator[tuple[str, ...]]:
    yield ("--json",)
    yield ("--csv",)
    yield ()


def _matrix(hotline_cli: Run, rollup_calls: list[Any], db: str, window: tuple[str, ...]) -> None:
    for interval, by in itertools.product(INTERVALS, GROUPINGS):
        argv = ["--db", db, *window]
        if interval:
            argv += ["--interval", interval]
        if by:
            argv += ["--by", by]
        for output in _formats():
            _both(hotline_cli, rollup_calls, *argv, *output)


def test_captures_give_the_same_output_from_rollups_and_raw_attempts(
    hotline_cli: Run, rollup_calls: list[Any], tmp_path: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/captures.db"
    names = captures_with_events()
    assert {"answered-hold", "blind-transfer", "abandon", "ringnoanswer", "queue-timeout"} <= set(names)
    for name in names:
        trace = str(CAPTURES / name / "ami.raw")
        assert hotline_cli("ingest", "--ami-trace", trace, "--pbx", "ref", "--db", db).code == 0
    whole = _both(hotline_cli, rollup_calls, "--db", db, "--json")
    assert '"offered": 0,' not in whole  # the captures' calls are there
    # The captured calls entered on 2026-11-24 between 17:04 and 17:27, Jakarta time.
    for window in (
        (),
        ("--from", "2026-11-24T17:00", "--to", "2026-11-24T17:30"),
        ("--from", "2026-11-24T17:15"),
        ("--to", "2026-11-24T17:15"),
    ):
        _matrix(hotline_cli, rollup_calls, db, window)


async def _fill(db: str, seed: int, calls: int, days: int) -> None:
    """The generated calls written as the service writes them: in batches, changed as they go."""
    engine = create_engine(db)
    await migrate(engine)
    writer = RollupWriter()
    traffic = generated_days(seed, calls, days)
    attempts = [a for call in traffic for a in call]
    try:
        # Every call first as "waiting", then its final attempts: the writer moves the sums.
        from dataclasses import replace

        from hotline.kpi import facts

        early = [replace(a, outcome=facts.WAITING, wait_s=None, agent=None, handle_s=None) for a in attempts]
        for start in range(0, len(early), 700):
            await writer.apply(engine, early[start : start + 700])
        for start in range(0, len(attempts), 900):
            await writer.apply(engine, reversed(attempts[start : start + 900]))
    finally:
        await engine.dispose()


def test_generated_days_give_the_same_output_from_rollups_and_raw_attempts(
    hotline_cli: Run, rollup_calls: list[Any], tmp_path: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/days.db"
    asyncio.run(_fill(db, seed=5, calls=4000, days=9))
    second_day = DAY0 + 86400
    windows = [
        (),
        ("--from", iso(second_day, TZ), "--to", iso(second_day + 3 * 86400, TZ)),
        ("--from", iso(DAY0 + 4 * 86400 + 9 * 3600 + 45 * 60, TZ), "--to", iso(DAY0 + 5 * 86400 + 900, TZ)),
        ("--from", "2026-01-03"),
    ]
    for window in windows:
        _matrix(hotline_cli, rollup_calls, db, window)
    for pbx in ("jkt", "yog"):
        _both(hotline_cli, rollup_calls, "--db", db, "--pbx", pbx, "--interval", "60", "--json")
        _both(hotline_cli, rollup_calls, "--db", db, "--pbx", pbx, "--by", "agent", "--json")


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


def test_raw_takes_no_queue_log(hotline_cli: Run, tmp_path: Path) -> None:
    result = hotline_cli("kpi", "--raw", "--queue-log", str(CAPTURES / "abandon" / "queue_log"))
    assert result.code == 2
    assert "--raw" in result.err and "--queue-log" in result.err
