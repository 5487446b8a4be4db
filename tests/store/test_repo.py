"""Queue attempts and call context, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.store import (
    StoreError,
    create_engine,
    get_call_context,
    get_call_context_by_linkedid,
    load_attempts,
    set_call_context,
    upsert_attempts,
)


@dataclass(slots=True)
class Attempt:
    """Shaped like the KPI package's QueueAttempt (the store does not import it)."""

    pbx: str = "jkt"
    call_id: str = "1700000000.1"
    attempt: int = 1
    queue: str = "cc-informasi"
    linkedid: str | None = "1700000000.1"
    caller_number: str | None = "081234567890"
    entered_at: float = 1_700_000_000.0
    position: int | None = 1
    outcome: str = "waiting"
    ended_at: float | None = None
    wait_s: float | None = None
    agent: str | None = None
    agent_interface: str | None = None
    connected_at: float | None = None
    handle_s: float | None = None
    hold_s: float | None = None
    completed_by: str | None = None
    transfer_target: str | None = None
    ring_no_answer: int = 0
    source: str = "ami"
    completed_from: str | None = None


async def test_attempts_are_upserted_on_their_identity(engine: AsyncEngine) -> None:
    waiting = Attempt()
    answered = replace(
        waiting, outcome="answered", ended_at=1_700_000_100.5, wait_s=7.25, agent="Siti Rahma",
        agent_interface="PJSIP/1001", connected_at=1_700_000_007.25, handle_s=93.25, hold_s=12.0,
        completed_by="caller", ring_no_answer=1,
    )  # fmt: skip
    from_queue_log = asdict(
        replace(answered, source="queue_log", linkedid=None, agent_interface=None, hold_s=None)
    )
    transferred = replace(waiting, attempt=2, queue="cc-pengaduan", entered_at=1_700_000_101.0)
    assert await upsert_attempts(engine, [waiting]) == 1
    assert await upsert_attempts(engine, [answered, from_queue_log, transferred]) == 3
    rows = await load_attempts(engine)
    assert rows == [asdict(answered), from_queue_log, asdict(transferred)]


async def test_load_attempts_filters(engine: AsyncEngine) -> None:
    attempts = [
        Attempt(call_id=f"c{n}", entered_at=1_700_000_000.0 + n, pbx="jkt" if n % 2 else "sby")
        for n in range(10)
    ]
    attempts.append(Attempt(call_id="c3", entered_at=1_700_000_003.0, source="queue_log"))
    await upsert_attempts(engine, attempts)
    window = await load_attempts(engine, since=1_700_000_002.0, until=1_700_000_005.0, source="ami")
    assert [row["call_id"] for row in window] == ["c2", "c3", "c4"]
    jakarta = await load_attempts(engine, pbx="jkt", source="ami")
    assert [row["call_id"] for row in jakarta] == ["c1", "c3", "c5", "c7", "c9"]
    assert await upsert_attempts(engine, []) == 0


async def test_an_attempt_missing_a_field_is_a_clear_error(engine: AsyncEngine) -> None:
    incomplete = asdict(Attempt())
    del incomplete["outcome"], incomplete["ring_no_answer"]
    with pytest.raises(TypeError, match="queue attempt lacks outcome, ring_no_answer"):
        await upsert_attempts(engine, [incomplete])


async def test_call_context_is_merged_per_key(engine: AsyncEngine) -> None:
    await set_call_context(
        engine, "jkt", "1700000000.1", {"menu": "1", "path": "gadai"}, linkedid="1700000000.1"
    )
    await set_call_context(engine, "jkt", "1700000000.1", {"menu": "2", "nama": "Śantoso Wibowo"})
    await set_call_context(engine, "sby", "1700000000.1", {"menu": "9"})
    await set_call_context(engine, "jkt", "1700000000.1", {})
    context = await get_call_context(engine, "jkt", "1700000000.1")
    assert context == {"menu": "2", "path": "gadai", "nama": "Śantoso Wibowo"}
    assert await get_call_context(engine, "jkt", "unknown") == {}
    # A key written without a linkedid keeps the one known before; a new key without one has none.
    assert await get_call_context_by_linkedid(engine, "jkt", "1700000000.1") == {"menu": "2", "path": "gadai"}


async def test_call_context_over_legs_of_one_call(engine: AsyncEngine) -> None:
    await set_call_context(engine, "jkt", "leg-a", {"verified": "no", "menu": "1"}, linkedid="call-1")
    await set_call_context(engine, "jkt", "leg-b", {"verified": "yes"}, linkedid="call-1")
    assert await get_call_context_by_linkedid(engine, "jkt", "call-1") == {"verified": "yes", "menu": "1"}


async def test_an_unreachable_database_is_a_store_error(closed_port: int) -> None:
    engine = create_engine(f"postgresql+asyncpg://app:hunter2@127.0.0.1:{closed_port}/hotline")
    try:
        with pytest.raises(StoreError, match="cannot read call context") as caught:
            await get_call_context(engine, "jkt", "1")
    finally:
        await engine.dispose()
    assert "hunter2" not in str(caught.value)
