"""One writer per store: every IVR write goes through it, many writes share one transaction.

Why: with a thousand callers each writing its own rows, a thousand transactions race for the
database's write lock. On SQLite the losers sleep in the busy handler (1 ms, 2 ms, 5 ms ... 100 ms
steps) and a caller's command waits seconds; on PostgreSQL each commit is a round trip and an
fsync. Here writes queue up while the previous batch is being written and then go together, in
one transaction, one commit (group commit): the writer never competes with itself, a quiet
system writes each row at once, and a busy one writes hundreds per commit.

Two kinds of writes:

- :meth:`StoreWriter.write` is awaited: it returns the batch's result for it once committed, or
  raises :class:`StoreWriteError` if it could not be written (a payment claim, which must be
  stored *before* the core system is asked). If its caller is cancelled before the batch
  starts, it is not written at all.
- :meth:`StoreWriter.defer` returns at once: the row is in the writer's queue, which belongs to
  the feature, not to the call, so a hang-up or a cancelled AGI session cannot lose it;
  :meth:`StoreWriter.flush` (at shutdown, or before a read that must see it) waits until it is
  written. A crash loses at most the queue of the moment (a settled payment then stays
  ``pending`` and the start-up reconciliation settles it again with the same key).

A batch that fails is retried one write at a time, so one bad row cannot take the others down;
a write that fails alone is reported to its waiter, or logged (one line) if nobody waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.logs import get_logger
from hotline.store.db import describe_error

log = get_logger(__name__)

MAX_BATCH: Final = 1000
"""Writes per transaction at most: a commit stays short, and waiters see progress under a flood."""


class StoreWriteError(Exception):
    """A write the database refused; the message is the database's reason, without the row's values."""


class Write(Protocol):
    @property
    def label(self) -> str:
        """What the write is, for a log line (no customer data)."""
        ...


W = TypeVar("W", bound=Write)
WriteBatch = Callable[[AsyncConnection, Sequence[W]], Awaitable[Sequence[Any]]]
"""Executes writes inside an open transaction; returns one result per write, in order."""


@dataclass(eq=False)
class _Entry(Generic[W]):
    write: W | None
    """None: a flush barrier, done when everything queued before it is."""
    waiter: asyncio.Future[Any] | None


class StoreWriter(Generic[W]):
    """Queues writes and executes them in batches, one transaction at a time (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, execute: WriteBatch[W], *, name: str) -> None:
        self.engine = engine
        self._execute = execute
        self.name = name
        self._queue: list[_Entry[W]] = []
        self._task: asyncio.Task[None] | None = None
        self._in_flight = 0
        self.failures = 0
        """Deferred writes that could not be stored (each logged)."""
        self.batches = 0
        """Transactions committed (each with one or more writes)."""

    @property
    def pending(self) -> int:
        """Writes queued or being written."""
        return len(self._queue) + self._in_flight

    def defer(self, write: W) -> None:
        """Queue ``write``; it is stored with the next batch, whatever happens to the caller."""
        self._push(_Entry(write, None))

    async def write(self, write: W) -> Any:
        """Store ``write`` and return its result; raises what the database raised."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._push(_Entry(write, waiter))
        return await waiter

    async def flush(self) -> None:
        """Wait until every write queued before this call is stored (or reported failed)."""
        if not self._queue and self._task is None:
            return
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._push(_Entry(None, waiter))
        await asyncio.shield(waiter)

    def _push(self, entry: _Entry[W]) -> None:
        self._queue.append(entry)
        if self._task is None:
            # The writer runs while there is work and ends when the queue is empty: there is no
            # task to start or stop with the feature, and nothing is left running in an idle loop.
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"{self.name}-writer")

    async def _run(self) -> None:
        try:
            while self._queue:
                entries = self._queue[:MAX_BATCH]
                del self._queue[:MAX_BATCH]
                self._in_flight = len(entries)
                try:
                    await self._store(entries)
                except asyncio.CancelledError:  # the loop is closing: whatever is left, say so
                    self._report_lost([*entries, *self._queue])
                    self._queue.clear()
                    raise
                self._in_flight = 0
        finally:
            self._task = None
            self._in_flight = 0

    async def _store(self, entries: list[_Entry[W]]) -> None:
        # A waiter that went away before its batch started (its session was cancelled) does not
        # want its write any more: a payment claim nobody will act on must not be stored.
        live = [e for e in entries if e.write is not None and not (e.waiter is not None and e.waiter.done())]
        if live:
            try:
                results = await self._transaction(live)
            except Exception:
                await self._one_by_one(live)
            else:
                self.batches += 1
                for entry, result in zip(live, results, strict=True):
                    _resolve(entry, result)
        for entry in entries:  # barriers, and any waiter left (cancelled ones are already done)
            _resolve(entry, None)

    async def _transaction(self, entries: list[_Entry[W]]) -> Sequence[Any]:
        writes = [e.write for e in entries if e.write is not None]
        async with self.engine.begin() as connection:
            return await self._execute(connection, writes)

    async def _one_by_one(self, entries: list[_Entry[W]]) -> None:
        for entry in entries:
            try:
                (result,) = await self._transaction([entry])
            except Exception as exc:
                # The database's own words, never the statement's parameters (customer numbers).
                failure = StoreWriteError(describe_error(self.engine, exc))
                if entry.waiter is not None:
                    if not entry.waiter.done():
                        entry.waiter.set_exception(failure)
                    continue
                self.failures += 1
                label = entry.write.label if entry.write is not None else "flush"
                log.error("ivr store write failed", writer=self.name, write=label, error=str(failure))
            else:
                _resolve(entry, result)

    def _report_lost(self, entries: list[_Entry[W]]) -> None:
        lost = [e for e in entries if e.write is not None and e.waiter is None]
        for entry in entries:
            if entry.waiter is not None and not entry.waiter.done():
                entry.waiter.cancel()
        if lost:
            self.failures += len(lost)
            log.error("ivr store writes lost: writer cancelled", writer=self.name, writes=len(lost))


def _resolve(entry: _Entry[Any], result: Any) -> None:
    if entry.waiter is not None and not entry.waiter.done():
        entry.waiter.set_result(result)
