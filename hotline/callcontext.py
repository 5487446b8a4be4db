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

Persist = Callable[[str, str, Mapping[str, str], str | None], Awaitable[None]]
Load = Callable[[str, str], Awaitable[dict[str, str]]]


class CallContext:
    """Bounded in-memory map (pbx, uniqueid) -> {key: value}, optionally backed by the store."""

    def __init__(
        self, *, persist: Persist | None = None, load: Load | None = None, max_calls: int = 50_000
    ) -> None:
        self._data: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()
        self._linked: dict[tuple[str, str], str] = {}
        self._persist = persist
        self._load = load
        self._max = max_calls
        self._pending: set[asyncio.Task[None]] = set()
        self.persist_errors = 0

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
            task = asyncio.create_task(self._write(pbx, uniqueid, dict(values), linkedid))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _write(self, pbx: str, uniqueid: str, values: dict[str, str], linkedid: str | None) -> None:
        assert self._persist is not None
        try:
            await self._persist(pbx, uniqueid, values, linkedid)
        except Exception as exc:  # the store being down must not break the IVR; memory still serves
            self.persist_errors += 1
            log.error("call context not stored", pbx=pbx, uniqueid=uniqueid, error=str(exc))

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

    async def drain(self) -> None:
        """Wait for background writes (used at shutdown and by tests)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def stats(self) -> dict[str, Any]:
        return {
            "calls": len(self._data),
            "pending_writes": len(self._pending),
            "persist_errors": self.persist_errors,
        }
