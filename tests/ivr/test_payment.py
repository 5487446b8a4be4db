"""Online payment through the real FastAGI server: every step, back and agent, failures."""

from __future__ import annotations

from hotline import names
from ivr import prompts

from .conftest import MakeIvr
from .fakes import CONTRACT_NO

MAIN, PAYMENT = names.AGI_IVR_MAIN, names.AGI_IVR_PAYMENT
PAY_FULL = [CONTRACT_NO, "1", "1"]
"""Contract, option 1 (pelunasan), confirm."""


async def test_payment_from_the_main_menu(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["5", *PAY_FULL, "1"])
    reference = ivr.core.references.popitem()[1]
    assert result.variables[names.VAR_PAYMENT_REF] == reference
    # Amount due, due date (day, month prompt, year), each option, the amount confirmed, the reference.
    assert result.said == ["5172500", "17", "2025", "5172500", "1", "172500", "2", "5172500", reference]
    assert prompts.MONTHS[7] in result.played
    assert result.played[-1] == prompts.THANK_YOU
    assert result.hung_up_by_ivr
    assert names.VAR_QUEUE not in result.variables
    assert ivr.core.total_executions == 1
    (row,) = await ivr.store.payments_of_call("jakarta", "1700000000.1")  # type: ignore[union-attr]
    assert (row.status, row.reference, row.amount, row.option_code) == (
        "paid",
        reference,
        5_172_500,
        "PELUNASAN",
    )
    call = await ivr.row(MAIN)
    assert call is not None and call["outcome"] == "ended" and call["payment_ref"] == reference
    assert call["path"] == (
        "main=pembayaran/contract=************0001/pay-option=pelunasan/pay-confirm=confirm/payment=paid/pay-end=end"
    )


async def test_direct_payment_line_then_an_agent(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(PAYMENT, keys=[CONTRACT_NO, "2", "1", "0"])
    assert result.played[0] == prompts.PAY_ENTER_CONTRACT
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PEMBAYARAN
    assert result.variables[names.VAR_PAYMENT_REF]
    (row,) = await ivr.store.payments_of_call("jakarta", "1700000000.1")  # type: ignore[union-attr]
    assert (row.option_code, row.amount) == ("PERPANJANGAN", 172_500)


async def test_cancel_pays_nothing(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(PAYMENT, keys=[CONTRACT_NO, "1", "2", "1"])
    assert prompts.PAY_CANCELLED in result.played
    assert ivr.core.total_executions == 0
    assert await ivr.store.payments_of_call("jakarta", "1700000000.1") == []  # type: ignore[union-attr]


async def test_star_steps_back_through_the_payment(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    keys = ["5", CONTRACT_NO, "*", CONTRACT_NO, "1", "*", "2", "1", "1"]
    result = await ivr.call(MAIN, keys=keys)
    row = await ivr.row(MAIN)
    assert row is not None
    path = row["path"]
    assert "pay-option=back" in path and "pay-confirm=back" in path
    assert ivr.core.total_executions == 1
    (payment,) = await ivr.store.payments_of_call("jakarta", "1700000000.1")  # type: ignore[union-attr]
    assert payment.option_code == "PERPANJANGAN"
    assert result.said[-1] == payment.reference


async def test_star_at_the_contract_entry_returns_to_the_main_menu(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["5", "*", "1"])
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_INFORMASI
    assert result.variables[names.VAR_IVR_PATH] == "main=pembayaran/contract=back/main=informasi"


async def test_star_on_the_direct_line_is_invalid_input(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(PAYMENT, keys=["*", "*", "*"])
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PEMBAYARAN
    assert result.played.count(prompts.INVALID_ENTRY) == 3


async def test_unknown_contract_then_the_right_one(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(PAYMENT, keys=["12345678", *PAY_FULL, "1"])
    assert prompts.NUMBER_UNKNOWN in result.played
    assert ivr.core.total_executions == 1


async def test_paying_the_same_thing_twice_in_one_call_pays_once(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(PAYMENT, keys=[*PAY_FULL, "2", *PAY_FULL, "1"])
    ((key, executed),) = ivr.core.executions.items()
    assert executed == 1 and ivr.core.requests[key] == 1  # the second confirm is answered from the store
    reference = ivr.core.references[key]
    assert result.said.count(reference) == 2


async def test_a_retried_agi_session_reads_back_the_stored_reference(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    first = await ivr.call(PAYMENT, keys=[*PAY_FULL, "1"])
    again = await ivr.call(PAYMENT, keys=[*PAY_FULL, "1"])
    assert ivr.core.total_executions == 1
    assert again.variables[names.VAR_PAYMENT_REF] == first.variables[names.VAR_PAYMENT_REF]
    # Another call paying the same bill is another payment.
    await ivr.call(PAYMENT, keys=[*PAY_FULL, "1"], uniqueid="1700000000.2")
    assert ivr.core.total_executions == 2


async def test_core_system_down_is_a_polite_message_and_an_agent(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    ivr.core.down = True
    result = await ivr.call(PAYMENT, keys=[CONTRACT_NO])
    assert prompts.SERVICE_DOWN in result.played
    assert prompts.PAY_END_MENU in result.played
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PEMBAYARAN


async def test_no_core_system_configured(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr(core=None)
    result = await ivr.call(MAIN, keys=["5", "0"])
    assert prompts.SERVICE_DOWN in result.played
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PEMBAYARAN


async def test_lost_answer_is_stored_unknown_and_settled_by_the_retry(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    ivr.core.lose_answers = 1
    result = await ivr.call(PAYMENT, keys=[*PAY_FULL, "1"])
    assert prompts.PAY_UNCERTAIN in result.played
    (row,) = await ivr.store.payments_of_call("jakarta", "1700000000.1")  # type: ignore[union-attr]
    assert row.status == "unknown"
    again = await ivr.call(PAYMENT, keys=[*PAY_FULL, "1"])
    (row,) = await ivr.store.payments_of_call("jakarta", "1700000000.1")  # type: ignore[union-attr]
    assert (row.status, row.tries) == ("paid", 2)
    assert again.variables[names.VAR_PAYMENT_REF] == row.reference
    assert ivr.core.total_executions == 1


async def test_declined_payment(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    ivr.core.decline = True
    result = await ivr.call(PAYMENT, keys=[*PAY_FULL, "0"])
    assert prompts.PAY_DECLINED in result.played
    assert names.VAR_PAYMENT_REF not in result.variables
    (row,) = await ivr.store.payments_of_call("jakarta", "1700000000.1")  # type: ignore[union-attr]
    assert (row.status, row.detail) == ("declined", "declined_by_bank")


async def test_store_down_refuses_to_pay(make_ivr: MakeIvr) -> None:
    class BrokenRecords:
        def __getattr__(self, name: str) -> object:
            async def fail(*_args: object, **_kwargs: object) -> None:
                raise OSError("database is locked")

            return fail

    ivr = await make_ivr(records=BrokenRecords())  # type: ignore[arg-type]
    result = await ivr.call(PAYMENT, keys=[*PAY_FULL, "0"])
    assert ivr.core.requests == {}
    assert prompts.SERVICE_DOWN in result.played
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PEMBAYARAN


async def test_hangup_at_every_step_never_pays_twice_nor_leaves_a_pending_attempt(make_ivr: MakeIvr) -> None:
    script = PAYMENT
    ivr = await make_ivr()
    full = await ivr.call(script, keys=[*PAY_FULL, "1"], uniqueid="1700000000.0")
    steps = len(full.commands)
    assert steps > 15
    for step in range(1, steps + 1):
        uniqueid = f"1700000001.{step}"
        await ivr.call(script, keys=[*PAY_FULL, "1"], uniqueid=uniqueid, hangup_at=step)
        rows = await ivr.store.payments_of_call("jakarta", uniqueid)  # type: ignore[union-attr]
        assert all(r.status == "paid" for r in rows), (step, rows)
        # The caller calls back on the same channel (a retried AGI request): still paid once.
        retry = await ivr.call(script, keys=[*PAY_FULL, "1"], uniqueid=uniqueid)
        assert retry.variables.get(names.VAR_PAYMENT_REF), step
    assert set(ivr.core.executions.values()) == {1}
    assert len(ivr.core.executions) == steps + 1
    assert await ivr.store.unsettled_payments() == []  # type: ignore[union-attr]
