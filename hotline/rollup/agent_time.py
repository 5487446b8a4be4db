"""The agent time rollup: login, handle and pause-by-reason seconds per agent and 15-minute bucket.

``agent_time_rollup`` holds, per PBX (and :data:`~hotline.rollup.agent_tables.ALL_PBX`), agent
and 15-minute bucket (epoch aligned, so whole-quarter-hour UTC offsets such as Asia/Jakarta's
align with it), the figures of :func:`hotline.kpi.agent_definitions.agent_times` computed by that
same sweep over the spans, one source per stretch of time decided on whole spans
(:func:`hotline.rollup.agent_store.read_spans`). The sums of the buckets are exact, in any
order: every span edge is a float of at least 2**30 (a time after 2004), so a multiple of 2**-22
s, and so is every piece and every sum below 2**31 s; a call's fractional start (AMI's
``handle_s`` before a whole-second end) included. Reports read them instead of sweeping a month
of spans (:mod:`hotline.rollup.agent_time_query`).

Open spans are rolled up too. A report counts an open span until its window's end, no later than
the last moment the store knows of (:func:`hotline.rollup.agent_store.window_end`); so for every
bucket ending before the last moment known when it is rolled up (the **horizon**) an open login
or pause goes on through the whole bucket in any report reaching the bucket's end, and an open
call counts its first :data:`~hotline.kpi.agent_definitions.MAX_OPEN_CALL_S` whatever the window.
Each (level, agent) with a span open is rolled up through the last bucket boundary before the
horizon (``agent_time_mark.through``); reports sweep only what lies after it.

Keeping it current, off the hot path:

- :func:`hotline.rollup.agent_store.write_spans` marks each (pbx, agent) it touches in
  ``agent_time_dirty`` with the earliest moment that may have changed (one statement;
  :mod:`hotline.rollup.agent_time_marks`): a span closed, corrected or deleted later is rolled
  up again from its start;
- :func:`refresh` (every few seconds in ``hotline serve``, and after ``hotline rebuild`` and
  ``hotline ingest --queue-log``) recomputes the marked agents from that moment, and the agents
  with a span open whose horizon has passed a bucket boundary from their ``through``, up to
  the new horizon; it replaces their rows (and their sums per hour, ``agent_time_hourly``, and
  per day, ``agent_time_daily``, from the hour and day of the change) and clears the marks it
  handled: a mark changed meanwhile (a higher ``version``) stays for the next run. All of it in
  one transaction.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    and_,
    bindparam,
    column,
    delete,
    func,
    insert,
    select,
    text,
    values,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.kpi.agent_definitions import MAX_OPEN_CALL_S, agent_times
from hotline.kpi.agent_spans import CALL, AgentSpan
from hotline.logs import get_logger
from hotline.periodic import pause_or_stop
from hotline.rollup.agent_store import last_moment_in, read_spans
from hotline.rollup.agent_tables import (
    ALL_PBX,
    PAUSED,
    TIME,
    agent_time_daily,
    agent_time_dirty,
    agent_time_hourly,
    agent_time_mark,
    agent_time_rollup,
)

log = get_logger(__name__)

BUCKET_S: Final = 900
"""The rollup grain: 15 minutes, epoch aligned."""
HOUR_S: Final = 3600
"""The grain of ``agent_time_hourly``: UTC hours."""
DAY_S: Final = 86400
"""The grain of ``agent_time_daily``: UTC days."""
REFRESH_EVERY_S: Final = 5.0
_CHUNK: Final = 1000
_NEAR_S: Final = 2 * 86400
"""Agents beginning within this of the latest one are read together (:func:`read_groups`)."""


def floor_bucket(stamp: float) -> float:
    return float(math.floor(stamp / BUCKET_S) * BUCKET_S)


def grid(since: float, until: float) -> list[float]:
    """The bucket starts of ``[since, until)`` (``since`` on a boundary)."""
    return [float(s) for s in range(int(since), math.ceil(until), BUCKET_S)]


def _clipped(span: AgentSpan, since: float, until: float) -> tuple[float, float] | None:
    """The part of ``span`` in ``[since, until)`` the sweep counts (an open call: its first hours)."""
    end = span.ended_at
    if end is None:
        end = min(span.started_at + MAX_OPEN_CALL_S, until) if span.kind == CALL else until
    start, end = max(span.started_at, since), min(end, until)
    return (start, end) if end > start else None


def covered_buckets(spans: Iterable[AgentSpan], since: float, until: float) -> set[float]:
    """The buckets of ``[since, until)`` where some span counts (open spans run to ``until``)."""
    seen: set[float] = set()
    for span in spans:
        clipped = _clipped(span, since, until)
        if clipped is None:
            continue
        bucket, end = floor_bucket(clipped[0]), clipped[1]
        while bucket < end:
            seen.add(bucket)
            bucket += BUCKET_S
    return seen


def rollup_rows(pbx: str, spans: Sequence[AgentSpan], since: float, until: float) -> list[dict[str, Any]]:
    """The ``agent_time_rollup`` rows of ``[since, until)`` at level ``pbx``, from kept spans."""
    times = agent_times(spans, since, until, starts=grid(since, until))
    per_agent: dict[str, list[AgentSpan]] = defaultdict(list)
    for span in spans:
        per_agent[span.agent].append(span)
    rows: list[dict[str, Any]] = []
    for agent, own in per_agent.items():
        buckets = times.get(agent, {})
        for bucket in sorted(covered_buckets(own, since, until) | set(buckets)):
            time_of = buckets.get(bucket)
            base = {"pbx": pbx, "bucket_start": int(bucket), "agent": agent}
            login, handle = (time_of.login_s, time_of.handle_s) if time_of else (0.0, 0.0)
            rows.append({**base, "kind": TIME, "reason": "", "seconds": login, "handle_s": handle})
            for reason, seconds in time_of.pause_by_reason.items() if time_of else ():
                rows.append({**base, "kind": PAUSED, "reason": reason, "seconds": seconds, "handle_s": 0.0})
    return rows


def read_groups(begin_of: dict[str, float]) -> list[tuple[float, list[str]]]:
    """(lower, agents) to read spans for: the agents beginning near the latest one together,
    from the earliest of them; each other agent on its own, so one early agent does not make
    every agent's spans be read from its begin."""
    if not begin_of:
        return []
    latest = max(begin_of.values())
    near = [agent for agent, begin in begin_of.items() if begin >= latest - _NEAR_S]
    groups: dict[float, list[str]] = defaultdict(list)
    groups[min(begin_of[agent] for agent in near)] += near
    for agent, begin in begin_of.items():
        if begin < latest - _NEAR_S:
            groups[begin].append(agent)
    return sorted(groups.items())


async def horizon_of(connection: AsyncConnection, level: str, now: float) -> float:
    """The last bucket boundary before what level ``level`` knows of (its last moment, never the future)."""
    last = await last_moment_in(connection, None if level == ALL_PBX else level)
    return floor_bucket(now if last is None else min(last, now))


async def refresh(engine: AsyncEngine) -> int:
    """Roll up the agents marked as changed or behind the horizon (see the module docstring);
    agents refreshed."""
    async with engine.begin() as connection:
        return await refresh_in(connection)


async def refresh_in(connection: AsyncConnection, *, now: float | None = None) -> int:
    """:func:`refresh` in the caller's transaction."""
    now = time.time() if now is None else now
    dirty = (
        await connection.execute(
            select(
                agent_time_dirty.c.pbx,
                agent_time_dirty.c.agent,
                agent_time_dirty.c.since,
                agent_time_dirty.c.version,
            ).order_by(agent_time_dirty.c.pbx, agent_time_dirty.c.agent)
        )
    ).all()
    marks = (
        await connection.execute(
            select(agent_time_mark.c.pbx, agent_time_mark.c.agent, agent_time_mark.c.through)
        )
    ).all()
    horizons: dict[str, float] = {}

    async def horizon(level: str) -> float:
        if level not in horizons:
            horizons[level] = await horizon_of(connection, level, now)
        return horizons[level]

    begin_of: dict[str, float] = {}
    levels: dict[str, set[str]] = defaultdict(lambda: {ALL_PBX})
    for pbx, agent, since, _ in dirty:
        begin_of[agent] = min(floor_bucket(float(since)), begin_of.get(agent, math.inf))
        levels[agent].add(pbx)
    for pbx, agent, rolled in marks:
        if rolled is not None and (agent in begin_of or float(rolled) < await horizon(pbx)):
            # Behind the horizon, or changed: nothing after ``through`` is rolled up yet.
            begin_of[agent] = min(float(rolled), begin_of.get(agent, math.inf))
    if not begin_of:
        return 0
    for pbx, agent, _ in marks:
        if agent in begin_of:
            levels[agent].add(pbx)
    rows: list[dict[str, Any]] = []
    throughs: list[dict[str, Any]] = []
    for lower, agents in read_groups(begin_of):
        per_agent: dict[str, list[AgentSpan]] = defaultdict(list)
        for span in await read_spans(connection, lower, None, agents=agents):
            per_agent[span.agent].append(span)
        for agent in agents:
            begin = begin_of[agent]
            own = [s for s in per_agent.get(agent, ()) if s.ended_at is None or s.ended_at > begin]
            levels[agent].update(s.pbx for s in own)
            for level in sorted(levels[agent]):
                chosen = own if level == ALL_PBX else [s for s in own if s.pbx == level]
                through: float | None = None
                if any(s.ended_at is None for s in chosen):
                    end = through = await horizon(level)
                else:
                    end = max((s.ended_at or 0.0 for s in chosen), default=begin)
                if end > begin:
                    rows += rollup_rows(level, chosen, begin, end)
                throughs.append({"pbx": level, "agent": agent, "through": through})
    await _replace(connection, begin_of, levels, rows, throughs)
    table = agent_time_dirty
    if dirty:
        # In (pbx, agent) order as the database sorts them, the order the writer upserts marks in
        # (:mod:`hotline.rollup.agent_time_marks`): the two never wait on each other crosswise.
        await connection.execute(
            delete(table).where(
                table.c.pbx == bindparam("p"),
                table.c.agent == bindparam("a"),
                table.c.version == bindparam("v"),
            ),
            [{"p": pbx, "a": agent, "v": version} for pbx, agent, _, version in dirty],
        )
    return len(begin_of)


async def _replace(
    connection: AsyncConnection,
    begin_of: dict[str, float],
    levels: dict[str, set[str]],
    rows: list[dict[str, Any]],
    throughs: list[dict[str, Any]],
) -> None:
    rollup = agent_time_rollup
    # By PBX level: the rollup's key begins with (pbx, bucket_start), so each delete is a range.
    await connection.execute(
        delete(rollup).where(
            rollup.c.pbx == bindparam("p"),
            rollup.c.agent == bindparam("a"),
            rollup.c.bucket_start >= bindparam("s", type_=BigInteger),
        ),
        [
            {"p": level, "a": agent, "s": int(begin)}
            for agent, begin in begin_of.items()
            for level in sorted(levels[agent])
        ],
    )
    for start in range(0, len(rows), _CHUNK):
        await connection.execute(insert(rollup), rows[start : start + _CHUNK])
    await _sum_levels(connection, begin_of, levels)
    module: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = module.insert(agent_time_mark)
    statement = statement.on_conflict_do_update(
        index_elements=["pbx", "agent"], set_={"through": statement.excluded.through}
    )
    for start in range(0, len(throughs), _CHUNK):
        await connection.execute(statement, throughs[start : start + _CHUNK])


async def _sum_levels(
    connection: AsyncConnection, begin_of: dict[str, float], levels: dict[str, set[str]]
) -> None:
    """Sum the replaced agents' buckets into ``agent_time_hourly`` again, from the hour of their
    begin, and those hours into ``agent_time_daily``, from the day of their begin (a UTC day is
    whole UTC hours)."""
    rollup, hourly, daily = agent_time_rollup, agent_time_hourly, agent_time_daily
    for source, stamp, target, column_name, grain in (
        (rollup, rollup.c.bucket_start, hourly, "hour_start", HOUR_S),
        (hourly, hourly.c.hour_start, daily, "day_start", DAY_S),
    ):
        changed = [
            (level, agent, int(begin) - int(begin) % grain)
            for agent, begin in begin_of.items()
            for level in sorted(levels[agent])
        ]
        await _sum_into(connection, source, stamp, target, column_name, grain, changed)


async def _sum_into(
    connection: AsyncConnection,
    source: Table,
    stamp: Any,
    target: Table,
    column_name: str,
    grain: int,
    changed: list[tuple[str, str, int]],
) -> None:
    """Replace ``target``'s rows of each (level, agent, first start) of ``changed`` on by ``source``'s
    rows summed per ``grain`` seconds (``column_name``: ``target``'s start column)."""
    await connection.execute(
        delete(target).where(
            target.c.pbx == bindparam("p"),
            target.c.agent == bindparam("a"),
            target.c[column_name] >= bindparam("s", type_=BigInteger),
        ),
        [{"p": level, "a": agent, "s": first} for level, agent, first in changed],
    )
    for start in range(0, len(changed), _CHUNK):
        since = (
            values(
                column("pbx", String), column("agent", String), column("first", BigInteger), name="changed"
            )
            .data(changed[start : start + _CHUNK])
            .cte("changed")
        )
        grained = stamp - stamp % grain
        joined = source.join(
            since,
            and_(source.c.pbx == since.c.pbx, source.c.agent == since.c.agent, stamp >= since.c.first),
        )
        summed = (
            select(source.c.pbx, grained, source.c.agent, source.c.kind, source.c.reason,
                   func.sum(source.c.seconds), func.sum(source.c.handle_s))
            .select_from(joined)
            .group_by(source.c.pbx, grained, source.c.agent, source.c.kind, source.c.reason)
        )  # fmt: skip
        await connection.execute(
            insert(target).from_select(
                ["pbx", column_name, "agent", "kind", "reason", "seconds", "handle_s"], summed
            )
        )


async def rebuild_agent_time(engine: AsyncEngine) -> int:
    """Roll up every agent again from all of ``agent_session`` (``hotline rebuild``); agents rolled up."""
    async with engine.begin() as connection:
        for table in (
            agent_time_rollup,
            agent_time_hourly,
            agent_time_daily,
            agent_time_mark,
            agent_time_dirty,
        ):
            await connection.execute(delete(table))
        await connection.execute(
            text(
                "INSERT INTO agent_time_dirty (pbx, agent, since, version) "
                "SELECT pbx, agent, MIN(started_at), 1 FROM agent_session GROUP BY pbx, agent"
            )
        )
        return await refresh_in(connection)


async def refresh_forever(
    engine: AsyncEngine,
    *,
    every: float = REFRESH_EVERY_S,
    on_refresh: Callable[[int], None] | None = None,
    stopping: asyncio.Event | None = None,
) -> None:
    """:func:`refresh` every ``every`` seconds until ``stopping`` is set (the service sets it
    rather than cancel a refresh inside its transaction); a failure is logged and retried."""
    while not await pause_or_stop(stopping, every):
        try:
            refreshed = await refresh(engine)
        except Exception as exc:  # the database away for a moment: the marks stay, the next run does it
            log.error("agent time rollup refresh failed", error=f"{type(exc).__name__}: {exc}")
            continue
        if on_refresh is not None:
            on_refresh(refreshed)
