"""AMI events -> durable event log + queue attempts + KPI rollups: sustained events/s, nothing lost.

The stream is every real Asterisk 22 capture that holds queue calls, repeated with fresh Uniqueids
and Linkedids (and timestamps, member login and pause times moved on a minute per copy), so each
copy is a distinct set of calls. It is fed to the components ``hotline serve`` runs (an
:class:`EventLog` whose listener is the Runtime's ``_project``: projector, then attempts, KPI
rollups and agent sessions in one transaction) 100 events per event-loop turn, as the AMI reader
hands them over. At the end the bench counts the stored events, attempts and offered calls: a lost
event or call fails the run. The peer is the event log alone (no projection) in the same run.
Targets: >= 30,000 events/s on SQLite.

The event log's batch size is HOTLINE_BENCH_BATCH (default: the ``[store] batch_size``
default). Usage: ``.venv/bin/python bench/bench_pipeline.py [events]`` (PostgreSQL on HOTLINE_BENCH_PG,
default postgresql://postgres@127.0.0.1:5432/test, when reachable).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from _pg import PG_ADMIN, pg_admin
from sqlalchemy import func, select

from hotline.ami.protocol import AmiParser, Event
from hotline.compose import Runtime
from hotline.config import Config, StoreConfig
from hotline.kpi.from_ami import AmiProjector
from hotline.logs import configure as configure_logs
from hotline.rollup.tables import ALL, NO_AGENT, kpi_rollup
from hotline.rollup.writer import ATTEMPT
from hotline.store.events import AMI_EVENT

CAPTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "asterisk22"
COPY_SPACING_S = 60
CAPTURED_AROUND = 1_795_000_000
"""The captures were made shortly after this second; copies are moved from it to a week ago."""
MEMBER_TIMES = frozenset({"LoginTime", "LastPause"})
"""Whole-second times in queue member events (0: never)."""
BATCH = int(os.environ.get("HOTLINE_BENCH_BATCH", str(StoreConfig().batch_size)))


@dataclass(frozen=True, slots=True)
class Received:
    pbx: str
    connection: int
    seq: int
    received_at: float
    event: Event


def _is_id(key: str) -> bool:
    low = key.lower()
    return low.endswith("uniqueid") or low.endswith("linkedid")


def _template() -> tuple[list[Event], int, int]:
    """Every capture with queue calls, one after the other; and the attempts and calls one copy makes."""
    events: list[Event] = []
    for folder in sorted(CAPTURES.iterdir()):
        raw = folder / "ami.raw"
        if raw.is_file() and b"QueueCallerJoin" in raw.read_bytes():
            events += [m for m in AmiParser().messages(raw.read_bytes()) if isinstance(m, Event)]
    projector = AmiProjector()
    for event in events:
        projector.feed("bench", event)
    attempts = projector.attempts()
    return events, len(attempts), len({a.call_id for a in attempts})


def _stream(template: list[Event], count: int) -> list[Received]:
    """``count`` events: copies of ``template`` with their own ids and times."""
    base = int(time.time()) - 7 * 86400
    out: list[Received] = []
    copy = 0
    while len(out) < count:
        shift = base + copy * COPY_SPACING_S - CAPTURED_AROUND
        for event in template:
            headers = []
            for key, value in event.headers:
                if _is_id(key) and value:
                    value = f"{value}-{copy}"
                elif key == "Timestamp":
                    value = f"{float(value) + shift:.6f}"
                elif key in MEMBER_TIMES and value.isdigit() and int(value) > 0:
                    value = str(int(value) + shift)  # a member's login and pause move with its events
                headers.append((key, value))
            stamp = float(dict(headers).get("Timestamp", base))
            out.append(Received("bench", 1, len(out) + 1, stamp, Event(tuple(headers))))
        copy += 1
    return out


async def _count(runtime: Runtime) -> tuple[int, int, int]:
    async with runtime.engine.connect() as connection:
        events = (await connection.execute(select(func.count()).select_from(AMI_EVENT))).scalar_one()
        attempts = (await connection.execute(select(func.count()).select_from(ATTEMPT))).scalar_one()
        # The grand total rows (every PBX, queue and agent) count each call once.
        everything = (kpi_rollup.c.pbx == ALL, kpi_rollup.c.queue == ALL, kpi_rollup.c.agent == NO_AGENT)
        offered = (
            await connection.execute(select(func.sum(kpi_rollup.c.offered)).where(*everything))
        ).scalar_one()
    return int(events), int(attempts), int(offered or 0)


async def _feed(url: str, events: list[Received], *, project: bool) -> float:
    """Events/s from the first append until everything is committed (and projected)."""
    runtime = Runtime(Config(store=StoreConfig(url=url, batch_size=BATCH)), features=[])
    await runtime.open_store()
    assert runtime.eventlog is not None
    if not project:
        runtime.eventlog._listeners.clear()  # the peer: the durable log alone
    await runtime.eventlog.start()
    started = time.perf_counter()
    for start in range(0, len(events), 100):
        for item in events[start : start + 100]:
            runtime.eventlog.append(item)
        await asyncio.sleep(0)
    await runtime.eventlog.flush()
    elapsed = time.perf_counter() - started
    await runtime.eventlog.stop()
    stored, attempts, offered = await _count(runtime)
    await runtime.engine.dispose()
    if stored != len(events):
        raise SystemExit(f"LOST EVENTS: appended {len(events)}, stored {stored}")
    if project:
        expected_attempts, expected_calls = _EXPECTED
        if (attempts, offered) != (expected_attempts, expected_calls):
            raise SystemExit(
                f"LOST CALLS: expected {expected_attempts} attempts / {expected_calls} calls, "
                f"stored {attempts} / {offered}"
            )
    return len(events) / elapsed


_EXPECTED = (0, 0)


async def _parts(url: str, events: list[Received]) -> tuple[float, float]:
    """Events/s of the projector alone (memory) and of the rollup writer alone (per event projected)."""
    projector = AmiProjector()
    batches: list[list[object]] = []
    started = time.perf_counter()
    for start in range(0, len(events), BATCH):
        changed: dict[object, object] = {}
        for item in events[start : start + BATCH]:
            changed.update((a.key, a) for a in projector.feed(item.pbx, item.event))
        batches.append(list(changed.values()))
    projecting = len(events) / (time.perf_counter() - started)
    runtime = Runtime(Config(store=StoreConfig(url=url)), features=[])
    await runtime.open_store()
    assert runtime.rollups is not None
    started = time.perf_counter()
    for batch in batches:
        await runtime.rollups.apply(runtime.engine, batch)
    writing = len(events) / (time.perf_counter() - started)
    await runtime.engine.dispose()
    return projecting, writing


async def run(label: str, make_url: object, events: list[Received]) -> None:
    urls = [await make_url() for _ in range(3)]  # type: ignore[operator]
    full = await _feed(urls[0], events, project=True)
    log_only = await _feed(urls[1], events, project=False)
    projecting, writing = await _parts(urls[2], events)
    expected_attempts, expected_calls = _EXPECTED
    print(
        f"{label:<11} log + projection + rollups {full:>9,.0f} events/s ({len(events):,} events, "
        f"{expected_calls:,} calls, {expected_attempts:,} attempts, none lost; batch {BATCH})  |  event log "
        f"alone {log_only:>9,.0f} events/s  |  ratio x{full / log_only:.2f}  |  parts: projector "
        f"{projecting:,.0f}/s, attempts+rollups writer {writing:,.0f} events/s"
    )


async def main(count: int) -> None:
    global _EXPECTED
    template, attempts, calls = _template()
    events = _stream(template, count)
    copies = -(-len(events) // len(template))
    _EXPECTED = (attempts * copies, calls * copies)
    with tempfile.TemporaryDirectory() as folder:
        names = iter(range(3))

        async def sqlite_url() -> str:
            return f"sqlite+aiosqlite:///{folder}/bench{next(names)}.db"

        await run("SQLite", sqlite_url, events)
    created: list[str] = []

    async def pg_url() -> str:
        name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
        await pg_admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return f"{PG_ADMIN.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"

    try:
        await pg_admin("SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"PostgreSQL  skipped: {PG_ADMIN} not reachable ({exc})")
        return
    try:
        await run("PostgreSQL", pg_url, events)
    finally:
        for name in created:
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    configure_logs("error", "json")
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
