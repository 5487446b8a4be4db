"""How the event log writes a batch: one statement, exact ids even among duplicates, listeners of a
batch overlapping the next write (PostgreSQL) or taking turns with it (SQLite), SQLite pragmas."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.ami.protocol import AmiParser, Event
from hotline.store import EventLog, StoredEvent, create_engine, iter_events
from hotline.store import events as events_module
from hotline.store.db import SQLITE_BUSY_TIMEOUT_MS
from hotline.store.events import AMI_EVENT, headers_json, insert_rows, row_from_event

MakeEvent = Callable[..., Any]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"


async def _last_id(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.max(AMI_EVENT.c.id)))).scalar_one() or 0)


@pytest.mark.parametrize("per_statement", [1000, 7])
async def test_a_batch_returns_exactly_the_new_events_with_their_ids(
    engine: AsyncEngine, make_event: MakeEvent, monkeypatch: pytest.MonkeyPatch, per_statement: int
) -> None:
    monkeypatch.setattr(events_module, "_SQLITE_ROWS_PER_STATEMENT", per_statement)
    async with engine.begin() as connection:
        first = await insert_rows(
            connection, [row_from_event(make_event(seq), "s") for seq in range(0, 40, 2)]
        )
    assert [event.seq for event in first] == list(range(0, 40, 2))
    # Stored ones again, one twice in the batch, and new ones in between.
    batch = [row_from_event(make_event(seq), "s") for seq in [*range(40), 41, 41, 43]]
    async with engine.begin() as connection:
        added = await insert_rows(connection, batch)
    assert [event.seq for event in added] == [*range(1, 40, 2), 41, 43]
    stored = {(event.seq, event.id) for event in [event async for event in iter_events(engine)]}
    assert {(event.seq, event.id) for event in added} <= stored
    assert [event.id for event in added] == sorted(event.id for event in added)
    assert added[0].headers == batch[1].headers and added[0].uniqueid == "1700000000.1"
    async with engine.begin() as connection:
        assert await insert_rows(connection, batch) == []  # nothing new: nothing returned


@pytest.mark.parametrize("overlap", [True, False])
async def test_listeners_get_the_batches_in_order_one_at_a_time(
    engine: AsyncEngine, make_event: MakeEvent, overlap: bool
) -> None:
    received: list[int] = []
    written_meanwhile: list[bool] = []
    running = 0

    async def projection(batch: list[StoredEvent]) -> None:
        nonlocal running
        assert running == 0, "two batches projected at once"
        running += 1
        await asyncio.sleep(0.02)  # the writer's next batch lands now, or waits
        written_meanwhile.append(await _last_id(engine) > batch[-1].id)
        received.extend(event.seq for event in batch)
        running -= 1

    log = EventLog(engine, "s1", batch_size=25, flush_interval=0.001, overlap=overlap)
    log.add_listener(projection)
    await log.start()
    for seq in range(200):
        log.append(make_event(seq))
    await log.flush()
    assert received == list(range(200))  # flush returned after the listeners of every batch
    await log.stop()
    assert any(written_meanwhile) is overlap
    assert log.stats()["written_total"] == 200 and log.stats()["backlog"] == 0


async def test_the_listeners_overlap_the_next_write_unless_the_database_is_sqlite(
    engine: AsyncEngine, make_event: MakeEvent
) -> None:
    seen: list[bool] = []

    async def projection(batch: list[StoredEvent]) -> None:
        await asyncio.sleep(0.02)
        seen.append(await _last_id(engine) > batch[-1].id)

    log = EventLog(engine, "s1", batch_size=10, flush_interval=0.001)
    log.add_listener(projection)
    await log.start()
    for seq in range(60):
        log.append(make_event(seq))
    await log.stop()
    assert any(seen) is (engine.dialect.name != "sqlite")


async def test_stop_waits_for_the_listeners_of_the_last_batch(
    engine: AsyncEngine, make_event: MakeEvent
) -> None:
    done: list[int] = []

    async def slow(batch: list[StoredEvent]) -> None:
        await asyncio.sleep(0.05)
        done.extend(event.seq for event in batch)

    log = EventLog(engine, "s1", batch_size=5, flush_interval=0.001, overlap=True)
    log.add_listener(slow)
    await log.start()
    for seq in range(12):
        log.append(make_event(seq))
    await log.stop()
    assert done == list(range(12))


def test_headers_are_the_json_of_their_pairs() -> None:
    odd = [
        (("Event", "Newchannel"), ("CallerIDName", 'Śantoso "Budi" \\ Wibowo\n\t\x01\u2028')),
        (("Variable", "A=1"), ("Variable", "B=2"), ("Ünï", "")),
        (),
    ]
    captures = [
        event.headers
        for folder in sorted(FIXTURES.iterdir())
        if (folder / "ami.raw").is_file()
        for event in _events(folder / "ami.raw")
    ]
    for headers in [*odd, *captures]:
        encoded = headers_json(headers)
        assert encoded == json.dumps(
            [list(pair) for pair in headers], ensure_ascii=False, separators=(",", ":")
        )
        assert [tuple(pair) for pair in json.loads(encoded)] == list(headers)


def _events(path: Path) -> list[Event]:
    return [m for m in AmiParser().messages(path.read_bytes()) if isinstance(m, Event)]


async def test_every_sqlite_connection_is_tuned_once(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/pragmas.db")
    try:
        # Two connections at once: the pool opens both, and each gets the pragmas.
        async with engine.connect() as one, engine.connect() as two:
            for connection in (one, two):
                values = [
                    (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                    for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
                ]
                assert values == ["wal", 2, SQLITE_BUSY_TIMEOUT_MS, 1]
        # A local file cannot drop a connection: no test query each time one leaves the pool.
        assert engine.sync_engine.pool._pre_ping is False
        assert create_engine("postgresql://u@127.0.0.1/x").sync_engine.pool._pre_ping is True
    finally:
        await engine.dispose()
