"""The AGI handlers: each flow wrapped in the rules every call follows, whatever the flow does.

- ``0`` or running out of tries (:class:`~ivr.call.ToAgent`) ends in the agent queue of the
  caller's current place in the menus;
- a flow that routed the call publishes it: channel variables (HOTLINE_QUEUE first), then
  the call context the screen-pop reads;
- the call is recorded in ``ivr_call`` whatever happened (routed, hung up, failed, ended);
  the row is queued to the store's writer (:mod:`ivr.store_writer`), so the caller is never
  held up by the store and a hang-up cannot lose it;
- a bug in a flow is not a dead line: the handler sets the queue of the script's fallback
  (best effort), plays a short apology and lets the error reach the FastAGI server, which
  sets HOTLINE_STATUS=FAILED for the dialplan's fallback route.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Final

from hotline import names
from hotline.agi.errors import AgiError, AgiHangup
from hotline.logs import get_logger
from ivr import prompts
from ivr.call import Call, CallState, IvrDeps, ToAgent
from ivr.dialog import Dialog
from ivr.main_menu import hotline_menu
from ivr.payment import payment
from ivr.ports import CallSession
from ivr.sapa import sapa

log = get_logger(__name__)

Flow = Callable[[Call, Dialog], Awaitable[None]]
Handler = Callable[[Any], Awaitable[None]]


async def payment_line(call: Call, dialog: Dialog) -> None:
    """``ivr/payment`` reached directly (not from the main menu): no greeting, no way back."""
    await call.set_language("id")
    await payment(call, dialog, from_menu=False)


FALLBACK_QUEUES: Final = {
    names.AGI_IVR_MAIN: names.QUEUE_AGENT,
    names.AGI_IVR_PAYMENT: names.QUEUE_PEMBAYARAN,
    names.AGI_IVR_SAPA: names.QUEUE_SAPA_HELPDESK,
}
FLOWS: Final[dict[str, Flow]] = {
    names.AGI_IVR_MAIN: hotline_menu,
    names.AGI_IVR_PAYMENT: payment_line,
    names.AGI_IVR_SAPA: sapa,
}


def make_handler(script: str, flow: Flow, deps: IvrDeps) -> Handler:
    fallback_queue = FALLBACK_QUEUES.get(script, names.FALLBACK_QUEUE)

    async def handler(session: CallSession) -> None:
        state = CallState(script=script, agent_queue=fallback_queue)
        call = Call(session, deps, state)
        try:
            try:
                await flow(call, Dialog(call))
            except ToAgent as exc:
                call.route(state.agent_queue, "agen")
                log.info("ivr to an agent", reason=exc.reason, queue=state.agent_queue)
            if state.outcome != "ended":
                if not state.queue:  # a flow that returns without a route still reaches an agent
                    call.route(state.agent_queue, "agen")
                await call.publish()
                state.outcome = "routed"
                log.info("ivr routed", choice=state.choice, queue=state.queue, path=state.path)
        except AgiHangup:
            state.outcome = "hangup" if state.outcome != "ended" else "ended"
            raise
        except Exception:
            state.outcome = "failed"
            await _rescue(call, fallback_queue)
            raise
        finally:
            with contextlib.suppress(Exception):  # the call context is memory; never fail the call on it
                await call.share()
            await call.save()

    return handler


async def _rescue(call: Call, queue: str) -> None:
    """After a bug: the sensible queue and an apology, if the session still allows (best effort)."""
    if call.session.hungup:
        return
    if not call.state.queue:
        call.route(queue, "agen")
    try:
        await call.session.set_variable(names.VAR_QUEUE, call.state.queue)
        await call.session.stream_file(prompts.SERVICE_DOWN)
    except (AgiError, OSError) as exc:
        log.info("ivr rescue incomplete", error=str(exc) or type(exc).__name__)


def handlers(deps: IvrDeps) -> dict[str, Handler]:
    """Every IVR script's handler, keyed by its route (:data:`hotline.names.ALL_AGI_SCRIPTS`)."""
    return {script: make_handler(script, flow, deps) for script, flow in FLOWS.items()}
