"""The durable event log: batching, order, UTF-8, duplicates, listeners after commit, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.ami.protocol import Event
from hotline.store import EventLog, StoredEvent, capture_session_id, create_engine, iter_events
from hotline.store.events import AMI_EVENT

MakeEvent = Callable[..., Any]


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(AMI_EVENT))).scalar_one())


async def _stored(engine: AsyncEngine, **filters: Any) -> list[StoredEvent]:
    return [event async for event in iter_events(engine, **filters)]


async def test_batched_appends_are_durable_after_flush(engine: AsyncEngine, make_event: MakeEvent) -> None:
    log = EventLog(engine, "s1", batch_size=100, flush_interval=30.0)
    await log.start()
    for seq in range(250):
        log.append(make_event(seq))
    async with asyncio.timeout(5):  # flush does not wait for flush_interval
        await log.flush()
    # A second engine (new connections) sees every event: committed, not merely buffered.
    other = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        assert await _count(other) == 250
    finally:
        await other.dispose()
    stats = log.stats()
    await log.stop()
    assert stats["appended_total"] == stats["written_total"] == 250
    assert stats["batches_total"] == 3 and stats["backlog"] == 0 and stats["write_errors_total"] == 0


async def test_a_real_capture_round_trips_in_order_with_utf8(
    engine: AsyncEngine, make_event: MakeEvent, capture_events: Callable[[str], list[Event]]
) -> None:
    events = capture_events("answered-hold")
    log = EventLog(engine, "s1")
    await log.start()
    for seq, event in enumerate(events):
        log.append(make_event(seq, event=event))
    await log.stop()
    stored = await _stored(engine)
    assert [s.headers for s in stored] == [e.headers for e in events]
    assert [s.name for s in stored] == [e.name for e in events]
    assert "Śantoso Wibowo" in {s.get("CallerIDName") for s in stored}
    join = next(s for s in stored if s.name == "QueueCallerJoin")
    assert join.as_event() == next(e for e in events if e.name == "QueueCallerJoin")
    assert join.uniqueid == join.get("Uniqueid") and join.linkedid == join.get("Linkedid")
    assert join.event_ts == float(join.get("Timestamp") or "nan")


async def test_repeated_keys_order_and_odd_values_are_kept(
    engine: AsyncEngine, make_event: MakeEvent
) -> None:
    headers = (
        ("Event", "VarSet"),
        ("ChanVariable", "B=2"),
        ("ChanVariable", "A=1"),
        ("Output", "line: with colon"),
        ("Output", ""),
        ("CallerIDName", 'Śantoso "Budi" 🙂 \\ \t'),
        ("Uniqueid", "id\x00with-nul"),
        ("Timestamp", "not-a-number"),
    )
    log = EventLog(engine, "s1")
    await log.start()
    log.append(make_event(1, event=Event(headers)))
    await log.stop()
    (stored,) = await _stored(engine)
    assert stored.headers == headers
    assert stored.uniqueid == "idwith-nul"  # the indexed copy drops NUL (PostgreSQL text cannot hold it)
    assert stored.event_ts is None


async def test_duplicates_are_ignored_and_not_passed_to_listeners(
    engine: AsyncEngine, make_event: MakeEvent
) -> None:
    seen: list[int] = []

    async def listener(batch: list[StoredEvent]) -> None:
        seen.extend(event.seq for event in batch)

    log = EventLog(engine, "s1", batch_size=4)
    log.add_listener(listener)
    await log.start()
    for seq in range(10):
        log.append(make_event(seq))
    await log.flush()
    for seq in range(5, 15):  # 5..9 again, as a reconnecting client might resend
        log.append(make_event(seq))
    await log.stop()
    assert await _count(engine) == 15
    assert seen == list(range(15))
    assert log.stats()["duplicates_total"] == 5


async def test_ingesting_the_same_capture_twice_adds_nothing(
    engine: AsyncEngine, make_event: MakeEvent, capture_events: Callable[[str], list[Event]]
) -> None:
    events = capture_events("abandon")
    session = capture_session_id(b"the bytes of abandon/ami.raw")
    for _ in range(2):
        log = EventLog(engine, session)
        await log.start()
        for seq, event in enumerate(events):
            log.append(make_event(seq, event=event))
        await log.stop()
    assert await _count(engine) == len(events)


async def test_listeners_run_after_commit_and_a_failing_one_stops_nothing(
    engine: AsyncEngine, make_event: MakeEvent
) -> None:
    visible: list[int] = []

    async def broken(batch: list[StoredEvent]) -> None:
        raise RuntimeError("projection bug")

    async def check_committed(batch: list[StoredEvent]) -> None:
        # Read through another connection: only committed rows are visible there.
        ids = [event.id for event in batch]
        async with engine.connect() as connection:
            found = (
                await connection.execute(select(AMI_EVENT.c.id).where(AMI_EVENT.c.id.in_(ids)))
            ).scalars()
            visible.extend(sorted(found))
        assert ids == sorted(ids)

    log = EventLog(engine, "s1", batch_size=10)
    log.add_listener(broken)
    log.add_listener(check_committed)
    await log.start()
    for seq in range(35):
        log.append(make_event(seq))
    await log.stop()
    assert len(visible) == 35
    assert log.stats()["listener_errors_total"] == 4


async def test_append_keeps_going_while_the_writer_writes(engine: AsyncEngine, make_event: MakeEvent) -> None:
    async def slow_projection(batch: list[StoredEvent]) -> None:
        await asyncio.sleep(0.002)

    log = EventLog(engine, "s1", batch_size=64, flush_interval=0.001)
    log.add_listener(slow_projection)
    await log.start()

    async def produce(connection: int) -> None:
        for seq in range(600):
            log.append(make_event(seq, connection=connection))
            if seq % 37 == 0:
                await asyncio.sleep(0)

    await asyncio.gather(*(produce(connection) for connection in range(1, 5)))
    await log.stop()
    stored = await _stored(engine, batch=500)
    assert len(stored) == 2400
    for connection in range(1, 5):
        assert [s.seq for s in stored if s.connection == connection] == list(range(600))


async def test_iter_events_filters_and_pages(engine: AsyncEngine, make_event: MakeEvent) -> None:
    log = EventLog(engine, "s1")
    await log.start()
    for seq in range(30):
        log.append(make_event(seq, pbx="jkt" if seq % 2 else "sby"))
    await log.stop()
    jakarta = await _stored(engine, pbx="jkt", batch=4)
    assert [s.seq for s in jakarta] == list(range(1, 30, 2))
    window = await _stored(engine, since=1_700_000_000.010, until=1_700_000_000.020, batch=3)
    assert [s.seq for s in window] == list(range(10, 20))


async def test_bad_input_is_refused_at_append(engine: AsyncEngine) -> None:
    log = EventLog(engine, "s1")
    with pytest.raises(TypeError, match="not an AMI event"):
        log.append(object())  # type: ignore[arg-type]
    assert log.stats()["appended_total"] == 0
    await log.flush()  # nothing appended: nothing to wait for, even before start()


async def test_flush_before_start_is_a_clear_error(engine: AsyncEngine, make_event: MakeEvent) -> None:
    log = EventLog(engine, "s1")
    log.append(make_event(1))
    with pytest.raises(RuntimeError, match="start"):
        await log.flush()
    await log.start()
    await log.stop()
    assert await _count(engine) == 1
