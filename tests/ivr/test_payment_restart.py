"""hotline stops between confirm and the core system's reply: the payment still happens at most once."""

from __future__ import annotations

import asyncio

from hotline import names
from ivr.payments import PaymentDesk

from .conftest import PBX, MakeIvr
from .fakes import CONTRACT_NO, FakeCoreSystem
from .peer import ScriptedCaller

PAYMENT = names.AGI_IVR_PAYMENT
KEYS = [CONTRACT_NO, "1", "1", "1"]


async def _stop_mid_payment(make_ivr: MakeIvr, core: FakeCoreSystem) -> None:
    """Confirm, then stop hotline (server and background work) while the core system has not answered."""
    core.pay_gate = asyncio.Event()
    first = await make_ivr(core=core)
    caller = asyncio.create_task(ScriptedCaller(keys=KEYS).call(first.port, f"{PAYMENT}?pbx={PBX}"))
    async with asyncio.timeout(5):
        while not core.requests:
            await asyncio.sleep(0.005)
    await first.server.stop(grace=0.1)
    await first.deps.background.drain(0.1)
    await asyncio.gather(caller, return_exceptions=True)
    assert first.store is not None
    (row,) = await first.store.payments_of_call(PBX, "1700000000.1")
    assert row.status == "pending"  # the claim was stored before the core system was asked
    assert core.total_executions == 0


async def test_retried_session_after_a_restart_pays_once(make_ivr: MakeIvr) -> None:
    core = FakeCoreSystem()
    await _stop_mid_payment(make_ivr, core)
    core.pay_gate = None
    second = await make_ivr(core=core)
    result = await second.call(PAYMENT, keys=KEYS)
    assert second.store is not None
    (row,) = await second.store.payments_of_call(PBX, "1700000000.1")
    assert (row.status, row.tries) == ("paid", 2)
    assert result.variables[names.VAR_PAYMENT_REF] == row.reference
    assert core.total_executions == 1


async def test_start_up_reconciliation_settles_what_a_crash_left_pending(make_ivr: MakeIvr) -> None:
    core = FakeCoreSystem()
    await _stop_mid_payment(make_ivr, core)
    core.pay_gate = None
    second = await make_ivr(core=core)
    assert second.store is not None
    desk = PaymentDesk(core, second.store, second.deps.background)
    assert await desk.reconcile() == 1
    assert await second.store.unsettled_payments() == []
    # The caller's retried session afterwards is answered from the record.
    result = await second.call(PAYMENT, keys=KEYS)
    (row,) = await second.store.payments_of_call(PBX, "1700000000.1")
    assert result.variables[names.VAR_PAYMENT_REF] == row.reference
    assert core.total_executions == 1
    assert sum(core.requests.values()) == 2  # the stalled one and the reconciliation, none after


async def test_hangup_while_the_core_system_answers_still_stores_the_outcome(make_ivr: MakeIvr) -> None:
    core = FakeCoreSystem(pay_gate=asyncio.Event())
    ivr = await make_ivr(core=core)
    caller = ScriptedCaller(keys=KEYS)
    task = asyncio.create_task(caller.call(ivr.port, f"{PAYMENT}?pbx={PBX}"))
    async with asyncio.timeout(5):
        while not core.requests:
            await asyncio.sleep(0.005)
    caller.hangup_now = True  # the caller is gone before the reply: the read-back fails
    core.pay_gate.set()
    result = await task
    # The flow learnt of the hang-up at its next command and stopped there.
    assert result.commands[-1].startswith(f"SET VARIABLE {names.VAR_PAYMENT_REF}")
    await ivr.deps.background.drain(5)
    assert ivr.store is not None
    (row,) = await ivr.store.payments_of_call(PBX, "1700000000.1")
    assert row.status == "paid" and core.total_executions == 1
