"""Retention purge (dry run, per-queue periods) and verify, through the functions and the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth import audit_entries
from hotline.cli import main
from recording import repo
from recording.retention import purge, verify
from recording.settings import DAY_S, RecordingSettings
from tests.recording.helpers import seed

NOW = 1_795_500_000.0 + 800 * DAY_S


async def test_purge_dry_run_then_for_real_honours_queue_retention(
    engine: AsyncEngine, settings: RecordingSettings
) -> None:
    archive = settings.archive_dir
    old = await seed(engine, archive, 1, queue="cc-informasi")  # 800 days old, kept 365
    kept_longer = await seed(
        engine, archive, 2, queue="cc-pengaduan", started_at=NOW - 500 * DAY_S
    )  # kept 730
    recent = await seed(engine, archive, 3, started_at=NOW - 10 * DAY_S)
    nofile = await seed(engine, archive, 4, status="missing", file_path=None)
    preview = await purge(engine, settings, dry_run=True, now=NOW)
    assert (preview.rows, preview.files_removed) == (2, 1) and sorted(preview.ids) == [old, nofile]
    assert (archive / "jakarta/2026/11/24/call1/call1.wav").exists()
    assert (await repo.get(engine, old) or {})["status"] == "archived"
    report = await purge(engine, settings, now=NOW)
    assert (report.rows, report.files_removed, report.errors) == (2, 1, [])
    assert not (archive / "jakarta/2026/11/24/call1/call1.wav").exists()
    gone = await repo.get(engine, old) or {}
    assert (gone["status"], gone["purged_at"], gone["file_path"]) == ("purged", NOW, None)
    assert gone["sha256"]  # what was removed stays known
    for rec in (kept_longer, recent):
        assert (await repo.get(engine, rec) or {})["status"] == "archived"
    [entry] = await audit_entries(engine, action="recording.purge")
    assert entry.actor == "system:retention" and str(old) in entry.detail
    assert (await purge(engine, settings, now=NOW)).rows == 0


async def test_verify_reports_missing_and_changed_files(
    engine: AsyncEngine, settings: RecordingSettings
) -> None:
    archive = settings.archive_dir
    await seed(engine, archive, 1)
    changed = await seed(engine, archive, 2)
    missing = await seed(engine, archive, 3)
    with (archive / "jakarta/2026/11/24/call2/call2.wav").open("r+b") as handle:
        handle.seek(60)
        handle.write(b"tampered")
    (archive / "jakarta/2026/11/24/call3/call3.wav").unlink()
    report = await verify(engine, settings)
    assert (report.checked, report.ok, report.changed, report.missing) == (3, 1, [changed], [missing])


async def test_cli_search_verify_and_purge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.store import create_engine, migrate

    url = f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
    archive = tmp_path / "archive"
    engine = create_engine(url)
    await migrate(engine)
    # Both from 2023: past the default retention of 365 days.
    await seed(engine, archive, 1, agent="1001", started_at=1_700_000_000.0)
    await seed(engine, archive, 2, agent="1002", started_at=1_700_000_060.0)
    await engine.dispose()
    monkeypatch.setenv("HOTLINE_RECORDING_ARCHIVE_DIR", str(archive))
    base = ["--db", url, "--log-level", "error"]

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["recordings", *argv, *base])
        return code, capsys.readouterr().out

    code, out = await asyncio.to_thread(run, "search", "--agent", "1002", "--json")
    items = json.loads(out)["items"]
    assert (
        code == 0
        and [i["call_id"] for i in items] == ["call2"]
        and items[0]["caller_number"] == "********7802"
    )
    code, out = await asyncio.to_thread(run, "search")
    assert code == 0 and out.startswith("id ") and len(out.splitlines()) == 3
    assert "081234567801" not in out
    code, out = await asyncio.to_thread(run, "verify")
    assert code == 0 and "2 ok" in out
    (archive / "jakarta/2026/11/24/call1/call1.wav").unlink()
    code, out = await asyncio.to_thread(run, "verify")
    assert code == 1 and "1 missing [1]" in out
    code, out = await asyncio.to_thread(run, "purge", "--dry-run")
    assert code == 0 and out.startswith("would remove 2 files")
    code, out = await asyncio.to_thread(run, "show", "2")
    assert code == 0 and json.loads(out)["status"] == "archived"
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["recordings", "search", "--since", "soon", *base]) == 2
    assert "from" in capsys.readouterr().err
