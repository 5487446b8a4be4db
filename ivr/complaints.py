"""A complaint call opens a ticket in Ariana, without ever holding the caller.

Creation runs in the background as soon as the caller chose Pengaduan (and identified or
not); the flow waits at most :data:`READ_BACK_WAIT_S` to read the ticket number back, then
routes the caller whatever happened. A ticket that arrives later still reaches the agent
(call context, ``ivr_call``); ticketing being down is logged and noted in the call context.
The ticketing adapter dedupes by call id, so a retried session does not open a second ticket.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Final

from hotline import names
from hotline.logs import get_logger
from ivr import prompts
from ivr.call import Call
from ivr.dialog import Dialog
from ivr.ticketing.models import Complaint, TicketingError

log = get_logger(__name__)

READ_BACK_WAIT_S: Final = 2.0
CREATE_TIMEOUT_S: Final = 20.0
SUMMARY: Final = "Pengaduan nasabah via IVR 1500569"


async def open_ticket(call: Call) -> str | None:
    """Create the complaint ticket; its key, or None when ticketing is absent or down."""
    ticketing = call.deps.ticketing
    state = call.state
    if ticketing is None:
        return None
    complaint = Complaint(
        call_id=call.linkedid,
        caller_number=call.caller_number or "",
        summary=SUMMARY,
        ivr_path=tuple(state.steps),
        customer_no=state.customer_no or None,
        customer_name=state.customer_name or None,
        verified=state.verified == "yes",
    )
    try:
        async with asyncio.timeout(CREATE_TIMEOUT_S):
            ref = await ticketing.create_complaint(complaint, check_existing=True)
    except (TicketingError, TimeoutError) as exc:
        log.warning("complaint ticket not created", error=str(exc) or type(exc).__name__)
        await call.deps.call_context.set(call.session.pbx, call.uniqueid, {"ticket_error": "unavailable"})
        return None
    state.ticket_key = ref.key
    await call.share()
    await call.save()
    return ref.key


async def complaint(call: Call, dialog: Dialog) -> None:
    """Start the ticket, read its number back if it is there in time, route to Pengaduan."""
    task = call.deps.background.spawn(open_ticket(call), name=f"ivr-ticket-{call.uniqueid}")
    key: str | None = None
    with contextlib.suppress(TimeoutError):
        key = await asyncio.wait_for(asyncio.shield(task), READ_BACK_WAIT_S)
    if key:
        await call.session.set_variable(names.VAR_TICKET, key)
        number = re.sub(r"[^0-9]", "", key.rpartition("-")[2])
        await dialog.play(prompts.COMPLAINT_NOTED)
        if number:
            await call.session.say_digits(number)
    call.route(names.QUEUE_PENGADUAN, "pengaduan")
