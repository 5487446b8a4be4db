"""Paying a bill at most once per call, contract, option and amount - whatever happens on the way.

The idempotency key is derived from those four (:func:`ivr.core_system.idempotency_key_for`),
so the same call paying the same thing again always carries the same key. The order is:

1. claim the key in ``payment_attempt`` (status ``pending``) *before* the core system is asked;
   if the row exists and is settled (``paid``/``declined``), answer from it - no new request;
2. ask the core system with the key (its own retries resend the same key);
3. store the outcome: ``paid``, ``declined``, ``rejected`` (refused, not executed) or
   ``unknown`` (no answer: it may or may not have been executed). The outcome is queued to
   the store's writer (:mod:`ivr.store_writer`): the caller hears it without waiting for the
   commit, and until it is stored the row reads ``pending`` - the state in which asking again
   with the same key is the right thing to do.

Steps 2-3 run as a background task the caller's session only waits for, so a hang-up or a
cancelled session still stores the outcome; a crash leaves ``pending``, which the next session
of the call, or :meth:`PaymentDesk.reconcile` at start-up, settles by asking again with the
same key - the core system then answers from its idempotency record instead of paying twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

from hotline.logs import get_logger, mask_number
from ivr.background import Background
from ivr.core_system.errors import (
    CoreSystemError,
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    PaymentDeclined,
)
from ivr.core_system.models import idempotency_key_for
from ivr.ports import CoreSystem, PaymentRow, Records

log = get_logger(__name__)

SETTLED: Final = frozenset({"paid", "declined"})


@dataclass(frozen=True)
class PaymentResult:
    status: str
    """paid, declined, rejected or unknown."""
    reference: str = ""
    detail: str = ""
    from_record: bool = False
    """Answered from ``payment_attempt`` without asking the core system again."""


class PaymentNotPossible(Exception):
    """The attempt could not be recorded first, so the core system was not asked at all."""


class PaymentDesk:
    """Claims, executes and settles payments (see the module docstring)."""

    def __init__(self, core: CoreSystem, records: Records, background: Background) -> None:
        self.core = core
        self.records = records
        self.background = background

    async def pay(
        self, *, pbx: str, uniqueid: str, contract_no: str, option_code: str, amount: int
    ) -> PaymentResult:
        call_id = f"{pbx}/{uniqueid}"
        key = idempotency_key_for(call_id, contract_no, option_code, amount)
        claim = PaymentRow(key, pbx, uniqueid, contract_no, option_code, amount, status="pending")
        try:
            stored, created = await self.records.claim_payment(claim)
            if not created and stored.status in SETTLED:
                log.info("payment answered from its record", idempotency_key=key, status=stored.status)
                return PaymentResult(stored.status, stored.reference, stored.detail, from_record=True)
            if not created:
                await self.records.retry_payment(key)
        except Exception as exc:  # no record, no request: at-most-once cannot be promised otherwise
            log.error("payment attempt not recorded; core system not asked", error=str(exc))
            raise PaymentNotPossible(str(exc)) from exc
        task = self.background.spawn(self._settle(stored), name=f"ivr-payment-{key[:12]}")
        # The session waits, but its cancellation (hotline stopping) must not cancel the payment.
        return await asyncio.shield(task)

    async def _settle(self, row: PaymentRow) -> PaymentResult:
        key = row.idempotency_key
        try:
            payment = await self.core.pay(
                contract_no=row.contract_no,
                option_code=row.option_code,
                amount=row.amount,
                idempotency_key=key,
                call_id=f"{row.pbx}/{row.uniqueid}",
            )
            result = PaymentResult("paid", payment.reference, "replayed" if payment.replayed else "")
        except PaymentDeclined as exc:
            result = PaymentResult("declined", exc.reference, exc.reason)
        except (NotFound, InvalidRequest, IdempotencyConflict) as exc:
            result = PaymentResult("rejected", "", str(exc))
        except CoreSystemError as exc:
            result = PaymentResult("unknown", "", str(exc))
        try:
            await self.records.settle_payment(key, result.status, result.reference, result.detail)
        except Exception as exc:  # the row stays pending: the next session or reconcile() settles it
            log.error("payment outcome not stored", idempotency_key=key, status=result.status, error=str(exc))
        log.info(
            "payment attempt",
            idempotency_key=key,
            contract_no=mask_number(row.contract_no),
            amount=row.amount,
            status=result.status,
            reference=result.reference,
            detail=result.detail,
        )
        return result

    async def reconcile(self) -> int:
        """Settle every payment a crash left ``pending``/``unknown``; returns how many were asked."""
        rows = await self.records.unsettled_payments()
        for row in rows:
            await self.records.retry_payment(row.idempotency_key)
            await self._settle(row)
        if rows:
            log.info("unsettled payments asked again", payments=len(rows))
        return len(rows)
