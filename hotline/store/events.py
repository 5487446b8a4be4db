"""Stored AMI events: the row format, the duplicate-proof insert, and reading the log back in order."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.ami.protocol import Event
from hotline.store.db import SQLITE_MAX_VARIABLES
from hotline.store.models import AmiEvent, Base

AMI_EVENT: Table = Base.metadata.tables[AmiEvent.__tablename__]
EVENT_KEY = ("pbx", "session", "connection", "seq")
Headers = tuple[tuple[str, str], ...]

_encode_str: Final = json.encoder.encode_basestring
"""A JSON string literal, escaped as ``json.dumps(..., ensure_ascii=False)`` escapes it."""
_KEY_OPENINGS: dict[str, str] = {}
"""``'["Uniqueid",'`` per header name met: AMI speaks a few hundred names, each encoded once."""
_MAX_KEY_OPENINGS: Final = 4096


def headers_json(headers: Headers) -> str:
    """``json.dumps([list(pair) for pair in headers], ensure_ascii=False, separators=(",", ":"))``.

    Compact and UTF-8 as is, so the column stays readable in SQL and about a third smaller; built
    from per-name pieces because it runs for every event appended (a quarter faster than json's
    encoder with the same output).
    """
    parts = []
    for key, value in headers:
        opening = _KEY_OPENINGS.get(key)
        if opening is None:
            opening = "[" + _encode_str(key) + ","
            if len(_KEY_OPENINGS) < _MAX_KEY_OPENINGS:
                _KEY_OPENINGS[key] = opening
        parts.append(opening + _encode_str(value) + "]")
    return "[" + ",".join(parts) + "]"


class AmiEventLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def headers(self) -> Headers: ...
    def get(self, key: str, default: str | None = None) -> str | None: ...


class PbxEventLike(Protocol):
    """What the AMI client hands over: an event and where/when it came from."""

    @property
    def pbx(self) -> str: ...
    @property
    def connection(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def received_at(self) -> float: ...
    @property
    def event(self) -> AmiEventLike: ...


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One AMI event as committed in ``ami_event``; ``id`` gives the order of the log."""

    id: int
    pbx: str
    session: str
    connection: int
    seq: int
    received_at: float
    name: str
    headers: Headers
    uniqueid: str | None = None
    linkedid: str | None = None
    event_ts: float | None = None

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of ``key`` (case-insensitive), as :meth:`hotline.ami.protocol.Message.get`."""
        low = key.lower()
        return next((v for k, v in self.headers if k.lower() == low), default)

    def as_event(self) -> Event:
        """The same event as the AMI parser produced it, so projections read live and stored alike."""
        return Event(self.headers)


COLUMNS: Final = (*EVENT_KEY, "received_at", "name", "uniqueid", "linkedid", "event_ts", "headers")
"""The inserted columns of ``ami_event``, in the order of :attr:`PendingRow.values` (the key first)."""
_KEY_WIDTH: Final = len(EVENT_KEY)


@dataclass(slots=True)
class PendingRow:
    """An appended event waiting for the database: its column values plus the decoded headers."""

    values: tuple[Any, ...]
    """One value per :data:`COLUMNS` name, in that order (what a positional insert binds)."""
    headers: Headers

    @property
    def params(self) -> dict[str, Any]:
        """The values by column name (the spool's JSON lines, error reports)."""
        return dict(zip(COLUMNS, self.values, strict=True))

    @property
    def key(self) -> tuple[Any, ...]:
        """``(pbx, session, connection, seq)``: what makes an event a duplicate."""
        return self.values[:_KEY_WIDTH]

    def stored(self, event_id: int) -> StoredEvent:
        pbx, session, connection, seq, received_at, name, uniqueid, linkedid, event_ts, _ = self.values
        return StoredEvent(
            event_id, pbx, session, connection, seq, received_at, name, self.headers, uniqueid, linkedid,
            event_ts,
        )  # fmt: skip

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PendingRow:
        headers = tuple((str(k), str(v)) for k, v in json.loads(params["headers"]))
        return cls(tuple(params[name] for name in COLUMNS), headers)


def new_session_id() -> str:
    """A random session id for one AMI client process start (connection numbers restart with it)."""
    return secrets.token_hex(8)


def capture_session_id(capture: bytes) -> str:
    """A session id derived from a capture's bytes, so ingesting the same file twice adds nothing."""
    return "capture-" + hashlib.sha256(capture).hexdigest()[:32]


def _indexable(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; the copies in indexed columns drop it (headers keep it, JSON-escaped).
    return value.replace("\x00", "") if value is not None and "\x00" in value else value


def _timestamp(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def row_from_event(pbx_event: PbxEventLike, session: str) -> PendingRow:
    """The row for one appended event; raises TypeError if ``pbx_event`` is not shaped like one."""
    try:
        event = pbx_event.event
        headers = event.headers
        if type(headers) is not tuple:  # the parser's Event already holds a tuple of str pairs
            headers = tuple((str(k), str(v)) for k, v in headers)
        values = (
            _indexable(str(pbx_event.pbx)),
            session,
            int(pbx_event.connection),
            int(pbx_event.seq),
            float(pbx_event.received_at),
            _indexable(str(event.name)),
            _indexable(event.get("Uniqueid")),
            _indexable(event.get("Linkedid")),
            _timestamp(event.get("Timestamp")),
            headers_json(headers),
        )
    except (AttributeError, TypeError, ValueError) as exc:
        raise TypeError(f"not an AMI event with pbx/connection/seq/received_at/event: {exc}") from None
    return PendingRow(values, headers)


_SQLITE_ROWS_PER_STATEMENT: Final = SQLITE_MAX_VARIABLES // len(COLUMNS)
"""Rows per INSERT: 3,276 (a default batch in one statement), 99 before SQLite 3.32."""
_ON_CONFLICT: Final = f"ON CONFLICT ({', '.join(EVENT_KEY)}) DO NOTHING"
_PG_INSERT: Final = (
    f"INSERT INTO ami_event ({', '.join(COLUMNS)}) "  # noqa: S608 - constant names only
    "SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::bigint[], $5::float8[], "
    "$6::text[], $7::text[], $8::text[], $9::float8[], $10::text[]) "
    f"{_ON_CONFLICT} RETURNING id, {', '.join(EVENT_KEY)}"
)
"""The whole batch in one statement and one round trip: a column array per parameter."""


@functools.lru_cache(maxsize=64)
def _sqlite_insert(rows: int) -> str:
    one = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    return f"INSERT INTO ami_event ({', '.join(COLUMNS)}) VALUES {', '.join([one] * rows)} {_ON_CONFLICT}"  # noqa: S608


async def insert_rows(connection: AsyncConnection, rows: Sequence[PendingRow]) -> list[StoredEvent]:
    """Insert ``rows``, skipping those already stored; the events actually added, in id order.

    Inside the caller's transaction. Bound positionally, not compiled per batch: a batch costs
    a few statements, whatever its size.
    """
    if not rows:
        return []
    if connection.dialect.name == "postgresql":
        return await _insert_postgresql(connection, rows)
    stored: list[StoredEvent] = []
    for start in range(0, len(rows), _SQLITE_ROWS_PER_STATEMENT):
        stored += await _insert_sqlite(connection, rows[start : start + _SQLITE_ROWS_PER_STATEMENT])
    return stored


async def _insert_postgresql(connection: AsyncConnection, rows: Sequence[PendingRow]) -> list[StoredEvent]:
    columns = tuple(list(column) for column in zip(*(row.values for row in rows), strict=True))
    result = await connection.exec_driver_sql(_PG_INSERT, columns)
    return _match(rows, result.all())


async def _insert_sqlite(connection: AsyncConnection, rows: Sequence[PendingRow]) -> list[StoredEvent]:
    """One multi-row INSERT: a single step of SQLite's engine, so its thread seldom needs the GIL.

    ``executemany`` (or RETURNING) would take the GIL back once per row: while the event loop is
    busy, each of those waits up to the interpreter's switch interval (5 ms).
    """
    values = tuple(itertools.chain.from_iterable(row.values for row in rows))
    result = await connection.exec_driver_sql(_sqlite_insert(len(rows)), values)
    inserted, last_id = result.rowcount, result.lastrowid
    if inserted <= 0:
        return []
    # The ids are consecutive: SQLite gives a new row the largest rowid plus one, and this
    # transaction is the only writer until it commits.
    first_id = last_id - inserted + 1
    if inserted == len(rows):
        return [
            row.stored(event_id) for row, event_id in zip(rows, range(first_id, last_id + 1), strict=True)
        ]
    # Some were duplicates: which rows the new ids belong to, from their keys.
    query = select(AMI_EVENT.c.id, *(AMI_EVENT.c[k] for k in EVENT_KEY)).where(
        AMI_EVENT.c.id.between(first_id, last_id)
    )
    return _match(rows, (await connection.execute(query)).all())


def _match(rows: Sequence[PendingRow], inserted: Iterable[Sequence[Any]]) -> list[StoredEvent]:
    """The stored events of ``rows`` from ``(id, *key)`` of the rows a statement added, in id order."""
    by_key = {row.key: row for row in rows}
    stored = [by_key[tuple(key)].stored(event_id) for event_id, *key in inserted]
    stored.sort(key=lambda event: event.id)
    return stored


async def iter_events(
    engine: AsyncEngine,
    pbx: str | None = None,
    since: float | None = None,
    until: float | None = None,
    batch: int = 5000,
) -> AsyncIterator[StoredEvent]:
    """Every stored event in log (id) order, optionally of one PBX and with ``since <= received_at < until``.

    Reads page by page on the id, each page in its own short transaction, so a rebuild over millions
    of events neither holds a snapshot open nor loads everything at once.
    """
    last_id = 0
    table = AMI_EVENT
    while True:
        query = select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
        if pbx is not None:
            query = query.where(table.c.pbx == pbx)
        if since is not None:
            query = query.where(table.c.received_at >= since)
        if until is not None:
            query = query.where(table.c.received_at < until)
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        for row in rows:
            yield PendingRow.from_params(dict(row)).stored(row["id"])
        if len(rows) < batch:
            return
        last_id = rows[-1]["id"]
