"""The IVR's tables on SQLite and PostgreSQL: call rows upsert, payment claims are atomic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.store import create_engine, migrate
from ivr.ports import CallRow, PaymentRow
from ivr.records import IvrStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/records.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[IvrStore]:
    """An IvrStore on a migrated database."""
    engine = create_engine(db_url)
    await migrate(engine)
    yield IvrStore(engine)
    await engine.dispose()


def _row(**changes: object) -> CallRow:
    base = CallRow("jakarta", "1.1", "ivr/main", "1.1", "0812", "id", "main=informasi", "informasi",
                   "cc-informasi", "routed", started_at=10.0, ended_at=12.0)  # fmt: skip
    return CallRow(**{**base.__dict__, **changes})  # type: ignore[arg-type]


async def test_call_rows_upsert_and_keep_their_start(db: IvrStore) -> None:
    await db.save_call(_row())
    await db.save_call(_row(started_at=20.0, ticket_key="ARN-1", outcome="hangup"))
    row = await db.call("jakarta", "1.1", "ivr/main")
    assert row is not None and (row["started_at"], row["ticket_key"], row["outcome"]) == (
        10.0,
        "ARN-1",
        "hangup",
    )


async def test_concurrent_claims_of_one_key_create_one_row(db: IvrStore) -> None:
    claim = PaymentRow("k" * 32, "jakarta", "1.1", "1012", "PELUNASAN", 5_000_000, "pending")
    results = await asyncio.gather(*(db.claim_payment(claim) for _ in range(5)))
    assert sorted(created for _, created in results) == [False, False, False, False, True]
    await db.retry_payment(claim.idempotency_key)
    await db.settle_payment(claim.idempotency_key, "paid", "2508000001", "")
    stored = await db.payment(claim.idempotency_key)
    assert stored is not None and (stored.status, stored.tries, stored.amount) == ("paid", 2, 5_000_000)
    assert await db.unsettled_payments() == []


async def test_a_batch_of_claims_creates_each_key_once_and_a_bad_row_fails_alone(db: IvrStore) -> None:
    def claim(n: int, contract_no: object = "1012") -> PaymentRow:
        return PaymentRow(f"key-{n:04d}", "jakarta", f"1.{n}", contract_no, "PELUNASAN", 5_000, "pending")  # type: ignore[arg-type]

    writes = [db.claim_payment(claim(n % 40)) for n in range(60)]  # keys 0-19 claimed twice
    results = await asyncio.gather(
        *writes, db.claim_payment(claim(99, contract_no=None)), return_exceptions=True
    )
    assert isinstance(results[-1], Exception)  # NOT NULL refused this one, the others went through
    created = [r[1] for r in results[:-1]]  # type: ignore[index]
    assert created == [True] * 40 + [False] * 20
    await db.save_call(_row(uniqueid="1.1"))
    await db.save_call(_row(uniqueid="1.2", lang=None))  # refused alone
    assert await db.call("jakarta", "1.1", "ivr/main") is not None
    assert await db.call("jakarta", "1.2", "ivr/main") is None
    assert db.writer.failures == 1
