"""``hotline rebuild`` and ``hotline ingest --queue-log`` on the real Asterisk 22 captures."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import hotline.cli
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.report import ReportOptions, build_report
from hotline.reports.facts import prefer_ami
from hotline.rollup.query import rollup_report
from hotline.store import create_engine, repo

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
SCENARIOS = sorted(
    p.name
    for p in CAPTURES.iterdir()
    if (p / "queue_log").is_file() and b"Event: QueueCallerJoin" in (p / "ami.raw").read_bytes()
)
QUIET = ["--log-level", "error"]


def _main(argv: list[str]) -> int:
    try:
        return hotline.cli.main(argv)
    except SystemExit as exc:  # argparse refuses the command line
        return int(exc.code or 0)


def _run_sync(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = _main([*argv, *QUIET])
    out = capsys.readouterr()
    return code, out.out, out.err


async def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(_main, [*argv, *QUIET])
    out = capsys.readouterr()
    return code, out.out, out.err


async def _state(url: str) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """(attempts, rollup report, raw report) of the whole store."""
    engine = create_engine(url)
    try:
        rows = await repo.load_attempts(engine)
        options = ReportOptions(tz=ZoneInfo("Asia/Jakarta"), since=0, until=4e9, by="queue")
        rolled = (await rollup_report(engine, options)).as_json()
    finally:
        await engine.dispose()
    raw = build_report(prefer_ami([QueueAttempt(**r) for r in rows]), options).as_json()
    return rows, rolled, raw


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/hotline.db"


async def test_ingest_then_rebuild_gives_the_same_attempts_and_rollups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(tmp_path)
    for name in SCENARIOS:
        code, _, err = await _run(
            capsys, "ingest", "--ami-trace", str(CAPTURES / name / "ami.raw"), "--pbx", "ref", "--db", url
        )
        assert code == 0, err
    attempts, rolled, raw = await _state(url)
    assert rolled == raw
    assert rolled["offered"] >= len(SCENARIOS) - 1
    for _ in range(2):  # idempotent
        code, out, err = await _run(capsys, "rebuild", "--db", url)
        assert code == 0, err
        assert "rebuilt every PBX" in out
        assert "events" in err  # the progress line
        again = await _state(url)
        assert again == (attempts, rolled, raw)
    code, out, _ = await _run(capsys, "rebuild", "--pbx", "nowhere", "--db", url)
    assert code == 0 and "0 events replayed" in out
    assert await _state(url) == (attempts, rolled, raw)


async def test_queue_log_import_is_remembered_and_counts_a_call_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(tmp_path)
    log = tmp_path / "queue_log"
    lines = (CAPTURES / "blind-transfer" / "queue_log").read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text("".join(lines[:2]), encoding="utf-8")
    code, out, err = await _run(capsys, "ingest", "--queue-log", str(log), "--pbx", "ref", "--db", url)
    assert code == 0, err
    assert "1 queue attempts, 1 written" in out
    code, out, _ = await _run(capsys, "ingest", "--queue-log", str(log), "--pbx", "ref", "--db", url)
    assert "already imported" in out
    log.write_text("".join(lines), encoding="utf-8")  # Asterisk appended the rest of the call
    code, out, _ = await _run(capsys, "ingest", "--queue-log", str(log), "--pbx", "ref", "--db", url)
    assert code == 0 and "2 queue attempts, 2 written" in out
    rows, rolled, raw = await _state(url)
    assert {r["source"] for r in rows} == {"queue_log"}
    assert rolled == raw and rolled["offered"] == 1 and rolled["transfers"] == 1
    # AMI saw the same call: it counts once, from AMI; a rebuild keeps the queue_log rows.
    trace = str(CAPTURES / "blind-transfer" / "ami.raw")
    assert (await _run(capsys, "ingest", "--ami-trace", trace, "--pbx", "ref", "--db", url))[0] == 0
    for _ in range(2):
        rows, rolled, raw = await _state(url)
        assert {r["source"] for r in rows} == {"queue_log", "ami"}
        assert rolled == raw and rolled["offered"] == 1
        assert (await _run(capsys, "rebuild", "--db", url))[0] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ingest", "--pbx", "x"], "one of the arguments --ami-trace --queue-log is required"),
        (["ingest", "--pbx", "x", "--ami-trace", "a", "--queue-log", "b"], "not allowed with argument"),
        (["ingest", "--pbx", "x", "--queue-log", "/nonexistent/queue_log"], "file not found"),
    ],
)
def test_ingest_needs_exactly_one_readable_source(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run_sync(capsys, *argv, "--db", _url(tmp_path))
    assert code == 2
    assert message in err


async def test_json_out_is_unchanged_by_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _url(tmp_path)
    await _run(
        capsys, "ingest", "--ami-trace", str(CAPTURES / "abandon" / "ami.raw"), "--pbx", "ref", "--db", url
    )
    await _run(capsys, "rebuild", "--db", url)
    code, out, _ = await _run(capsys, "kpi", "--json", "--db", url)
    assert code == 0 and json.loads(out)["offered"] == 1
