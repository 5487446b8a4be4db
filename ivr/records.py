"""The IVR's tables (migration ``0003_ivr``) and :class:`IvrStore`, their SQLAlchemy implementation.

- ``ivr_call``: one row per call and IVR script (path, choices, verification, where it ended);
  a retried AGI session of the same call overwrites its row.
- ``payment_attempt``: one row per idempotency key (call, contract, option, amount). The row is
  written, status ``pending``, *before* the core system is asked to pay, so a crash between the
  request and its answer leaves a trace that the next session or the start-up reconciliation
  settles by asking again with the same key.
- ``outlet`` and ``outlet_phone``: the SAPA outlet directory (PINs only as salted hashes).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ivr.outlet_pins import check_pin
from ivr.ports import CallRow, Outlet, PaymentRow

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


class IvrStore:
    """:class:`ivr.ports.Records` on the hotline store (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def save_call(self, row: CallRow) -> None:
        values = asdict(row)
        async with self.engine.begin() as connection:
            statement = dialect_insert(connection, IVR_CALL)
            keep_started = {"started_at": IVR_CALL.c.started_at}  # the first session's start stays
            statement = statement.on_conflict_do_update(
                index_elements=["pbx", "uniqueid", "script"],
                set_={
                    **{k: statement.excluded[k] for k in values if k not in ("pbx", "uniqueid", "script")},
                    **keep_started,
                },
            )
            await connection.execute(statement, values)

    async def claim_payment(self, row: PaymentRow) -> tuple[PaymentRow, bool]:
        now = time.time()
        values = {**asdict(row), "created_at": now, "updated_at": now}
        async with self.engine.begin() as connection:
            # ON CONFLICT DO NOTHING makes the claim atomic: of two sessions racing for one key,
            # exactly one inserts; the other reads the winner's row.
            statement = dialect_insert(connection, PAYMENT_ATTEMPT).on_conflict_do_nothing(
                index_elements=["idempotency_key"]
            )
            result = await connection.execute(statement, values)
            created = result.rowcount == 1
            stored = (
                await connection.execute(
                    sa.select(PAYMENT_ATTEMPT).where(PAYMENT_ATTEMPT.c.idempotency_key == row.idempotency_key)
                )
            ).one()
        return _payment(stored), created

    async def retry_payment(self, idempotency_key: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                sa.update(PAYMENT_ATTEMPT)
                .where(PAYMENT_ATTEMPT.c.idempotency_key == idempotency_key)
                .values(status="pending", tries=PAYMENT_ATTEMPT.c.tries + 1, updated_at=time.time())
            )

    async def settle_payment(self, idempotency_key: str, status: str, reference: str, detail: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                sa.update(PAYMENT_ATTEMPT)
                .where(PAYMENT_ATTEMPT.c.idempotency_key == idempotency_key)
                .values(status=status, reference=reference, detail=detail[:500], updated_at=time.time())
            )

    async def payment(self, idempotency_key: str) -> PaymentRow | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(PAYMENT_ATTEMPT).where(PAYMENT_ATTEMPT.c.idempotency_key == idempotency_key)
                )
            ).first()
        return None if row is None else _payment(row)

    async def payments_of_call(self, pbx: str, uniqueid: str) -> list[PaymentRow]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(PAYMENT_ATTEMPT)
                .where(PAYMENT_ATTEMPT.c.pbx == pbx, PAYMENT_ATTEMPT.c.uniqueid == uniqueid)
                .order_by(PAYMENT_ATTEMPT.c.created_at)
            )
            return [_payment(r) for r in rows]

    async def unsettled_payments(self) -> list[PaymentRow]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(PAYMENT_ATTEMPT)
                .where(PAYMENT_ATTEMPT.c.status.in_(UNSETTLED))
                .order_by(PAYMENT_ATTEMPT.c.created_at)
            )
            return [_payment(r) for r in rows]

    async def call(self, pbx: str, uniqueid: str, script: str) -> dict[str, Any] | None:
        """The ``ivr_call`` row of one call and script, as a dict (for tests and operators)."""
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
