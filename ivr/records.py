"""The IVR's tables (migration ``0003_ivr``) and :class:`IvrStore`, their SQLAlchemy implementation.

- ``ivr_call``: one row per call and IVR script (path, choices, verification, where it ended);
  a retried AGI session of the same call overwrites its row.
- ``payment_attempt``: one row per idempotency key (call, contract, option, amount). The row is
  written, status ``pending``, *before* the core system is asked to pay, so a crash between the
  request and its answer leaves a trace that the next session or the start-up reconciliation
  settles by asking again with the same key.
- ``outlet`` and ``outlet_phone``: the SAPA outlet directory (PINs only as salted hashes).

Every write goes through one :class:`~ivr.store_writer.StoreWriter` (group commit): payment
claims and retries are awaited, call rows and payment outcomes are queued (they survive a
hang-up; :meth:`IvrStore.flush` waits for them, and every read here flushes first, so a read
always sees the writes made before it).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.store import create_engine
from ivr.outlet_pins import check_pin
from ivr.ports import CallRow, Outlet, PaymentRow
from ivr.store_writer import StoreWriter

metadata = sa.MetaData()

IVR_CALL = sa.Table(
    "ivr_call",
    metadata,
    sa.Column("pbx", sa.String(), primary_key=True),
    sa.Column("uniqueid", sa.String(), primary_key=True),
    sa.Column("script", sa.String(), primary_key=True),
    sa.Column("linkedid", sa.String(), nullable=True),
    sa.Column("caller_number", sa.String(), nullable=True),
    sa.Column("lang", sa.String(), nullable=False),
    sa.Column("path", sa.Text(), nullable=False),
    sa.Column("choice", sa.String(), nullable=False),
    sa.Column("queue", sa.String(), nullable=False),
    sa.Column("outcome", sa.String(), nullable=False),
    sa.Column("verified", sa.String(), nullable=False),
    sa.Column("customer_no", sa.String(), nullable=False),
    sa.Column("outlet_code", sa.String(), nullable=False),
    sa.Column("ticket_key", sa.String(), nullable=False),
    sa.Column("payment_ref", sa.String(), nullable=False),
    sa.Column("started_at", sa.Double(), nullable=False),
    sa.Column("ended_at", sa.Double(), nullable=False),
)
PAYMENT_ATTEMPT = sa.Table(
    "payment_attempt",
    metadata,
    sa.Column("idempotency_key", sa.String(), primary_key=True),
    sa.Column("pbx", sa.String(), nullable=False),
    sa.Column("uniqueid", sa.String(), nullable=False),
    sa.Column("contract_no", sa.String(), nullable=False),
    sa.Column("option_code", sa.String(), nullable=False),
    sa.Column("amount", sa.BigInteger(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("reference", sa.String(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("tries", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("updated_at", sa.Double(), nullable=False),
)
OUTLET = sa.Table(
    "outlet",
    metadata,
    sa.Column("code", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("region", sa.String(), nullable=False),
    sa.Column("pin_hash", sa.String(), nullable=False),
    sa.Column("updated_at", sa.Double(), nullable=False),
)
OUTLET_PHONE = sa.Table(
    "outlet_phone",
    metadata,
    sa.Column("phone", sa.String(), primary_key=True),
    sa.Column("outlet_code", sa.String(), nullable=False),
)

UNSETTLED = ("pending", "unknown")
"""Payment statuses whose outcome the core system has not given yet: ask again with the same key."""


def dialect_insert(connection: AsyncConnection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _claim_insert(dialect: str) -> sa.Insert:
    # ON CONFLICT DO NOTHING makes a claim atomic: of two sessions (or hotline instances) racing
    # for one key, exactly one inserts; RETURNING says which keys this statement inserted.
    statement = (
        postgresql.insert(PAYMENT_ATTEMPT) if dialect == "postgresql" else sqlite.insert(PAYMENT_ATTEMPT)
    )
    return statement.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
        PAYMENT_ATTEMPT.c.idempotency_key
    )


_CLAIM_INSERTS: Final = {dialect: _claim_insert(dialect) for dialect in ("sqlite", "postgresql")}


async def _claim_all(
    connection: AsyncConnection, claims: Sequence[dict[str, Any]]
) -> list[tuple[PaymentRow, bool]]:
    """Every claim of a batch in two statements, whatever their number; (stored row, created) each."""
    inserted = set(
        (await connection.execute(_CLAIM_INSERTS[connection.dialect.name], list(claims))).scalars()
    )
    keys = {c["idempotency_key"] for c in claims}
    rows = await connection.execute(
        sa.select(PAYMENT_ATTEMPT).where(PAYMENT_ATTEMPT.c.idempotency_key.in_(keys))
    )
    stored = {row.idempotency_key: _payment(row) for row in rows}
    results: list[tuple[PaymentRow, bool]] = []
    for claim in claims:
        key = claim["idempotency_key"]
        # The same key twice in one batch (two sessions of one call): the first one created it.
        results.append((stored[key], key in inserted))
        inserted.discard(key)
    return results


def _payment(row: Any) -> PaymentRow:
    return PaymentRow(
        idempotency_key=row.idempotency_key,
        pbx=row.pbx,
        uniqueid=row.uniqueid,
        contract_no=row.contract_no,
        option_code=row.option_code,
        amount=int(row.amount),
        status=row.status,
        reference=row.reference,
        detail=row.detail,
        tries=int(row.tries),
    )


_SETTLE: Final = (
    sa.update(PAYMENT_ATTEMPT)
    .where(PAYMENT_ATTEMPT.c.idempotency_key == sa.bindparam("key"))
    .values(
        status=sa.bindparam("new_status"),
        reference=sa.bindparam("new_reference"),
        detail=sa.bindparam("new_detail"),
        updated_at=sa.bindparam("at"),
    )
)
_RETRY: Final = (
    sa.update(PAYMENT_ATTEMPT)
    .where(PAYMENT_ATTEMPT.c.idempotency_key == sa.bindparam("key"))
    .values(status="pending", tries=PAYMENT_ATTEMPT.c.tries + 1, updated_at=sa.bindparam("at"))
)


def _call_upsert(dialect: str) -> sa.Insert:
    """``ivr_call`` insert-or-update; a retried session's row replaces the first one's, start excepted."""
    statement = postgresql.insert(IVR_CALL) if dialect == "postgresql" else sqlite.insert(IVR_CALL)
    keys = ("pbx", "uniqueid", "script", "started_at")
    return statement.on_conflict_do_update(
        index_elements=["pbx", "uniqueid", "script"],
        set_={c.name: statement.excluded[c.name] for c in IVR_CALL.columns if c.name not in keys},
    )


_CALL_UPSERTS: Final = {dialect: _call_upsert(dialect) for dialect in ("sqlite", "postgresql")}


@dataclass(frozen=True)
class _Write:
    kind: Literal["call", "claim", "retry", "settle"]
    values: dict[str, Any]
    label: str


class IvrStore:
    """:class:`ivr.ports.Records` on the hotline store (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, *, writer_engine: AsyncEngine | None = None) -> None:
        self.engine = engine
        self._own_engine = writer_engine
        self.writer: StoreWriter[_Write] = StoreWriter(writer_engine or engine, self._execute, name="ivr")

    @classmethod
    def with_own_connection(cls, engine: AsyncEngine) -> IvrStore:
        """An IvrStore whose writer has its own connection to the same database.

        A payment claim is on the caller's path: it must not wait in the shared pool behind
        other features' writes when the store is busy. Reads share ``engine``. An in-memory
        SQLite database cannot be opened twice, so it keeps the one engine.
        """
        database = engine.url.database or ""
        if engine.dialect.name == "sqlite" and (database in ("", ":memory:") or database.startswith("file:")):
            return cls(engine)
        return cls(engine, writer_engine=create_engine(engine.url.render_as_string(hide_password=False)))

    async def flush(self) -> None:
        """Wait until every write made so far is stored (at shutdown, and before each read here)."""
        await self.writer.flush()

    async def close(self) -> None:
        """Flush, then close the writer's own connection if it has one (the shared engine stays open)."""
        await self.flush()
        if self._own_engine is not None:
            await self._own_engine.dispose()

    async def save_call(self, row: CallRow) -> None:
        """Queue the call's row: it returns at once, and the row survives the caller's hang-up."""
        self.writer.defer(_Write("call", asdict(row), f"ivr_call {row.pbx}/{row.uniqueid}"))

    async def claim_payment(self, row: PaymentRow) -> tuple[PaymentRow, bool]:
        now = time.time()
        values = {**asdict(row), "created_at": now, "updated_at": now}
        claimed: tuple[PaymentRow, bool] = await self.writer.write(
            _Write("claim", values, f"payment claim {row.idempotency_key}")
        )
        return claimed

    async def retry_payment(self, idempotency_key: str) -> None:
        values = {"key": idempotency_key, "at": time.time()}
        await self.writer.write(_Write("retry", values, f"payment retry {idempotency_key}"))

    async def settle_payment(self, idempotency_key: str, status: str, reference: str, detail: str) -> None:
        """Queue the outcome (it returns at once). Until it is stored the row reads ``pending``,
        the state in which asking again with the same key is the safe thing to do."""
        values = {
            "key": idempotency_key,
            "new_status": status,
            "new_reference": reference,
            "new_detail": detail[:500],
            "at": time.time(),
        }
        self.writer.defer(_Write("settle", values, f"payment outcome {idempotency_key} {status}"))

    async def _execute(self, connection: AsyncConnection, writes: Sequence[_Write]) -> list[Any]:
        """One batch in one transaction, one statement per kind: outcomes, claims, retries, call rows.

        Each kind in one statement keeps a batch of hundreds to a handful of round trips to the
        database. The order is the one the callers would see: an outcome or a retry is only
        queued after its own claim was committed (an earlier batch, since claims are awaited), so
        a claim of the same key here reads the outcome and is answered from the record; a retry
        marks its row pending again before anything of its new attempt can be queued.
        """
        results: list[Any] = [None] * len(writes)
        settles = [w.values for w in writes if w.kind == "settle"]
        if settles:
            await connection.execute(_SETTLE, settles)
        claims = [n for n, w in enumerate(writes) if w.kind == "claim"]
        if claims:
            claimed = await _claim_all(connection, [writes[n].values for n in claims])
            for n, result in zip(claims, claimed, strict=True):
                results[n] = result
        retries = [w.values for w in writes if w.kind == "retry"]
        if retries:
            await connection.execute(_RETRY, retries)
        calls = [w.values for w in writes if w.kind == "call"]
        if calls:
            await connection.execute(_CALL_UPSERTS[connection.dialect.name], calls)
        return results

    async def payment(self, idempotency_key: str) -> PaymentRow | None:
        await self.flush()
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(PAYMENT_ATTEMPT).where(PAYMENT_ATTEMPT.c.idempotency_key == idempotency_key)
                )
            ).first()
        return None if row is None else _payment(row)

    async def payments_of_call(self, pbx: str, uniqueid: str) -> list[PaymentRow]:
        await self.flush()
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(PAYMENT_ATTEMPT)
                .where(PAYMENT_ATTEMPT.c.pbx == pbx, PAYMENT_ATTEMPT.c.uniqueid == uniqueid)
                .order_by(PAYMENT_ATTEMPT.c.created_at)
            )
            return [_payment(r) for r in rows]

    async def unsettled_payments(self) -> list[PaymentRow]:
        await self.flush()
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(PAYMENT_ATTEMPT)
                .where(PAYMENT_ATTEMPT.c.status.in_(UNSETTLED))
                .order_by(PAYMENT_ATTEMPT.c.created_at)
            )
            return [_payment(r) for r in rows]

    async def call(self, pbx: str, uniqueid: str, script: str) -> dict[str, Any] | None:
        """The ``ivr_call`` row of one call and script, as a dict (for tests and operators)."""
        await self.flush()
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(IVR_CALL).where(
                        IVR_CALL.c.pbx == pbx, IVR_CALL.c.uniqueid == uniqueid, IVR_CALL.c.script == script
                    )
                )
            ).first()
        return None if row is None else dict(row._mapping)

    async def outlet_by_phone(self, phone: str) -> Outlet | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(OUTLET)
                    .join(OUTLET_PHONE, OUTLET_PHONE.c.outlet_code == OUTLET.c.code)
                    .where(OUTLET_PHONE.c.phone == phone)
                )
            ).first()
        return None if row is None else Outlet(row.code, row.name, row.region)

    async def outlet_by_code_and_pin(self, code: str, pin: str) -> Outlet | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(sa.select(OUTLET).where(OUTLET.c.code == code))).first()
        if row is None or not await check_pin(pin, row.pin_hash):
            return None
        return Outlet(row.code, row.name, row.region)
