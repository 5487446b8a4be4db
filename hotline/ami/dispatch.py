"""Fan AMI events out to subscribers without letting any of them slow the AMI reader.

The reader calls :meth:`EventDispatcher.publish` synchronously for every event, in
order. Each subscriber owns a bounded queue and a task that runs its callback, so
a slow subscriber (a database writer during a vacuum, a websocket on a bad link)
only ever delays itself: its queue fills, the oldest items are dropped and
counted, and everyone else keeps up. Dropping the oldest rather than the newest
keeps a live view (CTI) current; the count tells /metrics what was lost.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from hotline.ami.protocol import Event
from hotline.logs import CURRENT_AMI_EVENT, get_logger

ALL_EVENTS: Final = "*"
_YIELD_EVERY: Final = 256
"""A sync callback working through a backlog gives the loop a turn this often (the reader must read)."""

_log = get_logger("hotline.ami.dispatch")


@dataclass(frozen=True, slots=True)
class PbxEvent:
    """One AMI event as received: which PBX, which connection, its order on that connection, when."""

    pbx: str
    connection: int
    seq: int
    received_at: float
    event: Event


Callback = Callable[[PbxEvent], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class SubscriberStats:
    """Counters of one subscriber, for /metrics."""

    name: str
    pattern: str
    queued: int
    delivered: int
    dropped: int
    failed: int


class Subscription:
    """A subscriber's queue and task. Made by :meth:`EventDispatcher.subscribe`; ``close()`` ends it."""

    def __init__(
        self, dispatcher: EventDispatcher, pattern: str, callback: Callback, name: str, maxsize: int
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.name = name
        self.pattern = pattern
        self.maxsize = maxsize
        self.delivered = 0
        self.dropped = 0
        self.failed = 0
        self._dispatcher = dispatcher
        self._callback = callback
        self._items: deque[PbxEvent] = deque(maxlen=maxsize)
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._in_burst = False

    @property
    def queued(self) -> int:
        return len(self._items)

    def stats(self) -> SubscriberStats:
        return SubscriberStats(
            self.name, self.pattern, len(self._items), self.delivered, self.dropped, self.failed
        )

    def offer(self, item: PbxEvent) -> None:
        """Queue an item (called by the dispatcher); when full, the oldest item makes room."""
        items = self._items
        if len(items) == self.maxsize:
            self.dropped += 1
            if not self._in_burst:
                self._in_burst = True
                _log.error(
                    "subscriber too slow, dropping oldest events",
                    subscriber=self.name,
                    maxsize=self.maxsize,
                    pbx=item.pbx,
                    event_name=item.event.name,
                )
        items.append(item)
        if not self._wakeup.is_set():
            self._wakeup.set()

    def close(self) -> None:
        """Stop receiving; what is still queued is discarded."""
        self._dispatcher._remove(self)
        self._closing = True
        self._items.clear()
        if self._task is not None:
            self._task.cancel()
        self._wakeup.set()

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.create_task(self._run(), name=f"ami-subscriber-{self.name}")

    async def _run(self) -> None:
        items = self._items
        callback = self._callback
        # Whatever the callback logs names the event's PBX and call (hotline.logs.bind_ami_event);
        # the context variable's own setter, held here, keeps that to one C call per event.
        bind_event = CURRENT_AMI_EVENT.set
        since_yield = 0
        while True:
            if not items:
                bind_event(None)
                if self._in_burst:
                    self._in_burst = False
                    _log.warning("subscriber caught up", subscriber=self.name, dropped_total=self.dropped)
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                since_yield = 0
                continue
            item = items.popleft()
            bind_event(item)
            try:
                result = callback(item)
                if inspect.isawaitable(result):
                    await result
                    since_yield = 0
            except Exception as exc:
                self.failed += 1
                _log.error(
                    "subscriber callback failed",
                    subscriber=self.name,
                    pbx=item.pbx,
                    event_name=item.event.name,
                    seq=item.seq,
                    error=f"{type(exc).__name__}: {exc}",
                )
            self.delivered += 1
            since_yield += 1
            if since_yield >= _YIELD_EVERY:
                since_yield = 0
                await asyncio.sleep(0)

    async def _finish(self, drain_timeout: float) -> None:
        """Let the task empty its queue for at most ``drain_timeout`` seconds, then cancel it."""
        self._closing = True
        self._wakeup.set()
        task = self._task
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), drain_timeout)
        except TimeoutError:
            _log.warning("subscriber did not drain in time", subscriber=self.name, left=len(self._items))
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class EventDispatcher:
    """Routes each published :class:`PbxEvent` to the subscribers of its name and of ``'*'``."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[Subscription]] = {}
        self._all: list[Subscription] = []
        self._subscriptions: list[Subscription] = []
        self._running = False

    def subscribe(
        self, name_or_star: str, callback: Callback, *, name: str, maxsize: int = 100_000
    ) -> Subscription:
        """Call ``callback`` (sync or async) for every event named ``name_or_star`` (``'*'``: all).

        ``name`` identifies the subscriber in logs and metrics.
        """
        sub = Subscription(self, name_or_star, callback, name, maxsize)
        if name_or_star == ALL_EVENTS:
            self._all.append(sub)
        else:
            self._by_name.setdefault(name_or_star, []).append(sub)
        self._subscriptions.append(sub)
        if self._running:
            sub._start()
        return sub

    def publish(self, item: PbxEvent) -> None:
        """Queue ``item`` for its subscribers; never blocks, never raises for a subscriber's sake."""
        named = self._by_name.get(item.event.name)
        if named:
            for sub in named:
                sub.offer(item)
        for sub in self._all:
            sub.offer(item)

    async def start(self) -> None:
        """Start every subscriber's task (subscribers added later start at once)."""
        self._running = True
        for sub in self._subscriptions:
            sub._start()

    async def stop(self, *, drain_timeout: float = 5.0) -> None:
        """Let subscribers finish what is queued (up to ``drain_timeout`` s each, together), then stop."""
        self._running = False
        await asyncio.gather(*(sub._finish(drain_timeout) for sub in list(self._subscriptions)))

    def stats(self) -> list[SubscriberStats]:
        return [sub.stats() for sub in self._subscriptions]

    def dropped_total(self) -> int:
        """Events dropped for slow subscribers since start, all subscribers together."""
        return sum(sub.dropped for sub in self._subscriptions)

    def metrics(self) -> dict[str, Any]:
        """Totals and per-subscriber counters, shaped for a JSON /metrics endpoint."""
        subs = self.stats()
        return {
            "subscribers": [_as_dict(s) for s in subs],
            "dropped_total": sum(s.dropped for s in subs),
            "failed_total": sum(s.failed for s in subs),
        }

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)
        if sub.pattern == ALL_EVENTS:
            if sub in self._all:
                self._all.remove(sub)
        else:
            named = self._by_name.get(sub.pattern, [])
            if sub in named:
                named.remove(sub)
            if not named:
                self._by_name.pop(sub.pattern, None)


def _as_dict(stats: SubscriberStats) -> dict[str, Any]:
    return {
        "name": stats.name,
        "pattern": stats.pattern,
        "queued": stats.queued,
        "delivered": stats.delivered,
        "dropped": stats.dropped,
        "failed": stats.failed,
    }
