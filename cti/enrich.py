"""The screen-pop's enrichment: what the pop carries at once, and what follows as ``call.updated``.

At once (inside the pop, from memory and one indexed read of the store): the site, the
caller as the IVR knew them, the caller's last contacts with their dispositions, and the
ticket keys of the caller's recent calls. The store gets ``history_budget_s`` (a quarter
of a second); a slower store sends the pop without the history, which follows.

Later (``call.updated``, same ``call_id``): the verified caller's identity from the core
system, and the status of each ticket from the ticketing system. These are external
systems: they are asked in background tasks, with the guards of :mod:`cti.upstream`, and
the pop never waits for them. Every update names the state of each part in
``enrichment`` (``done``, ``pending``, ``none``, ``unavailable``, ``not_found``), so a
console knows whether more is coming.

Updates go to every phone that got the pop and was not cancelled since (ring-all queues
ring several). Each lookup is made once per call; a phone that rings later gets what is
known by then inside its pop.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Coroutine, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from cti.enrich_call import (
    DONE,
    NONE,
    NOT_FOUND,
    PENDING,
    UNAVAILABLE,
    EnrichSettings,
    PopCall,
)
from cti.history import caller_history
from cti.hub import AgentHub
from cti.lookups import CoreSystemLookup, TicketLookup
from cti.masking import customer_from_ivr, verified_flag
from cti.protocol import WIRE_VERSION, EventLike, channel_variables, iso, known
from cti.upstream import Breaker, NotFound, Unavailable
from hotline import names
from hotline.logs import get_logger

log = get_logger(__name__)


class PopEnricher:
    """Builds the pop's enrichment (:meth:`prepare`) and sends what comes later as ``call.updated``."""

    def __init__(
        self,
        hub: AgentHub,
        *,
        engine: AsyncEngine | None = None,
        core: CoreSystemLookup | None = None,
        tickets: TicketLookup | None = None,
        sites: Mapping[str, str] | None = None,
        settings: EnrichSettings | None = None,
    ) -> None:
        self.hub = hub
        self.engine = engine
        self.core = core
        self.tickets = tickets
        self.sites = dict(sites or {})
        self.settings = settings or EnrichSettings()
        self.store_breaker = Breaker(self.settings.store_failures, self.settings.store_cool_down_s)
        self._calls: OrderedDict[tuple[str, str], PopCall] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self.updates = 0

    # -- the pop -------------------------------------------------------------------------------

    async def prepare(
        self, pbx: str, event: EventLike, context: Mapping[str, str], ts: float
    ) -> dict[str, Any]:
        """The pop's enrichment fields (waits at most ``history_budget_s``, for the store only)."""
        uniqueid = event.get("Uniqueid") or ""
        call = self._calls.get((pbx, uniqueid))
        if call is None:
            call = self._start(pbx, uniqueid, event, context, ts)
        task = call.history_task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=self.settings.history_budget_s)
        return self._fields(call)

    def popped(self, pbx: str, uniqueid: str, iface: str) -> None:
        """``iface`` got the pop: it gets the updates that follow."""
        call = self._calls.get((pbx, uniqueid))
        if call is not None:
            call.ifaces.add(iface)

    def cancelled(self, pbx: str, uniqueid: str, iface: str | None = None) -> None:
        """The phone (None: every phone) stopped ringing unanswered: no more updates for it."""
        call = self._calls.get((pbx, uniqueid))
        if call is not None:
            if iface is None:
                call.ifaces.clear()
            else:
                call.ifaces.discard(iface)

    def _start(
        self, pbx: str, uniqueid: str, event: EventLike, context: Mapping[str, str], ts: float
    ) -> PopCall:
        variables = channel_variables(event)
        call = PopCall(
            pbx=pbx,
            uniqueid=uniqueid,
            call_id=event.get("Linkedid") or uniqueid,
            queue=event.get("Queue"),
            ts=ts,
            site=self.sites.get(pbx),
            customer=customer_from_ivr(variables, context),
        )
        self._calls[(pbx, uniqueid)] = call
        while len(self._calls) > self.settings.max_calls:
            self._calls.popitem(last=False)
        ticket = (variables.get(names.VAR_TICKET) or context.get("ticket") or "").strip()[:40]
        call.ticket_keys = [ticket] if ticket else []
        self._start_identity(call, variables, context)
        caller = known(event.get("CallerIDNum"))
        if self.engine is None or caller is None:
            self._start_tickets(call)
        elif not self.store_breaker.allow():
            call.history_state = UNAVAILABLE  # the store failed lately: do not make every pop wait
            self._start_tickets(call)
        else:
            call.history_state = PENDING
            call.tickets_state = PENDING if self.tickets is not None else NONE  # asked once history is in
            call.history_task = self._spawn(self._history(call, self.engine, caller))
        return call

    def _fields(self, call: PopCall) -> dict[str, Any]:
        return {
            "site": call.site,
            "customer": call.customer,
            "history": call.history,
            "tickets": self._ticket_view(call),
            "enrichment": {
                "history": call.history_state,
                "customer": call.customer_state,
                "tickets": call.tickets_state,
            },
        }

    def _ticket_view(self, call: PopCall) -> list[dict[str, Any]]:
        """Open tickets: those the ticketing system says are done are left out."""
        shown = []
        for key in call.ticket_keys[: self.settings.max_tickets]:
            if key in call.statuses:
                status = call.statuses[key]
            else:
                status = self.tickets.cached(key) if self.tickets is not None else None
            ticket = status or {"key": key, "status": None, "category": None, "summary": None}
            if ticket.get("category") != "done":
                shown.append(ticket)
        return shown

    # -- what follows --------------------------------------------------------------------------

    async def _history(self, call: PopCall, engine: AsyncEngine, caller: str) -> None:
        started = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(self.settings.history_timeout_s):
                found = await caller_history(
                    engine,
                    caller,
                    pbx=call.pbx,
                    uniqueid=call.uniqueid,
                    linkedid=call.call_id,
                    limit=self.settings.contacts,
                )
        except Exception as exc:  # a store that fails costs the pop its history, nothing more
            self.store_breaker.failure()
            call.history_state = UNAVAILABLE
            log.warning("cti caller history unavailable", uniqueid=call.uniqueid, error=repr(exc)[:200])
        else:
            # Late counts as failed: a store that always misses the budget makes every pop wait it.
            if asyncio.get_running_loop().time() - started <= self.settings.history_budget_s:
                self.store_breaker.success()
            elif self.store_breaker.failure():
                log.warning("cti caller history: the store is slow; pops skip it for a while")
            call.history, call.history_state = found.contacts, DONE
            call.ticket_keys = list(dict.fromkeys([*call.ticket_keys, *found.tickets]))
        self._start_tickets(call)  # first: the update then tells whether ticket statuses will follow
        self._send(call, "history", "tickets")

    def _start_identity(
        self, call: PopCall, variables: Mapping[str, str], context: Mapping[str, str]
    ) -> None:
        number = (variables.get(names.VAR_CUSTOMER_NO) or context.get("customer_no") or "").strip()
        verified = verified_flag(variables.get(names.VAR_VERIFIED) or context.get("verified"))
        if self.core is None or not number or verified is not True:
            return  # only a caller the IVR verified is looked up (an unverified claim is shown masked)
        cached = self.core.cached(number)
        if cached is not None:
            call.customer, call.customer_state = cached, DONE
            return
        call.customer_state = PENDING
        self._spawn(self._identity(call, self.core, number))

    async def _identity(self, call: PopCall, core: CoreSystemLookup, number: str) -> None:
        try:
            async with asyncio.timeout(self.settings.lookup_timeout_s * 3):  # waiting for a slot included
                call.customer, call.customer_state = await core.customer(number), DONE
        except NotFound:
            call.customer_state = NOT_FOUND
        except (Unavailable, TimeoutError):
            call.customer_state = UNAVAILABLE
        except Exception as exc:  # a bug in a lookup must not end the CTI's event handling
            call.customer_state = UNAVAILABLE
            log.exception("cti identity lookup failed", uniqueid=call.uniqueid, error=repr(exc)[:200])
        self._send(call, "customer")

    def _start_tickets(self, call: PopCall) -> None:
        keys = [k for k in call.ticket_keys[: self.settings.max_tickets] if k not in call.statuses]
        if self.tickets is None:
            call.tickets_state = NONE
            return
        missing = [k for k in keys if self.tickets.cached(k) is None]
        for key in keys:
            if key not in missing:
                call.statuses[key] = self.tickets.cached(key)
        if not missing:
            call.tickets_state = DONE
            return
        call.tickets_state = PENDING
        self._spawn(self._ticket_statuses(call, self.tickets, missing))

    async def _ticket_statuses(self, call: PopCall, lookup: TicketLookup, keys: list[str]) -> None:
        async def one(key: str) -> None:
            try:
                async with asyncio.timeout(self.settings.lookup_timeout_s * 3):
                    call.statuses[key] = await lookup.status(key)
            except NotFound:
                call.ticket_keys = [k for k in call.ticket_keys if k != key]
            except (Unavailable, TimeoutError):
                call.statuses[key] = None
                failed.append(key)
            except Exception as exc:  # a bug in a lookup must not end the CTI's event handling
                call.statuses[key] = None
                failed.append(key)
                log.exception("cti ticket lookup failed", uniqueid=call.uniqueid, error=repr(exc)[:200])

        failed: list[str] = []
        await asyncio.gather(*(one(key) for key in keys))
        call.tickets_state = UNAVAILABLE if failed else DONE
        self._send(call, "tickets")

    def _send(self, call: PopCall, *parts: str) -> None:
        """``call.updated`` with the parts that changed, to every phone still showing the pop."""
        if not call.ifaces:
            return
        fields = self._fields(call)
        message = {
            "v": WIRE_VERSION,
            "type": "call.updated",
            # The pop's time: two instances reading one PBX build the same update (delivered once).
            "ts": iso(call.ts),
            "call_id": call.call_id,
            "uniqueid": call.uniqueid,
            "pbx": call.pbx,
            "queue": call.queue,
            **{part: fields[part] for part in parts},
            "enrichment": fields["enrichment"],
        }
        for iface in sorted(call.ifaces):
            self.hub.deliver(call.pbx, iface, message)
        self.updates += 1

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name="cti-enrich")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        for lookup in (self.core, self.tickets):
            if lookup is not None:
                await lookup.close()

    @property
    def pending(self) -> int:
        return len(self._tasks)
