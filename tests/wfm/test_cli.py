"""``hotline wfm forecast`` and ``hotline wfm compare`` over a store filled with known traffic."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterable
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from hotline.cli import main
from hotline.kpi.facts import QueueAttempt
from hotline.store import create_engine, migrate, upsert_attempts
from hotline.wfm.erlang import agents_needed

TARGET = date(2026, 3, 10)  # a Tuesday


async def _fill(url: str, attempts: Iterable[QueueAttempt]) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
        await upsert_attempts(engine, attempts)
    finally:
        await engine.dispose()


@pytest.fixture
def store(tmp_path: Path, make_calls) -> str:  # type: ignore[no-untyped-def]
    """Six past Tuesdays: 10:00 had 60, 50 ... 10 calls of AHT 240 s; the target day 10:00 has 30."""
    attempts: list[QueueAttempt] = []
    for k in range(1, 7):
        attempts += make_calls(TARGET - timedelta(days=7 * k), time(10), 70 - 10 * k, 240.0)
    attempts += make_calls(TARGET, time(10), 30, 200.0)
    url = f"sqlite+aiosqlite:///{tmp_path}/wfm.db"
    asyncio.run(_fill(url, attempts))
    return url


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main([*argv, "--log-level", "error"]) == 0
    return capsys.readouterr().out


def test_forecast_json_gives_offered_aht_and_erlang_c_agents(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(capsys, "wfm", "forecast", "--date", TARGET.isoformat(), "--db", store, "--json")
    result = json.loads(out)
    assert result["interval_minutes"] == 30 and result["weeks"] == 6
    ten = next(row for row in result["intervals"] if row["start"] == "2026-03-10T10:00:00+07:00")
    expected = 1820 / 42  # linear weights 6..1 over 60, 50, ..., 10
    assert ten["offered"] == pytest.approx(expected, abs=0.005)
    assert ten["aht"] == 240.0 and ten["weeks"] == 6
    staffing = agents_needed(expected, 240, 1800)
    assert (ten["agents"], ten["scheduled"]) == (staffing.agents, staffing.agents)
    quiet = next(row for row in result["intervals"] if row["start"] == "2026-03-10T03:00:00+07:00")
    assert (quiet["offered"], quiet["agents"]) == (0.0, 0)
    assert result["totals"]["peak_agents"] == staffing.agents


def test_forecast_table_and_csv_with_shrinkage(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["wfm", "forecast", "--date", TARGET.isoformat(), "--db", store, "--shrinkage", "30"]
    table = _run(capsys, *args)
    assert "shrinkage 30%" in table and "10:00" in table and "rostered" in table
    rows = list(csv.DictReader(io.StringIO(_run(capsys, *args, "--csv"))))
    assert len(rows) == 48
    ten = next(row for row in rows if row["start"].endswith("T10:00:00+07:00"))
    assert int(ten["scheduled"]) > int(ten["agents"])


def test_a_week_forecast_has_seven_days(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "wfm", "forecast", "--date", "2026-03-09", "--days", "7", "--db", store, "--json")
    assert len(json.loads(out)["intervals"]) == 7 * 48


def test_compare_intraday_and_end_of_day(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["wfm", "compare", "--date", TARGET.isoformat(), "--db", store]
    intraday = json.loads(_run(capsys, *base, "--now", "2026-03-10T10:45", "--json"))
    assert not intraday["day_complete"]
    ten = next(row for row in intraday["intervals"] if row["start"] == "2026-03-10T10:00:00+07:00")
    assert ten["actual_offered"] == 30 and ten["complete"]
    assert ten["error"] == pytest.approx(30 - 1820 / 42, abs=0.01)
    assert ten["percent_error"] == pytest.approx((30 - 1820 / 42) / 30 * 100, abs=0.01)
    assert ten["actual_aht"] == 200.0
    later = next(row for row in intraday["intervals"] if row["start"] == "2026-03-10T11:00:00+07:00")
    assert later["actual_offered"] is None
    assert intraday["actual_offered_so_far"] == 30
    assert intraday["wape"] == pytest.approx(abs(30 - 1820 / 42) / 30 * 100, abs=0.01)

    end = _run(capsys, *base, "--now", "2026-03-11T00:00")
    assert "end of day" in end and "WAPE" in end and "MAPE" in end


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["forecast", "--date", "tomorrow"], "--date: not a date"),
        (["forecast", "--date", "2026-03-10", "--interval", "day"], "per 15, 30 or 60 minutes"),
        (["forecast", "--date", "2026-03-10", "--weeks", "0"], "--weeks"),
        (["forecast", "--date", "2026-03-10", "--service-level", "100"], "target service level"),
        (["compare", "--date", "2026-03-10", "--now", "noon"], "--now"),
    ],
)
def test_bad_options_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    assert main(["wfm", *argv, "--db", db, "--log-level", "error"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hotline: error:") and message in err and len(err.splitlines()) == 1


def test_an_empty_store_says_it_has_no_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    out = _run(capsys, "wfm", "forecast", "--date", "2026-03-10", "--db", db)
    assert "no history" in out


@pytest.mark.parametrize("action", ["forecast", "compare"])
def test_each_action_explains_itself(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["wfm", action, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: hotline wfm {action}") and "--weighting" in out and "--db" in out
