"""Reading and writing ``agent_session`` rows (:mod:`hotline.rollup.agent_tables`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import and_, bindparam, delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.kpi import facts
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, AgentSpan, prefer_ami
from hotline.rollup.agent_tables import agent_session
from hotline.rollup.agent_time_marks import ChangedRow, mark_changed
from hotline.store.events import AMI_EVENT

_CHUNK: Final = 500
_KEY: Final = ("pbx", "source", "kind", "agent", "ref")
SpanKey = tuple[str, str, str, str, str]


def _row(span: AgentSpan) -> dict[str, Any]:
    return {
        "pbx": span.pbx,
        "source": span.source,
        "kind": span.kind,
        "agent": span.agent,
        "ref": span.ref,
        "started_at": span.started_at,
        "ended_at": span.ended_at,
        "reason": span.reason,
        "interface": span.interface,
    }


def _span(row: Any) -> AgentSpan:
    return AgentSpan(
        pbx=row["pbx"],
        agent=row["agent"],
        kind=row["kind"],
        started_at=float(row["started_at"]),
        ended_at=None if row["ended_at"] is None else float(row["ended_at"]),
        reason=row["reason"],
        ref=row["ref"],
        interface=row["interface"],
        source=row["source"],
    )


async def write_spans(
    connection: AsyncConnection, upserts: Iterable[AgentSpan], deletes: Iterable[SpanKey] = ()
) -> int:
    """Delete ``deletes`` and insert-or-replace ``upserts`` (the caller's transaction); rows written.

    The agents touched are marked for the agent time rollup first (:mod:`hotline.rollup.agent_time_marks`).
    """
    gone = sorted(set(deletes))
    table = agent_session
    key = tuple_(*(table.c[name] for name in _KEY))
    latest = {span.key: span for span in upserts}
    changed: list[ChangedRow] = [(*k, None) for k in gone]
    changed += [(*k, span.started_at) for k, span in latest.items()]
    await mark_changed(connection, changed)
    for start in range(0, len(gone), _CHUNK):
        await connection.execute(delete(table).where(key.in_(gone[start : start + _CHUNK])))
    rows = [_row(span) for span in latest.values()]
    if not rows:
        return len(gone)
    module: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = module.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={
            "started_at": statement.excluded.started_at,
            "ended_at": statement.excluded.ended_at,
            # An unknown reason or interface (None) never erases a known one.
            "reason": func.coalesce(statement.excluded.reason, table.c.reason),
            "interface": func.coalesce(statement.excluded.interface, table.c.interface),
        },
    )
    for start in range(0, len(rows), _CHUNK):
        await connection.execute(statement, rows[start : start + _CHUNK])
    return len(gone) + len(rows)


async def load_spans(
    engine: AsyncEngine,
    since: float | None,
    until: float | None,
    *,
    pbx: str | None = None,
    source: str | None = None,
) -> list[AgentSpan]:
    """The spans touching ``[since, until)``: of one ``source``, or one source per stretch of time
    (:func:`prefer_ami`, decided on whole spans: see :func:`read_spans`)."""
    async with engine.connect() as connection:
        return await read_spans(connection, since, until, pbx=pbx, source=source)


_COLUMNS: Final = (*_KEY, "started_at", "ended_at", "reason", "interface")


async def read_spans(
    connection: AsyncConnection,
    since: float | None,
    until: float | None,
    *,
    pbx: str | None = None,
    source: str | None = None,
    agents: Sequence[str] | None = None,
) -> list[AgentSpan]:
    """:func:`load_spans` on ``connection``, of ``agents`` only when given.

    Whether a queue_log login or pause counts depends on every AMI span overlapping it, also one
    lying wholly outside the window, and a queue_log call on AMI's span of the same call, which
    may start a second outside it: those are read too (more queries, only when queue_log spans
    are there), so a span counts or not whatever window asks, and left out after the choice.
    """
    table = agent_session
    where: list[Any] = []
    if pbx is not None:
        where.append(table.c.pbx == pbx)
    if source is not None:
        where.append(table.c.source == source)
    if agents is not None:
        where.append(table.c.agent.in_(bindparam("agents", expanding=True)))
    params = {"agents": list(agents)} if agents is not None else {}
    columns = [table.c[n] for n in _COLUMNS]
    begun = [] if until is None else [table.c.started_at < until]
    # Two index range reads (ended_at > since, ended_at IS NULL) instead of one OR the planner may scan.
    queries = [select(*columns).where(*where, *begun, table.c.ended_at.is_(None))]
    if since is None:
        queries.append(select(*columns).where(*where, *begun, table.c.ended_at.is_not(None)))
    else:
        # "+ 0": the range read on ended_at, never the one of every span begun before ``until``.
        begun = [] if until is None else [table.c.started_at + 0 < until]
        queries.append(select(*columns).where(*where, *begun, table.c.ended_at > since))
    spans: list[AgentSpan] = []
    for query in queries:
        spans += await _read(connection, query, params)
    if source is not None:
        return spans
    outside = await _ami_overlapping(connection, spans, since, until, pbx)
    outside += await _ami_calls_of(connection, spans, pbx)
    if not outside:
        return prefer_ami(spans)
    extra = {span.key for span in outside}
    return [span for span in prefer_ami([*spans, *outside]) if span.key not in extra]


async def _read(connection: AsyncConnection, query: Any, params: dict[str, Any]) -> list[AgentSpan]:
    spans: list[AgentSpan] = []
    # Plain tuples in column order: a month is some 100,000 rows.
    for pbx, source, kind, agent, ref, started, ended, reason, interface in await connection.execute(
        query, params
    ):
        spans.append(
            AgentSpan(pbx, agent, kind, float(started), None if ended is None else float(ended),
                      reason, ref, interface, source)
        )  # fmt: skip
    return spans


async def _ami_overlapping(
    connection: AsyncConnection,
    spans: Sequence[AgentSpan],
    since: float | None,
    until: float | None,
    pbx: str | None,
) -> list[AgentSpan]:
    """The AMI logins and pauses outside ``[since, until)`` that may overlap queue_log ones of ``spans``."""
    counted = [s for s in spans if s.source != facts.SOURCE_AMI and s.kind in (LOGIN, PAUSE)]
    if not counted:
        return []
    low = min(s.started_at for s in counted)
    high = max(math.inf if s.ended_at is None else s.ended_at for s in counted)
    table = agent_session
    where: list[Any] = [
        table.c.source == facts.SOURCE_AMI,
        table.c.kind.in_((LOGIN, PAUSE)),
        table.c.agent.in_(bindparam("agents", expanding=True)),
    ]
    if pbx is not None:
        where.append(table.c.pbx == pbx)
    sides: list[list[Any]] = []
    if since is not None and low < since:  # ended before the window, after the earliest start
        sides.append([table.c.ended_at > low, table.c.ended_at <= since])
    if until is not None and high > until:  # began after the window, before the latest end
        sides.append([table.c.started_at >= until, *([table.c.started_at < high] if high < math.inf else [])])
    params = {"agents": sorted({s.agent for s in counted})}
    outside: list[AgentSpan] = []
    for side in sides:
        outside += await _read(
            connection, select(*(table.c[n] for n in _COLUMNS)).where(*where, *side), params
        )
    return outside


async def _ami_calls_of(
    connection: AsyncConnection, spans: Sequence[AgentSpan], pbx: str | None
) -> list[AgentSpan]:
    """AMI's spans of the queue_log calls of ``spans`` that ``spans`` lacks (same ``ref``)."""
    have = {(s.pbx, s.ref) for s in spans if s.source == facts.SOURCE_AMI and s.kind == CALL}
    wanted = [
        s for s in spans if s.source != facts.SOURCE_AMI and s.kind == CALL and (s.pbx, s.ref) not in have
    ]
    if not wanted:
        return []
    table = agent_session
    where: list[Any] = [
        table.c.source == facts.SOURCE_AMI,
        table.c.kind == CALL,
        # Under any agent name, as prefer_ami decides: along the index (pbx, ref).
        table.c.ref.in_(bindparam("refs", expanding=True)),
    ]
    if pbx is not None:
        where.append(table.c.pbx == pbx)
    found: list[AgentSpan] = []
    refs = sorted({s.ref for s in wanted})
    for start in range(0, len(refs), _CHUNK):
        params = {"refs": refs[start : start + _CHUNK]}
        found += await _read(connection, select(*(table.c[n] for n in _COLUMNS)).where(*where), params)
    return [s for s in found if (s.pbx, s.ref) not in have]


async def open_spans(engine: AsyncEngine, source: str = facts.SOURCE_AMI) -> list[AgentSpan]:
    """The logins and pauses still open (what a restarted projector goes on from)."""
    table = agent_session
    query = select(table).where(
        table.c.ended_at.is_(None), table.c.source == source, table.c.kind.in_((LOGIN, PAUSE))
    )
    async with engine.connect() as connection:
        return [_span(row) for row in (await connection.execute(query)).mappings()]


async def interface_names(engine: AsyncEngine, pbx: str | None = None) -> dict[str, str]:
    """Interface -> MemberName as AMI reported them (for a queue_log that names interfaces)."""
    table = agent_session
    query = (
        select(table.c.interface, table.c.agent)
        .where(table.c.source == facts.SOURCE_AMI, table.c.interface.is_not(None))
        .distinct()
    )
    if pbx is not None:
        query = query.where(table.c.pbx == pbx)
    names: dict[str, str] = {}
    async with engine.connect() as connection:
        for interface, agent in (await connection.execute(query)).all():
            if interface != agent:
                names.setdefault(str(interface), str(agent))
    return names


async def last_moment(engine: AsyncEngine, pbx: str | None = None) -> float | None:
    """The latest moment the store knows of: its newest events' time, or the newest span edge.

    The newest events are read by id (a few index pages, however long the log); their
    ``Timestamp`` wins over the receive time, which an ingested capture's list items (no
    Timestamp) take from the day they were ingested.
    """
    async with engine.connect() as connection:
        return await last_moment_in(connection, pbx)


async def last_moment_in(connection: AsyncConnection, pbx: str | None = None) -> float | None:
    """:func:`last_moment` on ``connection``."""
    table = agent_session
    newest = select(AMI_EVENT.c.event_ts, AMI_EVENT.c.received_at).order_by(AMI_EVENT.c.id.desc()).limit(200)
    span_where = [table.c.pbx == pbx] if pbx is not None else []
    if pbx is not None:
        newest = newest.where(AMI_EVENT.c.pbx == pbx)
    recent = (await connection.execute(newest)).all()
    started = (
        await connection.execute(select(func.max(table.c.started_at)).where(*span_where))
    ).scalar_one_or_none()
    ended = (
        await connection.execute(select(func.max(table.c.ended_at)).where(*span_where))
    ).scalar_one_or_none()
    stamps = [float(ts) for ts, _ in recent if ts is not None]
    event_time = max(stamps) if stamps else max((float(r) for _, r in recent), default=None)
    known = [float(v) for v in (event_time, started, ended) if v is not None]
    return max(known) if known else None


async def event_span(engine: AsyncEngine, pbx: str | None = None) -> tuple[float, float] | None:
    """(first, last) AMI event time (``Timestamp``) the store holds: the time AMI covers."""
    where: list[Any] = [AMI_EVENT.c.event_ts.is_not(None)]
    if pbx is not None:
        where.append(AMI_EVENT.c.pbx == pbx)
    query = select(func.min(AMI_EVENT.c.event_ts), func.max(AMI_EVENT.c.event_ts)).where(and_(*where))
    async with engine.connect() as connection:
        first, last = (await connection.execute(query)).one()
    if first is None or last is None:
        return None
    return float(first), float(last)


async def forget(connection: AsyncConnection, *, source: str, pbx: str | None = None) -> None:
    """Delete the rows of ``source`` (of one PBX, or all): before a rebuild writes them again."""
    statement = delete(agent_session).where(agent_session.c.source == source)
    if pbx is not None:
        statement = statement.where(agent_session.c.pbx == pbx)
    await connection.execute(statement)


def window_end(until: float | None, last: float | None, now: float) -> float:
    """Where open spans stop counting: the window's end, no later than the last moment the store
    knows of (a span open in a store nobody fed since is not still going on), never the future."""
    end = until if until is not None else math.inf
    if last is not None:
        end = min(end, last)
    return min(end, now)


__all__ = [
    "event_span",
    "forget",
    "interface_names",
    "last_moment",
    "last_moment_in",
    "load_spans",
    "open_spans",
    "read_spans",
    "window_end",
    "write_spans",
]
