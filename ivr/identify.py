"""Optional customer identification: a customer or contract number, then a verification answer.

It is offered while one prompt plays ("press 1 now to identify"): a caller who does not
want it is not held up by a menu.

The number is looked up in the core system (an unknown number uses up a try); the answer (the
birth date, DDMMYYYY) is keyed in with the recording muted and checked once - a wrong answer is
not retried, so the IVR is no oracle for guessing birth dates. The call is marked verified
(``yes``) or not (``no``) either way; the core system being down marks it ``no`` and the caller
goes on to the agent without identification.
"""

from __future__ import annotations

from typing import Final

from hotline.logs import get_logger, mask_number
from ivr import prompts
from ivr.call import Call
from ivr.core_system.errors import CoreSystemError, NotFound
from ivr.core_system.models import Customer
from ivr.dialog import BACK, Dialog

log = get_logger(__name__)

IDENTIFY_KEY: Final = "1"


class _Unavailable(Exception):
    """The core system could not answer; identification is given up."""


async def identify(call: Call, dialog: Dialog) -> str:
    """Offer identification; returns 'yes'/'no' (verified or not), 'skipped', or BACK."""
    answer = await dialog.offer("identify", prompts.IDENTIFY_OFFER, IDENTIFY_KEY)
    if answer == BACK:
        return BACK
    if answer == "no":
        return "skipped"
    core = call.deps.core_system
    if core is None:
        return await _not_possible(call, dialog, "not configured")
    found: list[Customer] = []

    async def lookup(number: str) -> str | None:
        try:
            found.append(await core.lookup_customer(number))
        except NotFound:
            return prompts.NUMBER_UNKNOWN
        except CoreSystemError as exc:
            raise _Unavailable(str(exc)) from None
        return None

    try:
        number = await dialog.enter("customer", prompts.ENTER_CUSTOMER, min_len=6, max_len=20, check=lookup)
        if number == BACK:
            return BACK
        customer = found[-1]
        call.state.customer_no, call.state.customer_name = customer.customer_no, customer.name
        async with call.recording_muted():
            answer = await dialog.enter(
                "dob", prompts.ENTER_BIRTH_DATE, min_len=8, max_len=8, secret=True, allow_back=False
            )
        try:
            verified = await core.verify(customer.customer_no, answer)
        except CoreSystemError as exc:
            raise _Unavailable(str(exc)) from None
    except _Unavailable as exc:
        return await _not_possible(call, dialog, str(exc))
    call.state.verified = "yes" if verified else "no"
    call.state.note("verified", call.state.verified)
    log.info("caller identification", customer_no=mask_number(customer.customer_no), verified=verified)
    await dialog.play(prompts.VERIFIED if verified else prompts.NOT_VERIFIED)
    return call.state.verified


async def _not_possible(call: Call, dialog: Dialog, reason: str) -> str:
    log.warning("caller identification not possible", reason=reason)
    call.state.verified = "no"
    call.state.note("verified", "unavailable")
    await dialog.play(prompts.SERVICE_DOWN)
    return "no"
