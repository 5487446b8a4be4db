"""``hotline report`` over a store filled by ingesting real captures and generated days of traffic.

The CSV numbers must be those of :func:`hotline.kpi.definitions.summarize` (and ``by_queue``,
``by_agent``, ``by_site``) over the same window: a report never has KPIs of its own.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.cli import main
from hotline.kpi.definitions import KpiSummary, by_agent, by_queue, by_site, summarize
from hotline.kpi.facts import QueueAttempt
from hotline.store import create_engine, load_attempts, migrate, upsert_attempts

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
INGESTED = ["answered-hold", "abandon", "blind-transfer", "ringnoanswer", "queue-timeout"]
TZ = ZoneInfo("Asia/Jakarta")
MONDAY = date(2026, 11, 23)  # the captures were made on Tuesday 2026-11-24, Jakarta time
FIELDS = list(KpiSummary.__dataclass_fields__)


async def _fill(url: str, attempts: list[QueueAttempt]) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
        await upsert_attempts(engine, attempts)
    finally:
        await engine.dispose()


async def _load(url: str, first: date, end: date) -> list[QueueAttempt]:
    engine = create_engine(url)
    try:
        since = datetime.combine(first, time(), TZ).timestamp()
        until = datetime.combine(end, time(), TZ).timestamp()
        return [QueueAttempt(**row) for row in await load_attempts(engine, since=since, until=until)]
    finally:
        await engine.dispose()


@pytest.fixture
def store(db_url: str, generate: Callable[..., list[QueueAttempt]]) -> str:
    """Five captures ingested as PBX ``ref``, and a week of generated calls on ``jkt`` and ``yog``
    (on SQLite and on PostgreSQL)."""
    url = db_url
    for name in INGESTED:
        trace = str(CAPTURES / name / "ami.raw")
        assert (
            main(["ingest", "--ami-trace", trace, "--pbx", "ref", "--db", url, "--log-level", "error"]) == 0
        )
    asyncio.run(_fill(url, generate(MONDAY, 7)))
    return url


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _numbers(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row back in the types of KpiSummary.as_dict() ('' is None)."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        text = row[name]
        out[name] = None if text == "" else (float(text) if "." in text else int(text))
    return out


def _expected(summary: KpiSummary) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, float) else v) for k, v in summary.as_dict().items()}


def _report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[list[Path], str]:
    assert main(["report", *argv, "--log-level", "error"]) == 0
    captured = capsys.readouterr()
    return [Path(line) for line in captured.out.splitlines()], captured.err


def test_a_weekly_report_per_queue_matches_summarize(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    files, err = _report(
        capsys, "--period", "week", "--date", "2026-11-26", "--by", "queue", "--out", str(out), "--db", store
    )
    names = sorted(path.name for path in files)
    assert names == [
        "week-2026-W48-by-queue-day.csv",
        "week-2026-W48-by-queue.csv",
        "week-2026-W48-by-queue.html",
        "week-2026-W48.csv",
    ]
    assert "loading 2026-W48: 7/7 (100 %)" in err  # the progress bar of a long range
    attempts = asyncio.run(_load(store, MONDAY, MONDAY + timedelta(days=7)))
    assert any(a.pbx == "ref" for a in attempts) and any(a.pbx == "jkt" for a in attempts)

    days = _read(out / "week-2026-W48.csv")
    assert [row["start"] for row in days[:-1]] == [
        f"{MONDAY + timedelta(days=n)}T00:00:00+07:00" for n in range(7)
    ]
    assert days[-1]["start"] == "total"
    assert _numbers(days[-1]) == _expected(summarize(attempts))
    for row in days[:-1]:
        day = date.fromisoformat(row["start"][:10])
        since = datetime.combine(day, time(), TZ).timestamp()
        same_day = [a for a in attempts if since <= a.entered_at < since + 86400]
        assert _numbers(row) == _expected(summarize(same_day)), row["start"]

    queues = {row["queue"]: _numbers(row) for row in _read(out / "week-2026-W48-by-queue.csv")}
    expected = {name: _expected(kpis) for name, kpis in by_queue(attempts).items()}
    assert {k: v for k, v in queues.items() if k != "total"} == expected
    page = (out / "week-2026-W48-by-queue.html").read_text(encoding="utf-8")
    assert "Weekly report 2026-W48" in page and all(queue in page for queue in expected)


def test_a_daily_report_per_agent_matches_by_agent(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "day"
    _, err = _report(
        capsys, "--period", "day", "--date", "2026-11-24", "--by", "agent", "--out", str(out), "--db", store
    )
    assert err == ""  # one day: no progress bar
    attempts = asyncio.run(_load(store, date(2026, 11, 24), date(2026, 11, 25)))
    intervals = _read(out / "day-2026-11-24.csv")
    assert len(intervals) == 48 + 1
    assert _numbers(intervals[-1]) == _expected(summarize(attempts))
    assert sum(int(row["offered"]) for row in intervals[:-1]) == summarize(attempts).offered
    rows = {row["agent"]: row for row in _read(out / "day-2026-11-24-by-agent.csv")}
    handled = by_agent(attempts)
    assert {k: _numbers(v) for k, v in rows.items() if k in handled} == {
        name: _expected(kpis) for name, kpis in handled.items()
    }
    # Agents logged in who answered no call are listed too: their time, and no call.
    idle = {k: v for k, v in rows.items() if k not in handled and k != "total"}
    assert idle and all(int(v["offered"]) == 0 and float(v["login_s"]) > 0 for v in idle.values())
    per_interval = _read(out / "day-2026-11-24-by-agent-30m.csv")
    assert {row["agent"] for row in per_interval} == set(handled) | set(idle)


def test_a_monthly_report_per_site_uses_the_configured_sites(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hotline.toml"
    config.write_text(
        '[[pbx]]\nname = "jkt"\nsite = "jakarta"\n\n[[pbx]]\nname = "yog"\nsite = "yogyakarta"\n',
        encoding="utf-8",
    )
    out = tmp_path / "month"
    argv = ["--period", "month", "--date", "2026-11-05", "--by", "site", "--out", str(out), "--db", store]
    files, err = _report(capsys, *argv, "--config", str(config), "--format", "csv")
    assert all(path.suffix == ".csv" for path in files)
    assert "loading 2026-11: 30/30 (100 %)" in err
    attempts = asyncio.run(_load(store, date(2026, 11, 1), date(2026, 12, 1)))
    sites = {"jkt": "jakarta", "yog": "yogyakarta"}
    expected = by_site(attempts, site_of=lambda pbx: sites.get(pbx, pbx))
    assert set(expected) == {"jakarta", "yogyakarta", "ref"}  # an unconfigured PBX stands for itself
    rows = {row["site"]: _numbers(row) for row in _read(out / "month-2026-11-by-site.csv")}
    assert rows.pop("total") == _expected(summarize(attempts))
    assert rows == {name: _expected(kpis) for name, kpis in expected.items()}
    days = _read(out / "month-2026-11.csv")
    assert len(days) == 30 + 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--period", "day", "--date", "24-11-2026"], "--date: not a date"),
        (["--period", "day", "--date", "2026-11-24", "--interval", "7"], "--interval"),
        (["--period", "week", "--date", "2026-11-24", "--format", "pdf"], "--format"),
    ],
)
def test_bad_options_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    assert main(["report", *argv, "--out", str(tmp_path / "o"), "--db", db, "--log-level", "error"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hotline: error:") and message in err and len(err.splitlines()) == 1


def test_an_out_path_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("x", encoding="utf-8")
    db = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    argv = ["report", "--period", "day", "--date", "2026-11-24", "--out", str(taken), "--db", db]
    assert main(argv) == 2
    assert "not a folder" in capsys.readouterr().err


def test_the_command_explains_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: hotline report") and "--period" in out and "--by" in out
