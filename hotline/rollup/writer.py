"""Keep ``queue_attempt`` and ``kpi_rollup`` current, together, in one transaction per batch.

The projector emits an attempt again every time it changes. For each call touched by a batch, the
writer reads the call's stored attempts (every source), works out the call's contribution to the
rollups before and after (:func:`hotline.rollup.contrib.contribution`), then upserts the attempts and
adds the difference to the rollups in one transaction: the rollups can never disagree with the
attempts they summarise, and applying the same attempts again adds nothing. One writer per
database at a time (the service, or ``hotline rebuild``/``ingest`` run while it is stopped).

A longest wait can only grow by addition; when a change lowers the longest wait a row got from a
call, that row's maximum is computed again from the stored attempts (rare: a wait is corrected).

Listeners (the wallboard) get each committed difference, under a lock that
:meth:`RollupWriter.read_and_listen` also takes, so a reader that loads the rollups and then
follows the differences never counts one twice nor misses one.

Another projection of the same batch (the agent sessions, :class:`SharedWrite`) may write its
rows in the same transaction: one commit per batch instead of two, and on SQLite (which syncs
the WAL at every commit) a commit is the dearest statement of a batch. A transaction that fails
loses nothing: its attempts are kept and written with the next :meth:`RollupWriter.apply` (a
newer version of the same attempt replaces the kept one), the shared writer keeps its rows the
same way, and the listeners hear only of committed differences. When only the shared rows fail,
the attempts and rollups are committed without them.

A row the database refuses every time (a poison row) must not hold back every later batch: after
:data:`POISON_AFTER` failed transactions in a row, the kept attempts are written one call per
transaction and the shared writer's rows one at a time (:meth:`SharedWrite.salvage`). Only what
the database refuses for good (:func:`refused_for_good`: a constraint, a value, a statement, not a
lock wait or a lost connection) while the rest commits is dropped, logged with its keys and
counted (``hotline_projection_dropped_total``): the event log still holds its events, so
``hotline rebuild`` projects it again once the cause is fixed. When everything fails, or fails
for a passing reason, nothing is dropped.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Protocol, TypeVar

from sqlalchemy import Table, and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.config import KpiConfig
from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt
from hotline.logs import get_logger
from hotline.rollup.contrib import (
    RowKey,
    Thresholds,
    Vector,
    add_into,
    as_attempt,
    contribution,
    difference,
)
from hotline.rollup.tables import (
    ALL,
    INTERVAL_S,
    KEY_COLUMNS,
    MAX_COLUMN,
    NO_AGENT,
    SUM_COLUMNS,
    kpi_rollup,
)
from hotline.store.db import SQLITE_MAX_VARIABLES
from hotline.store.models import QUEUE_ATTEMPT_FIELDS, QUEUE_ATTEMPT_KEY, Base, QueueAttemptRow
from hotline.store.repo import attempt_row

log = get_logger("hotline.rollup")

ATTEMPT: Final[Table] = Base.metadata.tables[QueueAttemptRow.__tablename__]
POISON_AFTER: Final = 3
"""Failed transactions in a row after which the kept rows are written one by one (a poison row)."""
_CHUNK: Final = 500
CallKey = tuple[str, str]
Listener = Callable[[Mapping[RowKey, Vector]], None]
AttemptKey = tuple[str, str, int, str]
T = TypeVar("T")


class SharedWrite(Protocol):
    """A writer whose rows go into the rollups' transaction (:meth:`RollupWriter.apply`)."""

    def pending(self) -> bool:
        """True when it has rows to write."""
        ...

    async def write_in(self, connection: AsyncConnection) -> int:
        """Write the pending rows inside ``connection``'s transaction (kept until :meth:`committed`)."""
        ...

    def committed(self) -> None:
        """The transaction of the last :meth:`write_in` committed: those rows are written."""
        ...

    async def salvage(self, engine: AsyncEngine) -> int:
        """Write the pending rows one transaction each and drop those that fail alone (logged);
        nothing is dropped when none can be written. Returns the rows written or dropped (0: none
        could be written, all are kept)."""
        ...


class _SharedWriteFailed(Exception):
    """A :class:`SharedWrite`'s rows failed (the cause); the transaction is rolled back."""


def refused_for_good(exc: BaseException) -> bool:
    """Whether a failed write would fail again with the same rows (a poison row), rather than for a
    passing reason: a lock held too long, a connection lost, a timeout, the driver itself away."""
    if isinstance(exc, (OperationalError, InterfaceError, OSError, TimeoutError)):
        return False
    return not (isinstance(exc, DBAPIError) and exc.connection_invalidated)


@dataclass(slots=True)
class OneByOne(Generic[T]):
    """What :func:`one_by_one` made of the rows it was given."""

    written: list[T] = field(default_factory=list)
    refused: list[T] = field(default_factory=list)
    """Refused for good (:func:`refused_for_good`)."""
    error: str = ""
    """The last refusal, for the log."""


async def one_by_one(rows: Iterable[T], write: Callable[[T], Awaitable[object]]) -> OneByOne[T]:
    """``write`` each row (in a transaction of its own), telling the rows written from those
    refused for good: how both writers salvage a batch after :data:`POISON_AFTER` failures.

    Stops at the first failure for a passing reason: the database is busy or away, and the rest
    would wait or fail alike (so nothing is dropped for it).
    """
    outcome: OneByOne[T] = OneByOne()
    for row in rows:
        try:
            await write(row)
        except Exception as exc:  # this row, or the database: told apart here
            if not refused_for_good(exc):
                break
            outcome.refused.append(row)
            outcome.error = f"{type(exc).__name__}: {exc}"
            continue
        outcome.written.append(row)
    return outcome


def _insert(connection: AsyncConnection, table: Table) -> Any:
    module: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    return module.insert(table)


class RollupWriter:
    """Writes attempts and their rollup differences; see the module docstring."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self._listeners: list[Listener] = []
        self._lock = asyncio.Lock()
        self._unwritten: dict[AttemptKey, QueueAttempt] = {}
        """Attempts of a transaction that failed: written with the next :meth:`apply`."""
        self.shared_errors = 0
        """Writes of a :class:`SharedWrite` that failed (its rows kept for the next batch)."""
        self._shared_failing = 0
        self._failing = 0
        """Transactions failed in a row (see :data:`POISON_AFTER`)."""
        self.dropped_attempts = 0
        """Attempts the database refused alone, dropped after :data:`POISON_AFTER` failures."""

    @classmethod
    def from_config(cls, kpi: KpiConfig) -> RollupWriter:
        return cls(Thresholds(kpi.service_level_seconds, kpi.short_abandon_seconds))

    def add_listener(self, listener: Listener) -> None:
        """``listener(difference)`` after each commit that changed the rollups (sync, keep it quick)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def apply(
        self, engine: AsyncEngine, attempts: Iterable[object], *, also: SharedWrite | None = None
    ) -> int:
        """Upsert ``attempts`` (QueueAttempt-like) and update the rollups; returns how many were given.

        ``also`` writes its pending rows in the same transaction (even when there are no attempts).
        If the transaction fails, the error is raised and nothing is lost: see the module docstring.
        """
        async with self._lock:
            changed = self._unwritten
            self._unwritten = {}
            for item in attempts:
                attempt = as_attempt(item)
                changed[(attempt.pbx, attempt.call_id, attempt.attempt, attempt.source)] = attempt
            shared = also is not None and also.pending()
            if not changed and not shared:
                return 0
            try:
                delta = await self._transaction(engine, list(changed.values()), also if shared else None)
            except BaseException:
                self._unwritten = changed
                self._failing += 1
                if self._failing >= POISON_AFTER:
                    await self._salvage(engine)
                raise
            self._failing = 0
            self._notify(delta)
        return len(changed)

    async def _salvage(self, engine: AsyncEngine) -> None:
        """Write the kept attempts one call per transaction; drop the calls refused alone.

        Called with the lock held after :data:`POISON_AFTER` failed transactions in a row.
        """
        calls: dict[CallKey, list[QueueAttempt]] = defaultdict(list)
        for attempt in self._unwritten.values():
            calls[(attempt.pbx, attempt.call_id)].append(attempt)

        async def write(call: CallKey) -> None:
            self._notify(await self._commit(engine, calls[call], None))

        outcome = await one_by_one(list(calls), write)
        if not outcome.written:
            return  # nothing could be written: the database is away, keep everything
        for call in outcome.written + outcome.refused:
            for attempt in calls[call]:
                del self._unwritten[(attempt.pbx, attempt.call_id, attempt.attempt, attempt.source)]
        self.dropped_attempts += sum(len(calls[call]) for call in outcome.refused)
        self._failing = 0
        if outcome.refused:
            log.error("attempts the database refuses were dropped; `hotline rebuild` projects them again",
                      calls=[f"{pbx}/{call_id}" for pbx, call_id in outcome.refused[:20]],
                      error=outcome.error)  # fmt: skip

    async def _transaction(
        self, engine: AsyncEngine, attempts: list[QueueAttempt], also: SharedWrite | None
    ) -> dict[RowKey, Vector]:
        """Commit the attempts, their rollup difference and ``also``'s rows; the difference.

        If only ``also``'s rows fail, the attempts and rollups are committed again without them
        (a fault in one projection must not stop the KPIs; its rows wait for the next batch).
        Trying everything in one transaction first spares the common case a savepoint.
        """
        try:
            return await self._commit(engine, attempts, also)
        except _SharedWriteFailed as failed:
            self.shared_errors += 1
            self._shared_failing += 1
            if self._shared_failing == 1:  # once per streak: a batch a second would flood the log
                cause = failed.__cause__
                log.error("rows sharing the rollup transaction failed; kept and retried with each batch",
                          writer=type(also).__name__, error=f"{type(cause).__name__}: {cause}")  # fmt: skip
            if also is not None and self._shared_failing >= POISON_AFTER and await also.salvage(engine):
                self._shared_failing = 0
        return await self._commit(engine, attempts, None) if attempts else {}

    async def _commit(
        self, engine: AsyncEngine, attempts: list[QueueAttempt], also: SharedWrite | None
    ) -> dict[RowKey, Vector]:
        delta: dict[RowKey, Vector] = {}
        async with engine.begin() as connection:
            if attempts:
                # On SQLite the read shares the connection but not the write transaction: the
                # driver begins that at the first write, so the read is no stale snapshot that a
                # write must then upgrade (refused at once if another connection wrote in between,
                # where a writing transaction waits its turn); PostgreSQL reads committed rows
                # anyway. This writer's lock keeps the read current: only it writes
                # queue_attempt and kpi_rollup in this process.
                stored = await _stored_attempts(connection, {(a.pbx, a.call_id) for a in attempts})
                delta = await self._write(connection, attempts, stored)
            if also is not None:
                try:
                    await also.write_in(connection)
                except Exception as exc:
                    raise _SharedWriteFailed from exc
        if also is not None:
            also.committed()
            if self._shared_failing:
                log.info(
                    "rows sharing the rollup transaction written again", failed_batches=self._shared_failing
                )
                self._shared_failing = 0
        return delta

    async def apply_in(
        self, connection: AsyncConnection, attempts: list[QueueAttempt]
    ) -> dict[RowKey, Vector]:
        """:meth:`apply` inside the caller's transaction; returns the rollup difference it added."""
        stored = await _stored_attempts(connection, {(a.pbx, a.call_id) for a in attempts})
        return await self._write(connection, attempts, stored)

    async def _write(
        self,
        connection: AsyncConnection,
        attempts: list[QueueAttempt],
        stored: Mapping[CallKey, list[QueueAttempt]],
    ) -> dict[RowKey, Vector]:
        calls: dict[CallKey, list[QueueAttempt]] = defaultdict(list)
        for attempt in attempts:
            calls[(attempt.pbx, attempt.call_id)].append(attempt)
        delta: dict[RowKey, Vector] = {}
        longest: dict[RowKey, int] = {}
        lowered: set[RowKey] = set()
        for call, fresh in calls.items():
            before = stored.get(call, [])
            merged = {(a.attempt, a.source): a for a in before}
            merged.update({(a.attempt, a.source): a for a in fresh})
            old_sums, old_longest = contribution(before, self.thresholds)
            new_sums, new_longest = contribution(merged.values(), self.thresholds)
            add_into(delta, difference(new_sums, old_sums))
            for key, wait in old_longest.items():
                if new_longest.get(key, -1) < wait:
                    lowered.add(key)
            for key, wait in new_longest.items():
                longest[key] = max(longest.get(key, -1), wait)
                delta.setdefault(key, [0] * len(SUM_COLUMNS))  # the row must exist to hold the maximum
        await _upsert_attempts(connection, attempts)
        await _add_rollups(connection, delta, longest)
        if lowered:
            await _recompute_longest(connection, lowered)
        return {key: vector for key, vector in delta.items() if any(vector)}

    async def seed_in(self, connection: AsyncConnection, attempts: Iterable[QueueAttempt]) -> int:
        """Add the whole contribution of already stored calls to rollups that hold none of it (rebuild)."""
        calls: dict[CallKey, list[QueueAttempt]] = defaultdict(list)
        for attempt in attempts:
            calls[(attempt.pbx, attempt.call_id)].append(attempt)
        sums: dict[RowKey, Vector] = {}
        longest: dict[RowKey, int] = {}
        for call in calls.values():
            call_sums, call_longest = contribution(call, self.thresholds)
            add_into(sums, call_sums)
            for key, wait in call_longest.items():
                longest[key] = max(longest.get(key, -1), wait)
        await _add_rollups(connection, sums, longest)
        return len(calls)

    async def read_and_listen(
        self, engine: AsyncEngine, since: float, listener: Listener
    ) -> list[dict[str, Any]]:
        """The queue rows of ``kpi_rollup`` from ``since`` on, then every later difference to ``listener``.

        Both under the writer's lock, so each committed change is in exactly one of the two.
        """
        async with self._lock:
            # Only the interval in the WHERE: the interval index then reads the last day, however
            # long the history; the queue rows are picked here.
            query = select(kpi_rollup).where(
                kpi_rollup.c.interval_start >= int(since // INTERVAL_S) * INTERVAL_S
            )
            async with engine.connect() as connection:
                rows = [
                    dict(row)
                    for row in (await connection.execute(query)).mappings()
                    if row["agent"] == NO_AGENT and row["queue"] != ALL and row["pbx"] != ALL
                ]
            self.add_listener(listener)
        return rows

    def _notify(self, delta: Mapping[RowKey, Vector]) -> None:
        if not delta:
            return
        for listener in list(self._listeners):
            try:
                listener(delta)
            except Exception:  # a broken view must not undo or stop the projection
                log.exception("rollup listener failed")


async def _stored_attempts(
    connection: AsyncConnection, calls: Iterable[CallKey]
) -> dict[CallKey, list[QueueAttempt]]:
    by_pbx: dict[str, list[str]] = defaultdict(list)
    for pbx, call_id in calls:
        by_pbx[pbx].append(call_id)
    found: dict[CallKey, list[QueueAttempt]] = defaultdict(list)
    for pbx, call_ids in by_pbx.items():
        for start in range(0, len(call_ids), _CHUNK):
            query = select(ATTEMPT).where(
                ATTEMPT.c.pbx == pbx, ATTEMPT.c.call_id.in_(call_ids[start : start + _CHUNK])
            )
            for row in (await connection.execute(query)).mappings():
                attempt = as_attempt(row)
                found[(attempt.pbx, attempt.call_id)].append(attempt)
    return found


async def _upsert_attempts(connection: AsyncConnection, attempts: list[QueueAttempt]) -> None:
    rows = [attempt_row(attempt) for attempt in attempts]
    if connection.dialect.name == "sqlite":
        updates = [
            f"{name} = excluded.{name}" for name in QUEUE_ATTEMPT_FIELDS if name not in QUEUE_ATTEMPT_KEY
        ]
        values = [tuple(row[name] for name in QUEUE_ATTEMPT_FIELDS) for row in rows]
        await _sqlite_upsert(
            connection, ATTEMPT.name, QUEUE_ATTEMPT_FIELDS, QUEUE_ATTEMPT_KEY, updates, values
        )
        return
    statement = _insert(connection, ATTEMPT)
    statement = statement.on_conflict_do_update(
        index_elements=list(QUEUE_ATTEMPT_KEY),
        set_={
            name: statement.excluded[name] for name in QUEUE_ATTEMPT_FIELDS if name not in QUEUE_ATTEMPT_KEY
        },
    )
    for start in range(0, len(rows), _CHUNK):
        await connection.execute(statement, rows[start : start + _CHUNK])


_ROLLUP_COLUMNS: Final = (*KEY_COLUMNS, *SUM_COLUMNS, MAX_COLUMN)
_ROLLUP_UPDATES: Final = (
    *(f"{name} = {name} + excluded.{name}" for name in SUM_COLUMNS),
    f"{MAX_COLUMN} = max({MAX_COLUMN}, excluded.{MAX_COLUMN})",
)


async def _add_rollups(
    connection: AsyncConnection, delta: Mapping[RowKey, Vector], longest: Mapping[RowKey, int]
) -> None:
    if not delta:
        return
    if connection.dialect.name == "sqlite":
        values = [
            (agent, queue, pbx, start, *vector, longest.get((pbx, queue, agent, start), -1))
            for (pbx, queue, agent, start), vector in sorted(delta.items())
        ]
        await _sqlite_upsert(
            connection, kpi_rollup.name, _ROLLUP_COLUMNS, KEY_COLUMNS, _ROLLUP_UPDATES, values
        )
        return
    statement = _insert(connection, kpi_rollup)
    set_: dict[str, Any] = {name: kpi_rollup.c[name] + statement.excluded[name] for name in SUM_COLUMNS}
    set_[MAX_COLUMN] = func.greatest(kpi_rollup.c[MAX_COLUMN], statement.excluded[MAX_COLUMN])
    statement = statement.on_conflict_do_update(
        index_elements=list(kpi_rollup.primary_key.columns), set_=set_
    )
    rows = [
        {
            "pbx": pbx,
            "queue": queue,
            "agent": agent,
            "interval_start": start,
            **dict(zip(SUM_COLUMNS, vector, strict=True)),
            MAX_COLUMN: longest.get((pbx, queue, agent, start), -1),
        }
        for (pbx, queue, agent, start), vector in sorted(delta.items())
    ]
    for begin in range(0, len(rows), _CHUNK):
        await connection.execute(statement, rows[begin : begin + _CHUNK])


async def _sqlite_upsert(
    connection: AsyncConnection,
    table: str,
    columns: Sequence[str],
    conflict: Sequence[str],
    updates: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """``INSERT ... VALUES (...), (...) ON CONFLICT DO UPDATE``: as few statements as SQLite allows.

    One statement is one step of SQLite's engine, so its thread takes the GIL back once, not once
    per row as ``executemany`` does (each of those waits while the event loop is busy).
    """
    per_statement = SQLITE_MAX_VARIABLES // len(columns)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = _sqlite_upsert_sql(table, tuple(columns), tuple(conflict), tuple(updates), len(chunk))
        await connection.exec_driver_sql(sql, tuple(itertools.chain.from_iterable(chunk)))


@functools.lru_cache(maxsize=256)
def _sqlite_upsert_sql(
    table: str, columns: tuple[str, ...], conflict: tuple[str, ...], updates: tuple[str, ...], rows: int
) -> str:
    one = "(" + ", ".join("?" * len(columns)) + ")"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)} "  # noqa: S608
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {', '.join(updates)}"
    )


def effective_attempts() -> Any:
    """A WHERE clause keeping the attempts of each call's best source (AMI, else queue_log)."""
    other = ATTEMPT.alias("same_call")
    seen_on_ami = exists().where(
        other.c.pbx == ATTEMPT.c.pbx,
        other.c.call_id == ATTEMPT.c.call_id,
        other.c.source == facts.SOURCE_AMI,
    )
    return or_(ATTEMPT.c.source == facts.SOURCE_AMI, ~seen_on_ami)


async def _recompute_longest(connection: AsyncConnection, keys: Iterable[RowKey]) -> None:
    for pbx, queue, agent, start in sorted(keys):
        where = [
            ATTEMPT.c.entered_at >= start,
            ATTEMPT.c.entered_at < start + INTERVAL_S,
            ATTEMPT.c.wait_s.is_not(None),
            effective_attempts(),
        ]
        if pbx != ALL:  # '' is the row of every PBX (or queue)
            where.append(ATTEMPT.c.pbx == pbx)
        if queue != ALL:
            where.append(ATTEMPT.c.queue == queue)
        if agent != NO_AGENT:
            where += [ATTEMPT.c.agent == agent, ATTEMPT.c.outcome == facts.ANSWERED]
        waits = (await connection.execute(select(ATTEMPT.c.wait_s).where(and_(*where)))).scalars()
        longest = max((round(w * 1000) for w in waits), default=-1)
        await connection.execute(
            update(kpi_rollup)
            .where(
                kpi_rollup.c.pbx == pbx,
                kpi_rollup.c.queue == queue,
                kpi_rollup.c.agent == agent,
                kpi_rollup.c.interval_start == start,
            )
            .values({MAX_COLUMN: longest})
        )
