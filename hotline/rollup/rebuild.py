"""``hotline rebuild``: the AMI queue attempts, the KPI rollups and the agent sessions again, from
the durable event log.

1. Forget the projections: the AMI attempts (of one PBX, or all), their rollup rows and the AMI
   rows of ``agent_session``.
2. Put back the rollups of the attempts another source holds (``hotline ingest --queue-log``),
   which the event log cannot give back (that source's agent sessions are kept as they are).
3. Replay the event log in order through fresh projectors, writing the changed attempts (and
   their rollup differences) and the changed agent spans every few thousand events, exactly as
   the live service does.
4. Roll up the agents' time again from all of ``agent_session`` (:mod:`hotline.rollup.agent_time`).

Running it twice gives the same tables; an interrupted run leaves a partial projection that the
next run replaces. Stop ``hotline serve`` first: the service would keep writing what it projects
while the tables are rebuilt under it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.facts import SOURCE_AMI, QueueAttempt
from hotline.kpi.from_ami import AmiProjector
from hotline.logs import get_logger
from hotline.rollup import agent_store
from hotline.rollup.agent_time import rebuild_agent_time
from hotline.rollup.agent_writer import AgentSessionWriter
from hotline.rollup.contrib import as_attempt
from hotline.rollup.tables import kpi_rollup
from hotline.rollup.writer import ATTEMPT, RollupWriter
from hotline.store.events import AMI_EVENT, StoredEvent, iter_events

log = get_logger("hotline.rollup.rebuild")

FLUSH_EVERY: Final = 20_000
"""Events between two writes of the changed attempts: few transactions, bounded memory."""
MEMORY_S: Final = 2 * 3600
"""Calls not heard of for this long (event time) are finished: the projector forgets them."""

Progress = Callable[[int, int, int], None]
"""``progress(events_done, events_total, attempts_written)``."""


@dataclass(frozen=True, slots=True)
class RebuildResult:
    events: int
    attempts: int
    kept_from_other_sources: int
    projection_errors: int
    agent_span_writes: int = 0


async def _count_events(engine: AsyncEngine, pbx: str | None) -> int:
    query = select(func.count()).select_from(AMI_EVENT)
    if pbx is not None:
        query = query.where(AMI_EVENT.c.pbx == pbx)
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def _forget(engine: AsyncEngine, writer: RollupWriter, pbx: str | None) -> int:
    """Delete the AMI attempts and the rollups, then seed the rollups of the other sources' calls."""
    async with engine.begin() as connection:
        attempts = delete(ATTEMPT).where(ATTEMPT.c.source == SOURCE_AMI)
        rollups = delete(kpi_rollup)
        others = select(ATTEMPT).where(ATTEMPT.c.source != SOURCE_AMI)
        if pbx is not None:
            attempts = attempts.where(ATTEMPT.c.pbx == pbx)
            rollups = rollups.where(kpi_rollup.c.pbx == pbx)
            others = others.where(ATTEMPT.c.pbx == pbx)
        await connection.execute(attempts)
        await connection.execute(rollups)
        await agent_store.forget(connection, source=SOURCE_AMI, pbx=pbx)
        kept = [as_attempt(row) for row in (await connection.execute(others)).mappings()]
        return await writer.seed_in(connection, kept)


async def rebuild(
    engine: AsyncEngine, writer: RollupWriter, *, pbx: str | None = None, progress: Progress | None = None
) -> RebuildResult:
    """Rebuild ``queue_attempt`` (source ami) and ``kpi_rollup`` of ``pbx`` (None: every PBX)."""
    total = await _count_events(engine, pbx)
    kept = await _forget(engine, writer, pbx)
    current: list[float] = [0.0]
    # Events without a Timestamp header take their receive time, not the rebuild's clock.
    projector = AmiProjector(clock=lambda: current[0])
    changed: dict[tuple[str, str, int], QueueAttempt] = {}
    sessions = AgentSessionWriter(seed=False)  # the table was just emptied: nothing to go on from
    done = written = errors = spans = 0

    async def flush() -> None:
        nonlocal written, spans
        if changed:
            written += await writer.apply(engine, list(changed.values()))
        sessions.collect(changed.values())
        spans += await sessions.write(engine)
        changed.clear()
        if progress is not None:
            progress(done, total, written)

    stored: StoredEvent
    async for stored in iter_events(engine, pbx=pbx):
        current[0] = stored.received_at
        sessions.feed(stored)
        try:
            for attempt in projector.feed(stored.pbx, stored):
                changed[attempt.key] = attempt
        except Exception as exc:  # the live rule: one odd event is skipped, the rest projected
            errors += 1
            log.error("projection failed for an event", pbx=stored.pbx, event_id=stored.id, error=str(exc))
        done += 1
        if done % FLUSH_EVERY == 0:
            await flush()
            projector.prune(stored.received_at - MEMORY_S)
    await flush()
    await rebuild_agent_time(engine)
    return RebuildResult(done, written, kept, errors + sessions.errors, spans)


def describe(result: RebuildResult, pbx: str | None) -> str:
    where = f"pbx {pbx}" if pbx else "every PBX"
    extra: list[Any] = []
    if result.kept_from_other_sources:
        extra.append(f"{result.kept_from_other_sources} calls from queue_log kept")
    if result.projection_errors:
        extra.append(f"{result.projection_errors} events skipped (see the log)")
    tail = f" ({', '.join(map(str, extra))})" if extra else ""
    return (
        f"rebuilt {where}: {result.events} events replayed, {result.attempts} attempt writes, "
        f"{result.agent_span_writes} agent span writes{tail}"
    )
