"""SAPA Pegadaian, the outlet line (script ``ivr/sapa``).

The outlet is identified by its calling number (the outlet directory, ``hotline outlets
import``) or, when the number is unknown, by outlet code + PIN (the PIN keyed in with the
recording muted). An outlet that cannot be identified still reaches the helpdesk, marked
unidentified. Menu: 1 Passion (core application) problem, 2 non-core application problem,
3 ticket status (read back from Ariana), 0 helpdesk. Every route is the helpdesk queue, with
the outlet's identity in the call context for the agent.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Final

from hotline import names
from hotline.logs import get_logger, mask_number
from ivr import prompts
from ivr.call import Call, ToAgent
from ivr.dialog import BACK, Dialog
from ivr.outlets import normalize_phone
from ivr.ports import Outlet
from ivr.ticketing.models import TicketingError, TicketNotFound, TicketRejected

log = get_logger(__name__)

MENU: Final = {"1": "passion", "2": "non-core", "3": "ticket-status"}
AFTER_STATUS: Final = {"1": "another"}


async def sapa(call: Call, dialog: Dialog) -> None:
    call.state.agent_queue = names.QUEUE_SAPA_HELPDESK
    await call.set_language("id")
    await dialog.play(prompts.SAPA_GREETING)
    outlet = await identify_outlet(call, dialog)
    if outlet is None:
        call.state.note("outlet", "unknown")
        raise ToAgent("outlet not identified")
    call.state.outlet_code, call.state.outlet_name = outlet.code, outlet.name
    await call.share()
    while True:
        choice = await dialog.choose("sapa", prompts.SAPA_MENU, MENU, allow_back=False)
        if choice != "ticket-status":
            call.route(names.QUEUE_SAPA_HELPDESK, choice)
            return
        await ticket_status(call, dialog)


async def identify_outlet(call: Call, dialog: Dialog) -> Outlet | None:
    """By calling number, else by code + PIN (three tries); None when neither works."""
    records = call.deps.records
    if records is None:
        log.warning("sapa: no outlet directory (store not configured)")
        return None
    phone = normalize_phone(call.caller_number)
    outlet = await _lookup(records.outlet_by_phone(phone)) if phone else None
    if outlet is not None:
        call.state.note("outlet", f"{outlet.code}:by-number")
        return outlet
    found: list[Outlet] = []
    for _ in range(dialog.tries):
        code = await dialog.enter(
            "outlet-code", prompts.SAPA_ENTER_OUTLET, min_len=3, max_len=12, allow_back=False
        )
        async with call.recording_muted():
            pin = await dialog.enter(
                "outlet-pin", prompts.SAPA_ENTER_PIN, min_len=4, max_len=8, secret=True, allow_back=False
            )
        outlet = await _lookup(records.outlet_by_code_and_pin(code, pin))
        if outlet is not None:
            found.append(outlet)
            break
        call.state.note("outlet", "refused")
        await dialog.play(prompts.SAPA_UNKNOWN_OUTLET)
    if not found:
        log.info("sapa: outlet not identified", caller=mask_number(call.caller_number))
        return None
    call.state.note("outlet", f"{found[0].code}:by-pin")
    return found[0]


async def _lookup(query: Awaitable[Outlet | None]) -> Outlet | None:
    """A directory lookup; the store being down means 'not identified', never a dead call."""
    try:
        return await query
    except Exception as exc:
        log.error("sapa: outlet directory lookup failed", error=str(exc))
        return None


async def ticket_status(call: Call, dialog: Dialog) -> None:
    """Ticket number -> status read back, then another ticket, the helpdesk (0) or back (*)."""
    ticketing = call.deps.ticketing
    while True:
        if ticketing is None:
            await dialog.play(prompts.SERVICE_DOWN)
            raise ToAgent("ticketing not configured")
        number = await dialog.enter("ticket", prompts.SAPA_ENTER_TICKET, min_len=1, max_len=10)
        if number == BACK:
            return
        try:
            status = await ticketing.ticket_status(number)
        except (TicketNotFound, TicketRejected):
            call.state.note("ticket-status", "not-found")
            await dialog.play(prompts.SAPA_TICKET_UNKNOWN)
            continue
        except TicketingError as exc:
            log.warning("sapa: ticket status not available", error=str(exc))
            call.state.note("ticket-status", "unavailable")
            await dialog.play(prompts.SERVICE_DOWN)
            raise ToAgent("ticketing unavailable") from None
        call.state.ticket_key = status.key
        call.state.note("ticket-status", status.status.lower().replace(" ", "-"))
        await dialog.play(prompts.SAPA_TICKET)
        await call.session.say_digits(number)
        await dialog.play(prompts.TICKET_STATUS.get(status.status.lower(), prompts.TICKET_STATUS_OTHER))
        if await dialog.choose("sapa-after-status", prompts.SAPA_AFTER_STATUS, AFTER_STATUS) == BACK:
            return
