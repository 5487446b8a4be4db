"""Where an AMI gap begins, and what the store already holds of the calls in it.

A gap of one PBX begins with the last event its old connection delivered. Two witnesses know it:

- :class:`LastHeard` listens to the event log's committed batches and keeps, per PBX, the time of
  the last event of each connection (``(session, connection)``): exact for a reconnect while
  hotline runs, and cheap (a dict write per event);
- :class:`StoreWitness` asks the event log's table (``ami_event``) for the newest event of any
  other connection, which also covers a restart of hotline itself (the old connection was an
  earlier process's), and the queue_attempt table for the attempts already stored of some calls
  (older than the projector's memory, or imported with ``hotline ingest --queue-log``).

Times are the PBX's (the event's ``Timestamp``), like queue_log's; events without one (QueueStatus
list items, FullyBooted) are not counted. :class:`Heard` also keeps how far the PBX's clock is from
hotline's (``Timestamp`` - receive time of that event), so hotline's own times (the resync) can be
put on the PBX's clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sqlalchemy import and_, not_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.facts import QueueAttempt
from hotline.rollup.contrib import as_attempt
from hotline.store.events import AMI_EVENT
from hotline.store.models import Base, QueueAttemptRow

ATTEMPT: Final = Base.metadata.tables[QueueAttemptRow.__tablename__]
SYNTHETIC_CONNECTION: Final = 0
"""The connection number of hotline's own synthetic events (gap completions): never an AMI link's."""
_CHUNK: Final = 500
_KEPT_CONNECTIONS: Final = 8
ConnectionKey = tuple[str, int]
"""(event-log session, connection number)."""


@dataclass(frozen=True, slots=True)
class Heard:
    """The newest event of an earlier connection: its ``Timestamp`` and the PBX clock's lead."""

    at: float
    offset: float
    """``Timestamp`` - received_at: add it to a time of hotline's to get the PBX's."""


class GapWitness(Protocol):
    async def last_heard(self, pbx: str, current: ConnectionKey) -> Heard | None:
        """The newest event of ``pbx`` from a connection other than ``current``."""
        ...

    async def first_heard(self, pbx: str, current: ConnectionKey) -> float | None:
        """The ``Timestamp`` of the first event ``current`` delivered: where the gap ended."""
        ...

    async def stored_attempts(self, pbx: str, call_ids: Collection[str]) -> dict[str, list[QueueAttempt]]:
        """call id -> its attempts in the store (every source); calls without any are left out."""
        ...


class LastHeard:
    """Per PBX and connection, the time of the last committed event (an event-log listener)."""

    def __init__(self) -> None:
        self._last: dict[str, dict[ConnectionKey, Heard]] = defaultdict(dict)
        self._first: dict[str, dict[ConnectionKey, float]] = defaultdict(dict)

    async def observe(self, batch: Sequence[Any]) -> None:
        """An :class:`~hotline.store.eventlog.EventLog` listener: ``batch`` is stored events, in log order."""
        last = self._last
        for event in batch:
            stamp = event.event_ts
            if stamp is None or event.connection == SYNTHETIC_CONNECTION:
                continue
            per_pbx = last[event.pbx]
            key = (event.session, event.connection)
            if key not in per_pbx:
                if len(per_pbx) >= _KEPT_CONNECTIONS:
                    oldest = min(per_pbx, key=lambda k: per_pbx[k].at)
                    del per_pbx[oldest]
                    self._first[event.pbx].pop(oldest, None)
                self._first[event.pbx][key] = stamp
            per_pbx[key] = Heard(stamp, stamp - event.received_at)

    async def last_heard(self, pbx: str, current: ConnectionKey) -> Heard | None:
        others = [heard for key, heard in self._last.get(pbx, {}).items() if key != current]
        return max(others, key=lambda heard: heard.at, default=None)

    async def first_heard(self, pbx: str, current: ConnectionKey) -> float | None:
        return self._first.get(pbx, {}).get(current)

    async def stored_attempts(self, pbx: str, call_ids: Collection[str]) -> dict[str, list[QueueAttempt]]:
        return {}


class StoreWitness:
    """The same questions asked of the database (``ami_event``, ``queue_attempt``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def last_heard(self, pbx: str, current: ConnectionKey) -> Heard | None:
        session, connection = current
        table = AMI_EVENT
        query = (
            select(table.c.event_ts, table.c.received_at)
            .where(
                table.c.pbx == pbx,
                table.c.connection != SYNTHETIC_CONNECTION,
                table.c.event_ts.is_not(None),
                not_(and_(table.c.session == session, table.c.connection == connection)),
            )
            .order_by(table.c.id.desc())
            .limit(1)
        )
        async with self._engine.connect() as db:
            row = (await db.execute(query)).first()
        if row is None:
            return None
        return Heard(float(row.event_ts), float(row.event_ts) - float(row.received_at))

    async def first_heard(self, pbx: str, current: ConnectionKey) -> float | None:
        session, connection = current
        table = AMI_EVENT
        query = (  # along the event key's own index (pbx, session, connection, seq)
            select(table.c.event_ts)
            .where(
                table.c.pbx == pbx,
                table.c.session == session,
                table.c.connection == connection,
                table.c.event_ts.is_not(None),
            )
            .order_by(table.c.seq)
            .limit(1)
        )
        async with self._engine.connect() as db:
            value = (await db.execute(query)).scalar()
        return float(value) if value is not None else None

    async def stored_attempts(self, pbx: str, call_ids: Collection[str]) -> dict[str, list[QueueAttempt]]:
        wanted = sorted(set(call_ids))
        found: dict[str, list[QueueAttempt]] = defaultdict(list)
        async with self._engine.connect() as db:
            for start in range(0, len(wanted), _CHUNK):
                query = select(ATTEMPT).where(
                    ATTEMPT.c.pbx == pbx, ATTEMPT.c.call_id.in_(wanted[start : start + _CHUNK])
                )
                for row in (await db.execute(query)).mappings():
                    attempt = as_attempt(row)
                    found[attempt.call_id].append(attempt)
        return dict(found)


__all__ = ["SYNTHETIC_CONNECTION", "ConnectionKey", "GapWitness", "Heard", "LastHeard", "StoreWitness"]
