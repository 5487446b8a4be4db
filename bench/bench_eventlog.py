"""Event log throughput: sustained append -> durable events/s, against one INSERT + commit per event.

Runs on SQLite (a temporary file, WAL) and, when reachable, on PostgreSQL (a temporary database on
HOTLINE_BENCH_PG, default postgresql://postgres@127.0.0.1:5432/test). The events are the real Asterisk 22
capture ``answered-hold`` cycled with fresh sequence numbers; every run counts the rows at the end, so a
lost event would show. Usage: ``.venv/bin/python bench/bench_eventlog.py [events] [naive_events]``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from _pg import PG_ADMIN, pg_admin
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.ami.protocol import AmiParser, Event
from hotline.store import EventLog, create_engine, migrate
from hotline.store.events import AMI_EVENT, row_from_event

CAPTURE = (
    Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "asterisk22" / "answered-hold" / "ami.raw"
)


@dataclass(frozen=True, slots=True)
class Received:
    pbx: str
    connection: int
    seq: int
    received_at: float
    event: Event


def _events(count: int, session_tag: int) -> list[Received]:
    capture = [m for m in AmiParser().messages(CAPTURE.read_bytes()) if isinstance(m, Event)]
    now = time.time()
    return [Received("jkt", session_tag, seq, now, capture[seq % len(capture)]) for seq in range(count)]


async def _rows(engine: AsyncEngine, connection_number: int) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(AMI_EVENT).where(AMI_EVENT.c.connection == connection_number)
        return int((await connection.execute(query)).scalar_one())


async def batched(engine: AsyncEngine, count: int) -> tuple[float, float]:
    """(durable events/s, µs per append) with the EventLog, appending as fast as a read loop can."""
    events = _events(count, 1)
    log = EventLog(engine, "bench")
    await log.start()
    started = time.perf_counter()
    append_time = 0.0
    for start in range(0, count, 100):
        # A read loop hands over what one TCP read held, then yields to the event loop.
        t0 = time.perf_counter()
        for received in events[start : start + 100]:
            log.append(received)
        append_time += time.perf_counter() - t0
        await asyncio.sleep(0)
    await log.flush()
    elapsed = time.perf_counter() - started
    await log.stop()
    stored = await _rows(engine, 1)
    if stored != count:
        raise SystemExit(f"LOST EVENTS: appended {count}, stored {stored}")
    return count / elapsed, append_time / count * 1e6


async def naive(engine: AsyncEngine, count: int) -> float:
    """Durable events/s with one INSERT and one commit per event (the obvious implementation)."""
    events = _events(count, 2)
    started = time.perf_counter()
    for received in events:
        async with engine.begin() as connection:
            await connection.execute(AMI_EVENT.insert(), row_from_event(received, "bench").params)
    elapsed = time.perf_counter() - started
    stored = await _rows(engine, 2)
    if stored != count:
        raise SystemExit(f"LOST EVENTS: inserted {count}, stored {stored}")
    return count / elapsed


async def run(label: str, url: str, count: int, naive_count: int) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
        rate, append_us = await batched(engine, count)
        baseline = await naive(engine, naive_count)
    finally:
        await engine.dispose()
    print(
        f"{label:<11} EventLog {rate:>9,.0f} events/s durable ({count:,} events, none lost; "
        f"append {append_us:.1f} µs)  |  naive INSERT+commit {baseline:>7,.0f} events/s "
        f"({naive_count:,})  |  ratio x{rate / baseline:.1f}"
    )


async def main(count: int, naive_count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        await run("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db", count, naive_count)
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    try:
        await pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"PostgreSQL  skipped: {PG_ADMIN} not reachable ({exc})")
        return
    try:
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        await run("PostgreSQL", f"{base}/{name}", count, naive_count)
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    asyncio.run(main(*(arguments + [100_000, 3_000][len(arguments) :])))
