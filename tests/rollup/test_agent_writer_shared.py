"""The service's projection of a committed batch: attempts, KPI rollups and agent spans in one
transaction, nothing lost when it fails; on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.ami.protocol import AmiParser, Event
from hotline.compose import Runtime
from hotline.config import Config, StoreConfig
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, call_span
from hotline.kpi.from_ami import AmiProjector
from hotline.rollup import agent_writer, writer
from hotline.rollup.agent_store import write_spans
from hotline.rollup.agent_tables import agent_session
from hotline.rollup.tables import ALL, NO_AGENT, kpi_rollup, queue_log_import
from hotline.rollup.writer import ATTEMPT

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
PBX = "jkt"


@dataclass(frozen=True)
class Stored:
    """A committed event as the event log hands it to its listeners."""

    pbx: str
    event: Event
    uniqueid: str | None = None
    linkedid: str | None = None

    @property
    def name(self) -> str:
        return self.event.name

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return self.event.headers

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.event.get(key, default)


def capture(name: str) -> list[Stored]:
    raw = (CAPTURES / name / "ami.raw").read_bytes()
    return [Stored(PBX, m) for m in AmiParser().messages(raw) if isinstance(m, Event)]


def member_events_only(events: list[Stored]) -> list[Stored]:
    return [e for e in events if e.name.startswith("QueueMember")]


@pytest.fixture
async def runtime(db_url: str) -> AsyncIterator[Runtime]:
    service = Runtime(Config(store=StoreConfig(url=db_url)), features=[])
    await service.open_store()
    try:
        yield service
    finally:
        await service.engine.dispose()


@pytest.fixture
def commits(runtime: Runtime) -> Iterator[list[int]]:
    """One item per commit on the runtime's engine."""
    seen: list[int] = []

    def count(_connection: Any) -> None:
        seen.append(1)

    event.listen(runtime.engine.sync_engine, "commit", count)
    yield seen
    event.remove(runtime.engine.sync_engine, "commit", count)


async def stored_counts(engine: AsyncEngine) -> tuple[int, int, dict[str, int]]:
    """(attempts, calls offered in the grand total rollup, spans by kind)."""
    everything = (kpi_rollup.c.pbx == ALL, kpi_rollup.c.queue == ALL, kpi_rollup.c.agent == NO_AGENT)
    async with engine.connect() as connection:
        attempts = (await connection.execute(select(func.count()).select_from(ATTEMPT))).scalar_one()
        offered = (
            await connection.execute(select(func.sum(kpi_rollup.c.offered)).where(*everything))
        ).scalar_one()
        kinds = (
            await connection.execute(
                select(agent_session.c.kind, func.count()).group_by(agent_session.c.kind)
            )
        ).all()
    return int(attempts), int(offered or 0), {str(kind): int(n) for kind, n in kinds}


def expected_attempts(events: list[Stored]) -> int:
    projector = AmiProjector()
    for stored in events:
        projector.feed(stored.pbx, stored)
    return len(projector.attempts())


async def test_a_batch_is_projected_in_one_commit(runtime: Runtime, commits: list[int]) -> None:
    batch = capture("answered-hold")
    await runtime._project(batch)
    assert len(commits) == 1  # attempts, rollups and spans together
    attempts, offered, spans = await stored_counts(runtime.engine)
    assert attempts == expected_attempts(batch) and offered == 1
    assert spans[CALL] == 1 and spans[LOGIN] >= 1


async def test_a_batch_of_member_events_only_writes_its_spans(runtime: Runtime, commits: list[int]) -> None:
    batch = member_events_only(capture("actions"))
    assert batch
    await runtime._project(batch)
    assert len(commits) == 1
    attempts, offered, spans = await stored_counts(runtime.engine)
    assert (attempts, offered) == (0, 0)
    assert spans.get(LOGIN, 0) >= 1 and spans.get(PAUSE, 0) >= 1
    await runtime._project(batch)  # the same facts again: nothing to write, no transaction
    assert len(commits) == 1


async def test_a_failed_transaction_keeps_attempts_and_spans_for_the_next_batch(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = capture("answered-hold")
    real = writer._add_rollups

    async def refused(*args: Any) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(writer, "_add_rollups", refused)
    with pytest.raises(RuntimeError):
        await runtime._project(batch)
    assert await stored_counts(runtime.engine) == (0, 0, {})  # rolled back: nothing half-written
    monkeypatch.setattr(writer, "_add_rollups", real)
    await runtime._project([])  # the next batch, with nothing of its own
    attempts, offered, spans = await stored_counts(runtime.engine)
    assert attempts == expected_attempts(batch) and offered == 1
    assert spans[CALL] == 1 and spans[LOGIN] >= 1
    await runtime._project(batch)  # and the same events once more add nothing
    assert await stored_counts(runtime.engine) == (attempts, offered, spans)


async def test_failing_spans_do_not_hold_back_the_rollups(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = capture("answered-hold")
    calls: list[int] = []

    async def refused(*args: Any) -> int:
        calls.append(1)
        raise RuntimeError("agent_session is locked")

    monkeypatch.setattr("hotline.rollup.agent_writer.write_spans", refused)
    await runtime._project(batch)  # the attempts and rollups commit all the same
    assert calls == [1]
    assert runtime.rollups is not None and runtime.rollups.shared_errors == 1
    attempts, offered, spans = await stored_counts(runtime.engine)
    assert attempts == expected_attempts(batch) and offered == 1 and spans == {}
    monkeypatch.setattr("hotline.rollup.agent_writer.write_spans", write_spans)
    await runtime._project([])  # the spans kept go with the next batch
    assert (await stored_counts(runtime.engine))[2][CALL] == 1
    assert not runtime.agent_sessions.pending()


async def test_an_unchanged_call_span_is_not_sent_again(runtime: Runtime) -> None:
    batch = capture("answered-hold")
    sent: list[str] = []

    async def recording(connection: Any, upserts: Any, deletes: Any = ()) -> int:
        upserts = list(upserts)
        sent.extend(span.kind for span in upserts)
        return await write_spans(connection, upserts, deletes)

    sessions = runtime.agent_sessions
    projector = AmiProjector()
    answered = [a for e in batch for a in projector.feed(e.pbx, e) if a.agent]
    spans = [call_span(attempt) for attempt in answered]
    changes = sum(1 for before, now in zip([None, *spans], spans, strict=False) if now != before)
    assert len(answered) > changes  # the attempt changes after the answer (a hold) but not its span
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("hotline.rollup.agent_writer.write_spans", recording)
        for attempt in answered:
            await sessions.project(runtime.engine, [], [attempt])
            await sessions.project(runtime.engine, [], [attempt])  # emitted again (a replay)
    assert sent.count(CALL) == changes


async def test_a_write_committed_between_the_read_and_the_write_is_no_conflict(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored attempts are read on the writing connection but before its write transaction
    begins, so another connection's commit in between (the event log's next batch) cannot turn
    the write into a stale-snapshot upgrade, which SQLite refuses at once."""
    read = writer._stored_attempts
    other_writes: list[int] = []

    async def read_then_someone_writes(connection: Any, calls: Any) -> Any:
        found = await read(connection, calls)
        row = {"pbx": PBX, "path": f"/q{len(other_writes)}", "size": 0, "sha256": "", "lines": 0}
        async with runtime.engine.begin() as other:
            await other.execute(queue_log_import.insert().values(**row, attempts=0, imported_at=0.0))
        other_writes.append(1)
        return found

    monkeypatch.setattr(writer, "_stored_attempts", read_then_someone_writes)
    batch = capture("answered-hold")
    await runtime._project(batch)
    assert other_writes == [1]
    attempts, offered, _ = await stored_counts(runtime.engine)
    assert attempts == expected_attempts(batch) and offered == 1


async def test_a_call_the_database_always_refuses_is_dropped_alone_after_repeated_failures(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poison row must not hold back every later batch: after POISON_AFTER failed transactions
    the kept calls are written one per transaction and only the one refused alone is dropped."""
    poison, healthy = capture("answered-hold"), capture("abandon")
    poison_ids = {e.get("Uniqueid") for e in poison} - {None}
    real = writer._upsert_attempts

    async def refusing(connection: Any, attempts: list[Any]) -> None:
        if any(a.call_id in poison_ids for a in attempts):
            raise RuntimeError("CHECK constraint failed")
        await real(connection, attempts)

    monkeypatch.setattr(writer, "_upsert_attempts", refusing)
    assert runtime.rollups is not None
    for number in range(1, writer.POISON_AFTER):
        with pytest.raises(RuntimeError):
            await runtime._project(poison if number == 1 else healthy)
        assert (await stored_counts(runtime.engine))[:2] == (0, 0)  # still kept, nothing dropped
    with pytest.raises(RuntimeError):
        await runtime._project([])
    assert runtime.rollups.dropped_attempts == expected_attempts(poison)
    attempts, offered, _ = await stored_counts(runtime.engine)
    assert attempts == expected_attempts(healthy) and offered == 1  # the healthy call got through
    await runtime._project([])  # and later batches go on as usual
    assert (await stored_counts(runtime.engine))[:2] == (attempts, offered)


async def test_nothing_is_dropped_when_the_database_refuses_everything(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = capture("answered-hold")
    real = writer._upsert_attempts

    async def away(connection: Any, attempts: list[Any]) -> None:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(writer, "_upsert_attempts", away)
    for _ in range(writer.POISON_AFTER + 2):
        with pytest.raises(RuntimeError):
            await runtime._project(batch)
    assert runtime.rollups is not None and runtime.rollups.dropped_attempts == 0
    monkeypatch.setattr(writer, "_upsert_attempts", real)
    await runtime._project([])  # the database is back: everything kept is written
    attempts, offered, _ = await stored_counts(runtime.engine)
    assert attempts == expected_attempts(batch) and offered == 1


async def test_a_span_the_database_always_refuses_is_dropped_alone(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = capture("answered-hold")

    async def refusing(connection: Any, upserts: Any, deletes: Any = ()) -> int:
        upserts = list(upserts)
        if any(span.kind == CALL for span in upserts):
            raise RuntimeError("agent_session refuses call spans")
        return await write_spans(connection, upserts, deletes)

    monkeypatch.setattr("hotline.rollup.agent_writer.write_spans", refusing)
    await runtime._project(batch)
    for _ in range(writer.POISON_AFTER - 1):
        await runtime._project([])
    assert runtime.agent_sessions.dropped == 1  # the call span, alone
    assert not runtime.agent_sessions.pending()
    spans = (await stored_counts(runtime.engine))[2]
    assert CALL not in spans and spans[LOGIN] >= 1  # the logins were written one by one


async def test_a_call_refused_for_a_passing_reason_is_never_dropped(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock held too long is no poison: salvage stops at it and keeps every row."""
    from sqlalchemy.exc import OperationalError

    locked, healthy = capture("answered-hold"), capture("abandon")
    locked_ids = {e.get("Uniqueid") for e in locked} - {None}
    real = writer._upsert_attempts

    async def busy(connection: Any, attempts: list[Any]) -> None:
        if any(a.call_id in locked_ids for a in attempts):
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        await real(connection, attempts)

    monkeypatch.setattr(writer, "_upsert_attempts", busy)
    for batch in (locked, healthy, *[[]] * writer.POISON_AFTER):
        with pytest.raises(OperationalError):
            await runtime._project(batch)
    assert runtime.rollups is not None and runtime.rollups.dropped_attempts == 0
    monkeypatch.setattr(writer, "_upsert_attempts", real)
    await runtime._project([])  # the lock is gone: both calls are written
    attempts, offered, _ = await stored_counts(runtime.engine)
    assert attempts == expected_attempts(locked) + expected_attempts(healthy) and offered == 2


async def test_a_failed_seed_loses_neither_the_attempts_nor_the_member_events(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = capture("answered-hold")
    real = agent_writer.open_spans

    async def away(engine: Any) -> Any:
        raise OSError("connection refused")

    monkeypatch.setattr(agent_writer, "open_spans", away)
    await runtime._project(batch)  # the agent sessions can't start: the attempts still go in
    attempts, offered, spans = await stored_counts(runtime.engine)
    assert attempts == expected_attempts(batch) and offered == 1 and spans == {}
    monkeypatch.setattr(agent_writer, "open_spans", real)
    await runtime._project([])  # seeded now: the first batch's member events and call come through
    spans = (await stored_counts(runtime.engine))[2]
    assert spans[CALL] == 1 and spans[LOGIN] >= 1
