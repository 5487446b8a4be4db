"""Stored AMI events: the row format, the duplicate-proof insert, and reading the log back in order."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Insert, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.ami.protocol import Event
from hotline.store.models import AmiEvent, Base

AMI_EVENT: Table = Base.metadata.tables[AmiEvent.__tablename__]
EVENT_KEY = ("pbx", "session", "connection", "seq")
Headers = tuple[tuple[str, str], ...]

# Compact and UTF-8 as is: the headers column stays readable in SQL and about a third smaller.
_HEADERS_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


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


@dataclass(slots=True)
class PendingRow:
    """An appended event waiting for the database: the insert parameters plus the decoded headers."""

    params: dict[str, Any]
    headers: Headers

    def stored(self, event_id: int) -> StoredEvent:
        p = self.params
        return StoredEvent(
            event_id, p["pbx"], p["session"], p["connection"], p["seq"], p["received_at"], p["name"],
            self.headers, p["uniqueid"], p["linkedid"], p["event_ts"],
        )  # fmt: skip

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> PendingRow:
        headers = tuple((str(k), str(v)) for k, v in json.loads(params["headers"]))
        return cls(params, headers)


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
        params = {
            "pbx": _indexable(str(pbx_event.pbx)),
            "session": session,
            "connection": int(pbx_event.connection),
            "seq": int(pbx_event.seq),
            "received_at": float(pbx_event.received_at),
            "name": _indexable(str(event.name)),
            "uniqueid": _indexable(event.get("Uniqueid")),
            "linkedid": _indexable(event.get("Linkedid")),
            "event_ts": _timestamp(event.get("Timestamp")),
            "headers": _HEADERS_JSON.encode(headers),
        }
    except (AttributeError, TypeError, ValueError) as exc:
        raise TypeError(f"not an AMI event with pbx/connection/seq/received_at/event: {exc}") from None
    return PendingRow(params, headers)


def insert_ignoring_duplicates(dialect_name: str) -> Insert:
    """INSERT ... ON CONFLICT (pbx, session, connection, seq) DO NOTHING, returning what was inserted."""
    module: Any = postgresql if dialect_name == "postgresql" else sqlite
    statement: Insert = module.insert(AMI_EVENT).on_conflict_do_nothing(index_elements=list(EVENT_KEY))
    return statement.returning(AMI_EVENT.c.id, *(AMI_EVENT.c[k] for k in EVENT_KEY))


async def insert_rows(connection: AsyncConnection, rows: Sequence[PendingRow]) -> list[StoredEvent]:
    """Insert ``rows`` in one statement; the events actually added (duplicates left out), in id order."""
    if not rows:
        return []
    statement = insert_ignoring_duplicates(connection.dialect.name)
    result = await connection.execute(statement, [row.params for row in rows])
    by_key = {tuple(row.params[k] for k in EVENT_KEY): row for row in rows}
    inserted = [by_key[tuple(key)].stored(event_id) for event_id, *key in result]
    inserted.sort(key=lambda stored: stored.id)
    return inserted


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
