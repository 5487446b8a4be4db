"""Online payment (Tier 1): contract -> bill -> what to pay -> confirm -> pay -> reference -> agent?

Reached from the main menu (5) or directly (script ``ivr/payment``). ``*`` goes back one step
(from the contract entry to the main menu when there is one); ``0`` reaches the payment agents.
Any core-system failure ends in a polite message and the closing menu, whose silence leads to an
agent too: never a dead line. Execution rules live in :mod:`ivr.payments`.
"""

from __future__ import annotations

from typing import Final

from hotline import names
from hotline.logs import get_logger
from ivr import prompts
from ivr.call import Call
from ivr.core_system.errors import CoreSystemError, NotFound
from ivr.core_system.models import Bill, PaymentOption
from ivr.dialog import BACK, Dialog
from ivr.payments import PaymentDesk, PaymentNotPossible, PaymentResult

log = get_logger(__name__)

OPTION_PROMPTS: Final = {
    "PELUNASAN": prompts.PAY_OPTION_PELUNASAN,
    "PERPANJANGAN": prompts.PAY_OPTION_PERPANJANGAN,
    "ANGSURAN": prompts.PAY_OPTION_ANGSURAN,
}
CONFIRM: Final = {"1": "confirm", "2": "cancel"}
CLOSING: Final = {"1": "end", "2": "again"}
MAX_OPTIONS: Final = 9


class _Unavailable(Exception):
    pass


async def payment(call: Call, dialog: Dialog, *, from_menu: bool) -> str:
    """Run payments until the caller ends the call (""), or goes back to the main menu (BACK)."""
    call.state.agent_queue = names.QUEUE_PEMBAYARAN
    while True:
        if await _one_payment(call, dialog, from_menu=from_menu) == BACK:
            return BACK
        if await _closing(call, dialog) == "end":
            return ""


async def _one_payment(call: Call, dialog: Dialog, *, from_menu: bool) -> str:
    core, records = call.deps.core_system, call.deps.records
    if core is None or records is None:
        log.warning("payment not possible: core system or store not configured")
        await dialog.play(prompts.SERVICE_DOWN)
        return "unavailable"
    desk = PaymentDesk(core, records, call.deps.background)
    while True:
        try:
            bill = await _inquiry(call, dialog, allow_back=from_menu)
        except _Unavailable:
            await dialog.play(prompts.SERVICE_DOWN)
            return "unavailable"
        if bill is None:
            return BACK
        outcome = await _pay_bill(call, dialog, desk, bill)
        if outcome != BACK:
            return outcome


async def _inquiry(call: Call, dialog: Dialog, *, allow_back: bool) -> Bill | None:
    """The bill of the contract the caller keys in (None: the caller went back)."""
    core = call.deps.core_system
    assert core is not None
    bills: list[Bill] = []

    async def lookup(contract_no: str) -> str | None:
        try:
            bills.append(await core.bill(contract_no))
        except NotFound:
            return prompts.NUMBER_UNKNOWN
        except CoreSystemError as exc:
            log.warning("bill inquiry failed", error=str(exc))
            raise _Unavailable from None
        return None

    contract_no = await dialog.enter(
        "contract", prompts.PAY_ENTER_CONTRACT, min_len=8, max_len=20, allow_back=allow_back, check=lookup
    )
    return None if contract_no == BACK else bills[-1]


async def _pay_bill(call: Call, dialog: Dialog, desk: PaymentDesk, bill: Bill) -> str:
    """Speak the bill, let the caller choose and confirm, pay; BACK to enter another contract."""
    if not bill.options:
        await dialog.play(prompts.PAY_NOTHING_DUE)
        return "nothing-due"
    await dialog.play(prompts.PAY_BILL_IS)
    await dialog.say_amount(bill.amount_due)
    await dialog.play(prompts.PAY_DUE_ON)
    await dialog.say_date(bill.due_date)
    options = {str(n): option for n, option in enumerate(bill.options[:MAX_OPTIONS], start=1)}
    while True:

        async def list_options(escape: str) -> str | None:
            for digit, option in options.items():
                key = await dialog.play(
                    OPTION_PROMPTS.get(option.code, prompts.PAY_OPTION_OTHER), escape=escape
                )
                key = key or await dialog.say_amount(option.amount, escape)
                key = key or await dialog.play(prompts.PRESS, escape=escape)
                key = key or await call.session.say_digits(digit, escape)
                if key:
                    return key
            return None

        code = await dialog.choose(
            "pay-option",
            prompts.PAY_CHOOSE,
            {d: o.code.lower() for d, o in options.items()},
            intro=list_options,
        )
        if code == BACK:
            return BACK
        chosen = next(o for o in options.values() if o.code.lower() == code)
        answer = await _confirm(dialog, chosen)
        if answer == BACK:
            continue
        if answer == "cancel":
            await dialog.play(prompts.PAY_CANCELLED)
            return "cancelled"
        await dialog.play(prompts.PAY_PROCESSING)
        return await _execute(call, dialog, desk, bill, chosen)


async def _confirm(dialog: Dialog, option: PaymentOption) -> str:
    async def amount(escape: str) -> str | None:
        key = await dialog.play(prompts.PAY_YOU_WILL_PAY, escape=escape)
        return key or await dialog.say_amount(option.amount, escape)

    return await dialog.choose("pay-confirm", prompts.PAY_CONFIRM, CONFIRM, intro=amount)


async def _execute(call: Call, dialog: Dialog, desk: PaymentDesk, bill: Bill, option: PaymentOption) -> str:
    try:
        result = await desk.pay(
            pbx=call.session.pbx,
            uniqueid=call.uniqueid,
            contract_no=bill.contract_no,
            option_code=option.code,
            amount=option.amount,
        )
    except PaymentNotPossible:
        result = PaymentResult("not-recorded")
    call.state.note("payment", result.status)
    if result.status == "paid":
        call.state.payment_ref = result.reference
        # The channel variable at once; the call context gets the reference when the call
        # leaves the IVR (ivr.flows shares it then, hang-up included): one store write, not two.
        await call.session.set_variable(names.VAR_PAYMENT_REF, result.reference)
        await dialog.play(prompts.PAY_DONE)
        await call.session.say_digits(result.reference)
    elif result.status == "declined":
        await dialog.play(prompts.PAY_DECLINED)
    elif result.status == "unknown":
        await dialog.play(prompts.PAY_UNCERTAIN)
    else:
        await dialog.play(prompts.SERVICE_DOWN)
    return result.status


async def _closing(call: Call, dialog: Dialog) -> str:
    """End the call, another payment, or (0, or no answer) an agent."""
    answer = await dialog.choose("pay-end", prompts.PAY_END_MENU, CLOSING, allow_back=False)
    if answer == "end":
        await dialog.play(prompts.THANK_YOU)
        call.state.outcome = "ended"
        await call.session.hangup()
    return answer
