"""The CTI's rows in the store: state intervals (batched) and dispositions.

State intervals come from the AMI event path, which must never wait for a
database. :class:`IntervalWriter` only appends to a bounded buffer; its own task
writes batches. While the database is down the buffer holds up to ``max_buffer``
rows (hours of a large floor), retried every ``retry_s``; beyond that the oldest
are dropped with one log line and a counter, never the service.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.agentrecord import Interval
from cti.tables import MAX_CATEGORY, MAX_NOTES, agent_state_interval, disposition
from hotline.logs import get_logger

log = get_logger(__name__)

DEFAULT_MAX_BUFFER: Final = 100_000
BATCH: Final = 500


class IntervalWriter:
    """Writes :class:`Interval` rows in the background; ``add`` never blocks."""

    def __init__(
        self,
        engine: AsyncEngine | None,
        *,
        agent_of: Any = None,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        retry_s: float = 2.0,
    ) -> None:
        self._engine = engine
        self._agent_of = agent_of
        """``agent_of(pbx, iface) -> username | None``: who the phone belongs to, when known."""
        self._rows: deque[dict[str, Any]] = deque()
        self._max = max_buffer
        self._retry_s = retry_s
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.dropped = 0
        self.failures = 0

    def add(self, interval: Interval) -> None:
        agent = self._agent_of(interval.pbx, interval.iface) if self._agent_of is not None else None
        self._rows.append(
            {
                "pbx": interval.pbx,
                "iface": interval.iface,
                "member_name": interval.name[:120] if interval.name else None,
                "agent": agent,
                "state": interval.state,
                "reason": interval.reason[:64] if interval.reason else None,
                "started_at": interval.started_at,
                "ended_at": interval.ended_at,
                "duration_s": interval.duration_s,
            }
        )
        if len(self._rows) > self._max:
            self._rows.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error(
                    "agent state intervals dropped: the database is not keeping up", dropped=self.dropped
                )
        self._wakeup.set()

    @property
    def pending(self) -> int:
        return len(self._rows)

    def start(self) -> None:
        if self._engine is not None and self._task is None:
            self._task = asyncio.create_task(self._run(), name="cti-intervals")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        """Write everything buffered now (tests, shutdown); errors are logged, rows kept."""
        while self._rows and self._engine is not None:
            if not await self._write_batch():
                return

    async def _write_batch(self) -> bool:
        assert self._engine is not None
        batch = [self._rows[i] for i in range(min(BATCH, len(self._rows)))]
        try:
            async with self._engine.begin() as connection:
                await connection.execute(sa.insert(agent_state_interval), batch)
        except (SQLAlchemyError, OSError) as exc:
            self.failures += 1
            log.error("cannot write agent state intervals; will retry", error=repr(exc)[:200])
            return False
        for _ in batch:
            self._rows.popleft()
        self.written += len(batch)
        return True

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._rows:
                if not await self._write_batch():
                    await asyncio.sleep(self._retry_s)


@dataclass(frozen=True)
class Disposition:
    pbx: str
    linkedid: str
    agent: str
    iface: str
    category: str
    notes: str
    created_at: float

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.linkedid,
            "pbx": self.pbx,
            "category": self.category,
            "notes": self.notes,
            "at": self.created_at,
        }


async def save_disposition(engine: AsyncEngine, item: Disposition) -> None:
    """Store (or replace: the agent may correct it) the agent's disposition of one call."""
    values = {
        "pbx": item.pbx,
        "linkedid": item.linkedid,
        "agent": item.agent,
        "iface": item.iface,
        "category": item.category[:MAX_CATEGORY],
        "notes": item.notes[:MAX_NOTES],
        "created_at": item.created_at,
    }
    key = (
        (disposition.c.pbx == item.pbx)
        & (disposition.c.linkedid == item.linkedid)
        & (disposition.c.agent == item.agent)
    )
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(disposition).values(values))
    except IntegrityError:
        async with engine.begin() as connection:
            await connection.execute(sa.update(disposition).where(key).values(values))


async def recent_dispositions(engine: AsyncEngine, agent: str, limit: int = 20) -> list[Disposition]:
    """The agent's latest dispositions, newest first (the console's recent calls)."""
    query = (
        sa.select(disposition)
        .where(disposition.c.agent == agent)
        .order_by(disposition.c.created_at.desc(), disposition.c.id.desc())
        .limit(max(1, min(limit, 200)))
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [
        Disposition(r.pbx, r.linkedid, r.agent, r.iface, r.category, r.notes, float(r.created_at))
        for r in rows
    ]


async def state_intervals(
    engine: AsyncEngine, *, pbx: str | None = None, iface: str | None = None, since: float = 0.0
) -> list[dict[str, Any]]:
    """Stored intervals in start order (the KPI reports read the table the same way)."""
    query = sa.select(agent_state_interval).where(agent_state_interval.c.started_at >= since)
    if pbx is not None:
        query = query.where(agent_state_interval.c.pbx == pbx)
    if iface is not None:
        query = query.where(agent_state_interval.c.iface == iface)
    query = query.order_by(agent_state_interval.c.started_at, agent_state_interval.c.id)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [dict(r._mapping) for r in rows]
