"""The durable AMI event log: every event is committed before any projection sees it.

``append()`` only queues (the AMI read loop never waits on the disk); one writer task commits batches
with a single INSERT ... ON CONFLICT DO NOTHING each, then awaits the listeners with what was really
added. When the database fails, the batch is kept and retried with backoff; past ``max_backlog`` events
the backlog is spilled to fsynced JSON lines in ``spool_dir`` and replayed, oldest first, once the
database answers again (and at every start). Nothing appended is dropped.

On PostgreSQL the listeners of a committed batch run while the next batch is written: at most one
batch is being projected at a time, batches reach the listeners in log order, and
:meth:`EventLog.flush` returns only once the listeners of everything appended before it have
returned. On SQLite they run between two writes: SQLite takes one writer at a time and its driver
works in a thread that needs the GIL back after every statement, so there the overlap measured
slower (bench/bench_pipeline.py: a few per cent fewer events/s) than taking turns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.logs import get_logger
from hotline.store.db import describe_error, mask_url
from hotline.store.events import PbxEventLike, PendingRow, StoredEvent, insert_rows, row_from_event
from hotline.store.spool import Spool

log = get_logger("hotline.store.eventlog")

Listener = Callable[[list[StoredEvent]], Awaitable[None]]


class EventLog:
    """Batched, retrying, spilling writer of ``ami_event``: :meth:`start`, :meth:`append`, :meth:`stop`.

    ``session`` tells this run's connection numbers from an earlier run's (see ``new_session_id``).
    A batch is written when ``batch_size`` events wait or the oldest has waited ``flush_interval`` s.
    Failed writes are retried after ``retry_initial`` s, doubling up to ``retry_max``; once
    ``max_backlog`` events wait, they go to ``spool_dir`` (without one, memory keeps growing).
    ``overlap`` runs the listeners of a batch while the next one is written (default: unless the
    database is SQLite, see the module docstring).
    Call every method from the event loop's thread; ``append`` is not thread-safe.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        session: str,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.05,
        spool_dir: Path | None = None,
        max_backlog: int = 100_000,
        retry_initial: float = 0.1,
        retry_max: float = 5.0,
        stop_timeout: float = 5.0,
        overlap: bool | None = None,
    ) -> None:
        self._engine = engine
        self.session = session
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._spool = Spool(spool_dir) if spool_dir is not None else None
        self._max_backlog = max_backlog
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._stop_timeout = stop_timeout
        self._overlap = engine.dialect.name != "sqlite" if overlap is None else overlap
        self._pending: deque[PendingRow] = deque()
        self._inflight: list[PendingRow] = []
        self._listeners: list[Listener] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._notifying: asyncio.Task[None] | None = None  # the listeners of the last committed batch
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._delay = retry_initial
        self._failing_since_error = 0
        self._warned_unbounded = False
        self._spool_counts: dict[Path, int] = {}
        self._done = 0  # appended events already committed, spilled or rejected, in append order
        self._stats = dict.fromkeys(
            ("appended_total", "written_total", "duplicates_total", "batches_total", "write_errors_total",
             "spooled_total", "replayed_total", "rejected_total", "listener_errors_total"), 0,
        )  # fmt: skip

    # -- public API ---------------------------------------------------------------------------------

    def add_listener(self, callback: Listener) -> None:
        """``await callback(batch)`` after each commit, with the events that batch really added."""
        self._listeners.append(callback)

    def append(self, pbx_event: PbxEventLike) -> None:
        """Queue one event; never blocks. TypeError if ``pbx_event`` lacks the fields of an AMI event."""
        self._pending.append(row_from_event(pbx_event, self.session))
        self._stats["appended_total"] += 1
        queued = len(self._pending)
        if queued == 1 or queued >= self._batch_size:
            self._wake.set()

    async def flush(self) -> None:
        """Return once every event appended so far is committed (listeners called) or spilled to disk."""
        target = self._stats["appended_total"]
        if self._done >= target:
            return
        if self._task is None or self._task.done():
            raise RuntimeError("EventLog is not running: call start() first")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        self._wake.set()
        await future

    def stats(self) -> dict[str, int]:
        """Counters for /metrics, plus ``backlog`` (in memory) and ``spooled`` (on disk, not yet replayed)."""
        return {
            **self._stats,
            "backlog": len(self._pending) + len(self._inflight),
            "spooled": sum(self._spool_counts.values()),
        }

    async def start(self) -> None:
        """Start the writer; it first replays whatever an earlier run left in the spool."""
        if self._task is not None:
            return
        if self._spool is not None:
            for path in await asyncio.to_thread(self._spool.files):
                self._spool_counts[path] = await asyncio.to_thread(Spool.count, path)
        self._task = asyncio.create_task(self._run(), name="eventlog-writer")

    async def stop(self) -> None:
        """Flush (for at most ``stop_timeout`` s), then spill what the database did not take."""
        task = self._task
        if task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), self._stop_timeout)
        self._task = None
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await self._settle()
        leftover = [*self._inflight, *self._pending]
        if leftover and self._spool is not None and await self._spill(leftover):
            return
        if leftover:
            log.error("event log stopped with events the database never took", events=len(leftover))
        self._release_waiters()

    # -- writer -------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            if self._spool_counts and not await self._replay_spool():
                await self._after_failure()
                continue
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            if len(self._pending) < self._batch_size and not self._waiters:
                # Linger a little so a burst becomes one transaction instead of many.
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._flush_interval):
                        await self._wake.wait()
            count = min(self._batch_size, len(self._pending))
            self._inflight = batch = [self._pending.popleft() for _ in range(count)]
            while self._inflight is batch:  # a spill during the retries empties it
                if await self._write(batch, appended=len(batch)):
                    self._inflight = []
                else:
                    await self._after_failure()

    async def _write(self, rows: list[PendingRow], *, appended: int) -> bool:
        """Commit ``rows`` and hand them to the listeners; False (rows kept by the caller) if that failed.

        ``appended`` is how many of them count as done once their listeners return (0 for spooled
        rows, already counted when they were spilled).
        """
        try:
            stored = await self._store(rows)
        except Exception as exc:  # any failure: the rows stay queued; a later attempt may succeed
            self._on_write_error(exc, len(rows))
            return False
        self._on_write_ok()
        self._stats["batches_total"] += 1
        self._stats["written_total"] += len(stored)
        self._stats["duplicates_total"] += len(rows) - len(stored)
        # The previous batch's listeners ran while this one was written; this batch's start now.
        await self._settle()
        if not stored:
            self._mark_done(appended)
        elif self._overlap:
            self._notifying = asyncio.create_task(self._notify(stored, appended), name="eventlog-listeners")
        else:
            await self._notify(stored, appended)
        return True

    async def _settle(self) -> None:
        """Wait for the listeners of the last committed batch (they never raise)."""
        if self._notifying is not None:
            await asyncio.shield(self._notifying)
            self._notifying = None

    async def _store(self, rows: list[PendingRow]) -> list[StoredEvent]:
        try:
            async with self._engine.begin() as connection:
                return await insert_rows(connection, rows)
        except (DataError, IntegrityError) as exc:
            # The database refuses some value: find it row by row so the others are still written.
            if len(rows) > 1:
                return [event for row in rows for event in await self._store([row])]
            await self._reject(rows[0], describe_error(self._engine, exc))
            return []

    async def _notify(self, stored: list[StoredEvent], appended: int) -> None:
        for listener in self._listeners:
            try:
                await listener(stored)
            except Exception:  # a broken projection must not stop the log
                self._stats["listener_errors_total"] += 1
                log.exception("event log listener failed", listener=getattr(listener, "__qualname__", "?"))
        self._mark_done(appended)

    async def _after_failure(self) -> None:
        backlog = len(self._pending) + len(self._inflight)
        if backlog >= self._max_backlog:
            if self._spool is not None and await self._spill([*self._inflight, *self._pending]):
                return
            if self._spool is None and not self._warned_unbounded:
                self._warned_unbounded = True
                log.warning("event log backlog past its bound and no spool_dir: memory grows", events=backlog)
        await asyncio.sleep(self._delay)
        self._delay = min(self._delay * 2, self._retry_max)

    def _on_write_error(self, exc: Exception, count: int) -> None:
        self._stats["write_errors_total"] += 1
        self._failing_since_error += 1
        if self._failing_since_error == 1:
            log.error(
                "event log cannot write to the database; events kept and retried",
                database=mask_url(self._engine.url), reason=describe_error(self._engine, exc), events=count,
            )  # fmt: skip

    def _on_write_ok(self) -> None:
        if self._failing_since_error:
            log.info("event log writing again", failed_attempts=self._failing_since_error)
        self._failing_since_error = 0
        self._warned_unbounded = False
        self._delay = self._retry_initial

    def _mark_done(self, count: int) -> None:
        self._done += count
        still_waiting = []
        for target, future in self._waiters:
            if target <= self._done:
                if not future.done():
                    future.set_result(None)
            else:
                still_waiting.append((target, future))
        self._waiters = still_waiting

    def _release_waiters(self) -> None:
        for _, future in self._waiters:
            if not future.done():
                future.set_result(None)
        self._waiters = []

    # -- spool --------------------------------------------------------------------------------------

    async def _spill(self, rows: list[PendingRow]) -> bool:
        """Move ``rows`` (the oldest in memory, in order) to a new spool file; False if the disk refused."""
        assert self._spool is not None
        await self._settle()  # the batch committed before these is done first: done stays in order
        try:
            path = await asyncio.to_thread(self._spool.spill, rows)
        except OSError as exc:
            log.error("event log cannot spill to its spool; events kept in memory", reason=str(exc))
            return False
        self._spool_counts[path] = len(rows)
        self._stats["spooled_total"] += len(rows)
        # The spilled rows are exactly the in-flight batch followed by the head of the queue (appends
        # made while the file was written stay queued behind them).
        for _ in range(len(rows) - len(self._inflight)):
            self._pending.popleft()
        self._inflight = []
        self._mark_done(len(rows))
        log.warning("event log spilled events to disk", file=str(path), events=len(rows))
        return True

    async def _replay_spool(self) -> bool:
        """Commit the spooled files oldest first; False if the database failed (files kept)."""
        assert self._spool is not None
        for path in sorted(self._spool_counts):
            rows = await asyncio.to_thread(Spool.read, path)
            for start in range(0, len(rows), self._batch_size):
                # Spooled rows already count as done; after a failure, replaying again only meets duplicates.
                if not await self._write(rows[start : start + self._batch_size], appended=0):
                    return False
            await asyncio.to_thread(Spool.remove, path)
            self._spool_counts.pop(path)
            self._stats["replayed_total"] += len(rows)
            log.info("event log replayed spooled events", file=str(path), events=len(rows))
        return True

    async def _reject(self, row: PendingRow, reason: str) -> None:
        self._stats["rejected_total"] += 1
        params = row.params
        where = None
        if self._spool is not None:
            try:
                where = str(await asyncio.to_thread(self._spool.reject, row, reason))
            except OSError as exc:
                reason = f"{reason}; and the spool refused it too: {exc}"
        log.error(
            "database refused an AMI event",
            pbx=params["pbx"], event_name=params["name"], seq=params["seq"], reason=reason, kept_in=where,
        )  # fmt: skip
