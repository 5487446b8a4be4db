"""A database that fails loses no event: retry, spill to the spool, replay (also after a restart)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import hotline.store.eventlog as eventlog_module
from hotline.store import EventLog, StoredEvent, create_engine, iter_events
from hotline.store.events import AMI_EVENT, PendingRow, insert_rows

MakeEvent = Callable[..., Any]


class FlakyDatabase:
    """Stands in for the insert: fails while ``failing`` is set, else writes for real."""

    def __init__(self) -> None:
        self.failing = True
        self.calls = 0

    async def __call__(self, connection: AsyncConnection, rows: Sequence[PendingRow]) -> list[StoredEvent]:
        self.calls += 1
        if self.failing:
            raise OperationalError("INSERT INTO ami_event ...", {}, Exception("disk I/O error"))
        return await insert_rows(connection, rows)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> FlakyDatabase:
    database = FlakyDatabase()
    monkeypatch.setattr(eventlog_module, "insert_rows", database)
    return database


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.005)


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


async def _seqs(engine: AsyncEngine) -> list[int]:
    return [event.seq async for event in iter_events(engine)]


def _fast(engine: AsyncEngine, **options: Any) -> EventLog:
    return EventLog(engine, "s1", retry_initial=0.005, retry_max=0.02, **options)


async def test_failed_batches_are_kept_and_retried(
    engine: AsyncEngine, make_event: MakeEvent, flaky: FlakyDatabase
) -> None:
    log = _fast(engine, batch_size=10)
    await log.start()
    with structlog.testing.capture_logs() as logs:
        for seq in range(30):
            log.append(make_event(seq))
        await _until(lambda: log.stats()["write_errors_total"] >= 3)
    # One clear line per outage, not one per retry.
    assert [(entry["log_level"], entry["reason"]) for entry in logs] == [("error", "disk I/O error")]
    flush = asyncio.create_task(log.flush())
    await asyncio.sleep(0.02)
    assert not flush.done() and log.stats()["backlog"] == 30
    assert await _seqs(engine) == []
    flaky.failing = False
    await asyncio.wait_for(flush, 5)
    await log.stop()
    assert await _seqs(engine) == list(range(30))


async def test_past_the_bound_the_backlog_is_spooled_then_replayed_in_order(
    engine: AsyncEngine, make_event: MakeEvent, flaky: FlakyDatabase, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    log = _fast(engine, batch_size=8, spool_dir=spool, max_backlog=20)
    await log.start()
    for seq in range(25):
        log.append(make_event(seq))
    await _until(lambda: log.stats()["spooled"] == 25)
    await asyncio.wait_for(log.flush(), 1)  # spooled events are durable: flush does not wait for the database
    lines = [json.loads(line) for f in _files(spool, "events-*.jsonl") for line in f.read_text().splitlines()]
    assert [line["seq"] for line in lines] == list(range(25))
    for seq in range(25, 30):  # newer events stay in memory, behind the spool
        log.append(make_event(seq))
    flaky.failing = False
    await _until(lambda: log.stats()["spooled"] == 0 and log.stats()["backlog"] == 0)
    await log.stop()
    assert await _seqs(engine) == list(range(30))
    assert _files(spool, "events-*") == []
    stats = log.stats()
    assert stats["spooled_total"] == stats["replayed_total"] == 25 and stats["written_total"] == 30


async def test_a_restart_replays_what_the_last_run_spooled(
    engine: AsyncEngine, make_event: MakeEvent, flaky: FlakyDatabase, tmp_path: Path
) -> None:
    first = _fast(engine, spool_dir=tmp_path, stop_timeout=0.05)
    await first.start()
    for seq in range(20):
        first.append(make_event(seq))
    await first.stop()  # the database never answered: stop spills instead of losing the backlog
    assert await _seqs(engine) == []
    flaky.failing = False

    replayed: list[int] = []

    async def listener(batch: list[StoredEvent]) -> None:
        replayed.extend(event.seq for event in batch)

    second = _fast(engine, spool_dir=tmp_path)
    second.add_listener(listener)
    await second.start()
    assert second.stats()["spooled"] == 20
    await _until(lambda: second.stats()["spooled"] == 0)
    await second.stop()
    assert await _seqs(engine) == replayed == list(range(20))


async def test_a_closed_postgresql_port_spools_and_another_database_takes_the_spool(
    make_event: MakeEvent, closed_port: int, sqlite_url: str, tmp_path: Path
) -> None:
    from hotline.store import migrate

    dead = create_engine(f"postgresql+asyncpg://app:pw@127.0.0.1:{closed_port}/hotline")
    log = _fast(dead, spool_dir=tmp_path / "spool", stop_timeout=0.1)
    await log.start()
    for seq in range(5):
        log.append(make_event(seq, name="Hangup", CallerIDName="Śantoso"))
    await log.stop()
    await dead.dispose()
    assert log.stats()["write_errors_total"] >= 1

    alive = create_engine(sqlite_url)
    await migrate(alive)
    replay = _fast(alive, spool_dir=tmp_path / "spool")
    await replay.start()
    await _until(lambda: replay.stats()["spooled"] == 0)
    await replay.stop()
    stored = [event async for event in iter_events(alive)]
    await alive.dispose()
    assert [(s.seq, s.name, s.get("CallerIDName")) for s in stored] == [
        (n, "Hangup", "Śantoso") for n in range(5)
    ]


async def test_a_missing_table_is_retried_until_it_is_back(
    engine: AsyncEngine, make_event: MakeEvent
) -> None:
    # A real failure of the database itself (no patching): the table is renamed away, then back.
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE ami_event RENAME TO ami_event_away"))
    log = _fast(engine)
    await log.start()
    for seq in range(12):
        log.append(make_event(seq))
    await _until(lambda: log.stats()["write_errors_total"] >= 2)
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE ami_event_away RENAME TO ami_event"))
    await asyncio.wait_for(log.flush(), 5)
    await log.stop()
    assert await _seqs(engine) == list(range(12))


async def test_an_event_the_database_refuses_is_set_aside_and_the_rest_written(
    engine: AsyncEngine, make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def refuses_seq_13(connection: AsyncConnection, rows: Sequence[PendingRow]) -> list[StoredEvent]:
        if any(row.params["seq"] == 13 for row in rows):
            raise IntegrityError("INSERT", {}, Exception("value refused"))
        return await insert_rows(connection, rows)

    monkeypatch.setattr(eventlog_module, "insert_rows", refuses_seq_13)
    log = _fast(engine, batch_size=10, spool_dir=tmp_path)
    await log.start()
    for seq in range(20):
        log.append(make_event(seq))
    await log.stop()
    assert await _seqs(engine) == [seq for seq in range(20) if seq != 13]
    (rejected,) = _files(tmp_path, "rejected-*.jsonl")
    kept = json.loads(rejected.read_text())
    assert kept["seq"] == 13 and kept["error"] == "value refused"
    assert log.stats()["rejected_total"] == 1


async def test_a_torn_spool_line_is_skipped_and_the_rest_replayed(
    engine: AsyncEngine, make_event: MakeEvent, flaky: FlakyDatabase, tmp_path: Path
) -> None:
    first = _fast(engine, spool_dir=tmp_path, stop_timeout=0.05)
    await first.start()
    for seq in range(3):
        first.append(make_event(seq))
    await first.stop()
    (spooled,) = _files(tmp_path, "events-*.jsonl")
    with spooled.open("a") as file:
        file.write('{"pbx": "jkt", "seq"')  # a crash in the middle of a write
    flaky.failing = False
    second = _fast(engine, spool_dir=tmp_path)
    await second.start()
    await _until(lambda: second.stats()["spooled"] == 0)
    await second.stop()
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(AMI_EVENT))).scalar_one() == 3
