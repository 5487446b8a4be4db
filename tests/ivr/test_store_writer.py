"""The store's writer: group commit, rows that survive their caller, one bad row alone, flush at stop."""

from __future__ import annotations

import asyncio
import dataclasses

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline import names
from hotline.callcontext import CallContext
from hotline.store import create_engine
from ivr.call import IvrDeps
from ivr.feature import IvrFeature
from ivr.ports import CallRow, PaymentRow
from ivr.records import IvrStore
from ivr.store_writer import StoreWriteError

from .conftest import PBX, MakeIvr
from .fakes import CONTRACT_NO
from .peer import ScriptedCaller


def _call(n: int, **changes: object) -> CallRow:
    row = CallRow(PBX, f"1700000000.{n}", names.AGI_IVR_MAIN, None, None, "id", "main=informasi",
                  "informasi", names.QUEUE_INFORMASI, "routed", started_at=1.0, ended_at=2.0)  # fmt: skip
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def _claim(n: int, **changes: object) -> PaymentRow:
    row = PaymentRow(f"key-{n:08d}", PBX, f"1700000000.{n}", CONTRACT_NO, "PELUNASAN", 5_000, "pending")
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


async def test_concurrent_writes_share_few_transactions(engine: AsyncEngine) -> None:
    store = IvrStore(engine)
    claims = await asyncio.gather(
        *(store.claim_payment(_claim(n)) for n in range(200)),
        *(store.save_call(_call(n)) for n in range(200)),
    )
    assert all(claim[1] for claim in claims[:200])  # type: ignore[index]
    await store.flush()
    assert store.writer.batches <= 3  # 400 writes; the first batch may hold only the first one
    assert all([await store.call(PBX, f"1700000000.{n}", names.AGI_IVR_MAIN) for n in (0, 199)])
    again = await store.claim_payment(_claim(7))
    assert again == (_claim(7), False)


async def test_one_key_twice_in_one_batch_is_created_once(engine: AsyncEngine) -> None:
    store = IvrStore(engine)
    results = await asyncio.gather(*(store.claim_payment(_claim(1)) for _ in range(3)))
    assert [created for _, created in results] == [True, False, False]
    assert store.writer.batches <= 2


async def test_an_outcome_queued_before_a_claim_is_what_the_claim_reads(engine: AsyncEngine) -> None:
    store = IvrStore(engine)
    await store.claim_payment(_claim(1))
    await store.settle_payment("key-00000001", "paid", "2508000001", "")
    stored, created = await store.claim_payment(_claim(1))  # no flush in between
    assert not created and (stored.status, stored.reference) == ("paid", "2508000001")


async def test_a_row_queued_by_a_cancelled_caller_is_still_written(engine: AsyncEngine) -> None:
    store = IvrStore(engine)
    started = asyncio.Event()

    async def session() -> None:
        try:
            started.set()
            await asyncio.sleep(10)
        finally:  # what ivr.flows does when the session ends, hang-up or cancellation alike
            await store.save_call(_call(1, outcome="hangup"))

    task = asyncio.create_task(session())
    await started.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    row = await store.call(PBX, "1700000000.1", names.AGI_IVR_MAIN)
    assert row is not None and row["outcome"] == "hangup"


async def test_a_claim_whose_caller_left_before_its_batch_is_not_stored(engine: AsyncEngine) -> None:
    store = IvrStore(engine)
    first = asyncio.create_task(store.claim_payment(_claim(1)))
    await asyncio.sleep(0)  # the writer now writes claim 1; claim 2 waits for the next batch
    second = asyncio.create_task(store.claim_payment(_claim(2)))
    await asyncio.sleep(0)
    second.cancel()
    await asyncio.gather(first, second, return_exceptions=True)
    assert await store.payment("key-00000001") is not None
    assert await store.payment("key-00000002") is None


async def test_a_bad_row_fails_alone(engine: AsyncEngine) -> None:
    store = IvrStore(engine)
    bad_call = store.save_call(_call(1, lang=None))  # NOT NULL: the database refuses it
    results = await asyncio.gather(
        bad_call,
        store.claim_payment(_claim(2)),
        store.claim_payment(_claim(3, option_code=None)),
        store.save_call(_call(4)),
        return_exceptions=True,
    )
    assert isinstance(results[2], StoreWriteError)
    assert "NOT NULL" in str(results[2]) and CONTRACT_NO not in str(results[2])  # no row values
    assert results[1] == (_claim(2), True)
    await store.flush()
    assert await store.call(PBX, "1700000000.4", names.AGI_IVR_MAIN) is not None
    assert await store.call(PBX, "1700000000.1", names.AGI_IVR_MAIN) is None
    assert store.writer.failures == 1


async def test_stop_flushes_what_calls_left_queued(engine: AsyncEngine) -> None:
    store = IvrStore(engine)
    feature = IvrFeature(records=store)
    feature.deps = IvrDeps(call_context=CallContext(), records=store)
    for n in range(50):
        await store.save_call(_call(n))
    assert store.writer.pending == 50
    await feature.stop()
    assert store.writer.pending == 0
    assert await store.call(PBX, "1700000000.49", names.AGI_IVR_MAIN) is not None


async def test_a_payment_call_hung_up_at_the_read_back_keeps_its_rows(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    caller = ScriptedCaller(keys=[CONTRACT_NO, "1", "1", "1"])
    full = await caller.call(ivr.port, f"{names.AGI_IVR_PAYMENT}?pbx={PBX}")
    read_back = max(n for n, c in enumerate(full.commands, 1) if c.startswith("SAY DIGITS"))
    uniqueid = "1700000000.9"
    await ivr.call(
        names.AGI_IVR_PAYMENT, keys=[CONTRACT_NO, "1", "1", "1"], uniqueid=uniqueid, hangup_at=read_back
    )
    assert ivr.store is not None
    (payment,) = await ivr.store.payments_of_call(PBX, uniqueid)
    assert payment.status == "paid"
    row = await ivr.row(names.AGI_IVR_PAYMENT, uniqueid)
    assert row is not None and (row["outcome"], row["payment_ref"]) == ("hangup", payment.reference)


async def test_the_writer_has_its_own_connection_to_the_same_database(engine: AsyncEngine) -> None:
    store = IvrStore.with_own_connection(engine)
    assert store.writer.engine is not engine
    await store.claim_payment(_claim(1))
    await store.save_call(_call(1))
    await store.close()
    assert await IvrStore(engine).call(PBX, "1700000000.1", names.AGI_IVR_MAIN) is not None
    assert await IvrStore(engine).payment("key-00000001") is not None


async def test_an_in_memory_database_keeps_one_engine() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        assert IvrStore.with_own_connection(engine).writer.engine is engine
    finally:
        await engine.dispose()
