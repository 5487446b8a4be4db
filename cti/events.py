"""AMI queue events -> CTI messages for the agent whose phone they concern.

Events are handled one at a time, in arrival order, by one task: a
``call.answered`` must never overtake the ``call.ringing`` of the same call, even
when the ringing pop waits for the IVR's call context. The subscription
callbacks only append to a bounded queue, so the AMI dispatcher never waits on
the CTI; when the queue is full (the CTI task stuck) the event is dropped with
one log line and a counter, and the AMI side keeps going.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final

from cti import protocol
from cti.calls import CallTracker, RingingCall
from cti.enrich import PopEnricher
from cti.hub import AgentHub
from cti.protocol import EventLike, PbxEventLike, normalize_iface
from cti.state_events import SUBSCRIBED as STATE_EVENTS
from cti.state_events import StateEvents
from hotline.feature import CallContextStore
from hotline.logs import bind_ami_event, get_logger

log = get_logger(__name__)

CALL_EVENTS: Final = (
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentRingNoAnswer",
)
SUBSCRIBED: Final = tuple(dict.fromkeys((*CALL_EVENTS, *STATE_EVENTS)))
CONTEXT_TIMEOUT: Final = 0.5
"""Seconds the pop waits for the IVR's call context; after that it goes out without it."""


class CallEvents:
    def __init__(
        self,
        hub: AgentHub,
        call_context: CallContextStore,
        *,
        max_queue: int = 10_000,
        clock: Callable[[], float] = time.time,
        state: StateEvents | None = None,
        enricher: PopEnricher | None = None,
    ) -> None:
        self._hub = hub
        self.state = state
        self.enricher = enricher
        """Adds the caller's history, tickets and identity to the pop (None: the pop as AMI tells it)."""
        self._context = call_context
        self._calls = CallTracker()
        self._queue: asyncio.Queue[PbxEventLike] = asyncio.Queue(max_queue)
        self._task: asyncio.Task[None] | None = None
        self._clock = clock
        self.dropped = 0
        self.failed = 0
        self._handlers: dict[str, Callable[[str, EventLike, float], Any]] = {
            "QueueCallerJoin": self._on_join,
            "QueueCallerLeave": self._on_leave,
            "QueueCallerAbandon": self._on_abandon,
            "AgentCalled": self._on_called,
            "AgentConnect": self._on_connect,
            "AgentComplete": self._on_complete,
            "AgentRingNoAnswer": self._on_ring_no_answer,
        }

    def accept(self, item: PbxEventLike) -> None:
        """The subscription callback: queue the event for the CTI task (never blocks)."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error("cti event queue full; events dropped", dropped=self.dropped)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="cti-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})
            self._task = None

    async def drain(self) -> None:
        """Wait until every queued event is handled (tests, orderly shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            # Every line logged while handling this event names its PBX and call.
            bind_ami_event(item)
            try:
                await self.handle(item)
            except Exception:  # one bad event must not stop every later pop
                self.failed += 1
                log.exception("cti event handling failed", pbx=getattr(item, "pbx", None))
            finally:
                self._queue.task_done()

    async def handle(self, item: PbxEventLike) -> None:
        event = item.event
        handler = self._handlers.get(event.name)
        ts = protocol.event_time(event) or self._clock()
        if handler is not None:
            # The call event first (the pop is what the agent waits for), then the state it caused.
            result = handler(item.pbx, event, ts)
            if asyncio.iscoroutine(result):
                await result
        if self.state is not None:
            self.state.handle(item.pbx, event, ts)

    def _on_join(self, pbx: str, event: EventLike, ts: float) -> None:
        if uniqueid := event.get("Uniqueid"):
            self._calls.joined(pbx, uniqueid, ts)

    def _on_leave(self, pbx: str, event: EventLike, ts: float) -> None:
        if uniqueid := event.get("Uniqueid"):
            self._calls.left(pbx, uniqueid)

    async def _on_called(self, pbx: str, event: EventLike, ts: float) -> None:
        uniqueid, iface = event.get("Uniqueid"), event.get("Interface")
        if not uniqueid or not iface:
            log.warning("AgentCalled without Uniqueid/Interface ignored", pbx=pbx)
            return
        iface = normalize_iface(iface)
        self._calls.ring(pbx, uniqueid, RingingCall(iface, event.get("Linkedid"), event.get("Queue")))
        if not self._hub.listening(pbx, iface):
            return
        context = await self._call_context(pbx, uniqueid)
        extras = await self.enricher.prepare(pbx, event, context, ts) if self.enricher is not None else None
        waited = self._calls.waited(pbx, uniqueid, ts)
        self._hub.deliver(pbx, iface, protocol.ringing(pbx, event, ts, context, waited, extras))
        if self.enricher is not None:
            # Nothing awaited since prepare(): no update can have gone out that this phone missed.
            self.enricher.popped(pbx, uniqueid, iface)

    async def _call_context(self, pbx: str, uniqueid: str) -> dict[str, str]:
        try:
            async with asyncio.timeout(CONTEXT_TIMEOUT):
                return await self._context.get(pbx, uniqueid)
        except TimeoutError:
            log.warning("call context too slow; pop sent without it", pbx=pbx, uniqueid=uniqueid)
        except Exception as exc:  # the pop matters more than the context
            log.warning(
                "call context unavailable; pop sent without it", pbx=pbx, uniqueid=uniqueid, error=repr(exc)
            )
        return {}

    def _on_connect(self, pbx: str, event: EventLike, ts: float) -> None:
        uniqueid, iface = event.get("Uniqueid"), normalize_iface(event.get("Interface") or "")
        if not uniqueid:
            return
        for other in self._calls.stop_all(pbx, uniqueid):
            if other.iface != iface:
                self._cancel(pbx, event, ts, other, "answered_elsewhere")
        self._hub.deliver(pbx, iface, protocol.answered(pbx, event, ts))

    def _on_complete(self, pbx: str, event: EventLike, ts: float) -> None:
        self._hub.deliver(pbx, event.get("Interface") or "", protocol.ended(pbx, event, ts))

    def _on_ring_no_answer(self, pbx: str, event: EventLike, ts: float) -> None:
        uniqueid, iface = event.get("Uniqueid"), normalize_iface(event.get("Interface") or "")
        if uniqueid:
            self._calls.stop_ringing(pbx, uniqueid, iface)
        # Sent even when the ring was not tracked: the event names the phone, and a client ignores
        # a cancel for a call it never showed.
        self._cancel(
            pbx, event, ts, RingingCall(iface, event.get("Linkedid"), event.get("Queue")), "no_answer"
        )

    def _on_abandon(self, pbx: str, event: EventLike, ts: float) -> None:
        if uniqueid := event.get("Uniqueid"):
            self._calls.left(pbx, uniqueid)
            for ringing in self._calls.stop_all(pbx, uniqueid):
                self._cancel(pbx, event, ts, ringing, "caller_left")

    def _cancel(self, pbx: str, event: EventLike, ts: float, ringing: RingingCall, reason: str) -> None:
        if self.enricher is not None and (uniqueid := event.get("Uniqueid")):
            self.enricher.cancelled(pbx, uniqueid, ringing.iface)
        message = protocol.cancelled(pbx, event, ts, reason, queue=ringing.queue, call_id=ringing.call_id)
        self._hub.deliver(pbx, ringing.iface, message)
