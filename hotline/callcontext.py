"""What the IVR learned about a call, for whoever handles it next (the CTI screen-pop, recordings).

The IVR writes (menu choice, path, verification result) while the caller is in the
menu; the CTI reads it a few seconds later when an agent's phone rings. Reads are
served from memory (the pop must not wait for a database), writes go to memory at
once and to the store in the background so that another hotline instance, or this
one after a restart, still finds them. A dead database never blocks the IVR: the
write is retried by the store's own backoff and the in-memory copy serves the pop.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hotline.logs import get_logger

log = get_logger(__name__)

PersistMany = Callable[[list[tuple[str, str, dict[str, str], str | None]]], Awaitable[object]]
"""Store many calls' values in one transaction: ``[(pbx, uniqueid, values, linkedid), ...]``."""
Load = Callable[[str, str], Awaitable[dict[str, str]]]

WRITE_RETRY_S = 1.0
"""Pause before a failed write is tried again (the store is down; memory still serves the pops)."""


class CallContext:
    """Bounded in-memory map (pbx, uniqueid) -> {key: value}, optionally backed by the store."""

    def __init__(
        self, *, persist: PersistMany | None = None, load: Load | None = None, max_calls: int = 50_000
    ) -> None:
        self._data: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()
        self._linked: dict[tuple[str, str], str] = {}
        self._persist = persist
        self._load = load
        self._max = max_calls
        # Writes waiting for the store, coalesced per call: one transaction carries every call that
        # set something while the previous one was being written (1,000 callers in the menu would
        # otherwise mean 1,000 transactions fighting for SQLite's write lock).
        self._queued: dict[tuple[str, str], tuple[dict[str, str], str | None]] = {}
        self._writer: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.persist_errors = 0
        self.writes = 0

    async def set(
        self, pbx: str, uniqueid: str, values: Mapping[str, str], linkedid: str | None = None
    ) -> None:
        key = (pbx, uniqueid)
        current = self._data.setdefault(key, {})
        current.update({k: str(v) for k, v in values.items()})
        current.setdefault("_updated", f"{time.time():.3f}")
        self._data.move_to_end(key)
        if linkedid:
            self._linked[key] = linkedid
        while len(self._data) > self._max:
            old, _ = self._data.popitem(last=False)
            self._linked.pop(old, None)
        if self._persist is not None:
            queued_values, queued_linkedid = self._queued.get(key, ({}, None))
            queued_values.update({k: str(v) for k, v in values.items()})
            self._queued[key] = (queued_values, linkedid or queued_linkedid)
            self._idle.clear()
            if self._writer is None or self._writer.done():
                self._writer = asyncio.create_task(self._write_queued(), name="call-context-writer")

    async def _write_queued(self) -> None:
        assert self._persist is not None
        while self._queued:
            batch, self._queued = self._queued, {}
            items = [(pbx, uid, values, linkedid) for (pbx, uid), (values, linkedid) in batch.items()]
            try:
                await self._persist(items)
                self.writes += 1
            except Exception as exc:  # the store being down must not break the IVR; memory still serves
                self.persist_errors += 1
                log.error("call context not stored; retrying", calls=len(items), error=str(exc))
                # Put the batch back in front (it is older), under any newer values set meanwhile.
                merged: dict[tuple[str, str], tuple[dict[str, str], str | None]] = {}
                for key, (values, linkedid) in batch.items():
                    newer, newer_linkedid = self._queued.get(key, ({}, None))
                    merged[key] = ({**values, **newer}, newer_linkedid or linkedid)
                merged.update((k, v) for k, v in self._queued.items() if k not in merged)
                self._queued = merged
                # Bounded like the memory map: during a long outage the oldest calls' writes go.
                while len(self._queued) > self._max:
                    self._queued.pop(next(iter(self._queued)))
                await asyncio.sleep(WRITE_RETRY_S)
        self._idle.set()

    async def get(self, pbx: str, uniqueid: str) -> dict[str, str]:
        found = self._data.get((pbx, uniqueid))
        if found is not None:
            return {k: v for k, v in found.items() if not k.startswith("_")}
        if self._load is None:
            return {}
        try:
            loaded = await self._load(pbx, uniqueid)
        except Exception as exc:  # a read failure means "nothing known", never a failed pop
            log.warning("call context not loaded", pbx=pbx, uniqueid=uniqueid, error=str(exc))
            return {}
        if loaded:
            self._data[(pbx, uniqueid)] = dict(loaded)
        return dict(loaded)

    def peek(self, pbx: str, uniqueid: str) -> dict[str, str]:
        """Synchronous, memory-only read (for the hot path of the screen-pop)."""
        found = self._data.get((pbx, uniqueid), {})
        return {k: v for k, v in found.items() if not k.startswith("_")}

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every value set so far is stored (at shutdown, and in tests).

        Gives up after ``timeout`` seconds with one error line when the store stays down: the
        values were already served from memory, and a stopping service must not hang on them.
        """
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            log.error("call context not stored before shutdown", calls=len(self._queued))
            if self._writer is not None:
                self._writer.cancel()

    def stats(self) -> dict[str, Any]:
        return {
            "calls": len(self._data),
            "queued_writes": len(self._queued),
            "persist_errors": self.persist_errors,
        }
