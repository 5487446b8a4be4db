"""Queue attempts (the KPI facts) and call context (what the IVR learned, for the CTI screen-pop).

Functions take plain objects or dicts, so the store does not depend on the KPI package. Every database
failure comes out as one :class:`~hotline.store.db.StoreError` naming the database (password masked).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.store.db import StoreError, describe_error, mask_url
from hotline.store.models import QUEUE_ATTEMPT_FIELDS, QUEUE_ATTEMPT_KEY, Base, CallContext, QueueAttemptRow

_ATTEMPT: Table = Base.metadata.tables[QueueAttemptRow.__tablename__]
_CONTEXT: Table = Base.metadata.tables[CallContext.__tablename__]
_ATTEMPT_VALUES = [name for name in QUEUE_ATTEMPT_FIELDS if name not in QUEUE_ATTEMPT_KEY]
_CHUNK = 1000


@asynccontextmanager
async def _transaction(engine: AsyncEngine, doing: str) -> AsyncIterator[AsyncConnection]:
    try:
        async with engine.begin() as connection:
            yield connection
    except (SQLAlchemyError, OSError) as exc:
        reason = describe_error(engine, exc)
        raise StoreError(f"database {mask_url(engine.url)}: cannot {doing}: {reason}") from exc


def _insert(connection: AsyncConnection, table: Any) -> postgresql.Insert | sqlite.Insert:
    # Both dialects spell the upsert alike: on_conflict_do_update(index_elements, set_) with ``excluded``.
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_OPTIONAL_ATTEMPT_FIELDS: dict[str, Any] = {"completed_from": None}
"""Columns added after the first release: an attempt built without them gets these values."""


def attempt_row(attempt: object) -> dict[str, Any]:
    """The ``queue_attempt`` columns of a QueueAttempt-like object or mapping (TypeError if any lacks)."""
    has: Callable[[str], bool]
    get: Callable[[str], Any]
    if isinstance(attempt, Mapping):
        has, get = attempt.__contains__, attempt.__getitem__
    else:
        has = lambda name: hasattr(attempt, name)  # noqa: E731 (one lookup rule for both shapes)
        get = lambda name: getattr(attempt, name)  # noqa: E731
    missing = [
        name for name in QUEUE_ATTEMPT_FIELDS if not has(name) and name not in _OPTIONAL_ATTEMPT_FIELDS
    ]
    if missing:
        raise TypeError(f"queue attempt lacks {', '.join(missing)}")
    return {name: get(name) if has(name) else _OPTIONAL_ATTEMPT_FIELDS[name] for name in QUEUE_ATTEMPT_FIELDS}


async def upsert_attempts(engine: AsyncEngine, attempts: Iterable[object]) -> int:
    """Insert or replace attempts on (pbx, call_id, attempt, source); returns how many were given."""
    rows = [attempt_row(attempt) for attempt in attempts]
    if not rows:
        return 0
    async with _transaction(engine, "store queue attempts") as connection:
        statement = _insert(connection, _ATTEMPT)
        statement = statement.on_conflict_do_update(
            index_elements=list(QUEUE_ATTEMPT_KEY),
            set_={
                name: statement.excluded[name]
                for name in QUEUE_ATTEMPT_FIELDS
                if name not in QUEUE_ATTEMPT_KEY
            },
        )
        for start in range(0, len(rows), _CHUNK):
            await connection.execute(statement, rows[start : start + _CHUNK])
    return len(rows)


async def load_attempts(
    engine: AsyncEngine,
    since: float | None = None,
    until: float | None = None,
    pbx: str | None = None,
    source: str | None = None,
) -> list[dict[str, Any]]:
    """Attempts with ``since <= entered_at < until``, ordered by entry time, as dicts of the fact fields."""
    query = select(_ATTEMPT).order_by(
        _ATTEMPT.c.entered_at, _ATTEMPT.c.pbx, _ATTEMPT.c.call_id, _ATTEMPT.c.attempt
    )
    if since is not None:
        query = query.where(_ATTEMPT.c.entered_at >= since)
    if until is not None:
        query = query.where(_ATTEMPT.c.entered_at < until)
    if pbx is not None:
        query = query.where(_ATTEMPT.c.pbx == pbx)
    if source is not None:
        query = query.where(_ATTEMPT.c.source == source)
    async with _transaction(engine, "load queue attempts") as connection:
        result = await connection.execute(query)
        return [dict(row) for row in result.mappings()]


async def set_call_context(
    engine: AsyncEngine, pbx: str, uniqueid: str, values: Mapping[str, str], linkedid: str | None = None
) -> None:
    """Record what the IVR learned about a call; a key set again is replaced, other keys stay.

    A ``linkedid`` of None keeps the one recorded earlier for that key.
    """
    await set_call_contexts(engine, [(pbx, uniqueid, values, linkedid)])


async def set_call_contexts(
    engine: AsyncEngine, items: Iterable[tuple[str, str, Mapping[str, str], str | None]]
) -> int:
    """:func:`set_call_context` for many calls in one transaction (``(pbx, uniqueid, values, linkedid)``
    each); returns how many key rows were written."""
    now = time.time()
    rows = [
        {
            "pbx": pbx,
            "uniqueid": uniqueid,
            "key": str(key),
            "value": str(value),
            "linkedid": linkedid,
            "updated_at": now,
        }
        for pbx, uniqueid, values, linkedid in items
        for key, value in values.items()
    ]
    if not rows:
        return 0
    async with _transaction(engine, "store call context") as connection:
        statement = _insert(connection, _CONTEXT)
        statement = statement.on_conflict_do_update(
            index_elements=["pbx", "uniqueid", "key"],
            set_={
                "value": statement.excluded.value,
                "updated_at": statement.excluded.updated_at,
                "linkedid": func.coalesce(statement.excluded.linkedid, _CONTEXT.c.linkedid),
            },
        )
        await connection.execute(statement, rows)
    return len(rows)


async def get_call_context(engine: AsyncEngine, pbx: str, uniqueid: str) -> dict[str, str]:
    """Everything recorded for one call leg (empty if nothing)."""
    query = select(_CONTEXT.c.key, _CONTEXT.c.value).where(
        _CONTEXT.c.pbx == pbx, _CONTEXT.c.uniqueid == uniqueid
    )
    async with _transaction(engine, "read call context") as connection:
        return {key: value for key, value in await connection.execute(query)}


async def get_call_context_by_linkedid(engine: AsyncEngine, pbx: str, linkedid: str) -> dict[str, str]:
    """Everything recorded for any leg of one call (the newest value wins when legs disagree)."""
    query = (
        select(_CONTEXT.c.key, _CONTEXT.c.value)
        .where(_CONTEXT.c.pbx == pbx, _CONTEXT.c.linkedid == linkedid)
        .order_by(_CONTEXT.c.updated_at)
    )
    async with _transaction(engine, "read call context") as connection:
        return {key: value for key, value in await connection.execute(query)}
