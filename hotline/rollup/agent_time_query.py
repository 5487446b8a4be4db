"""Agent time per agent and interval from the agent time rollup, as the sweep over the spans gives it.

:func:`agent_bucket_times` returns what :func:`hotline.kpi.agent_definitions.agent_times` returns
over the spans of :func:`hotline.rollup.agent_store.load_spans`, for windows and interval starts
on 15-minute boundaries (else None: the caller sweeps the spans). Per agent, its **limit** is the
earliest of

- the window's last bucket boundary (the window's end, or the last moment the store knows of),
- the agent's ``agent_time_mark.through`` (with a span open: what the last refresh rolled up),
- the start of the bucket of its earliest change not rolled up yet (``agent_time_dirty``).

The buckets before it are summed by the database (a window's totals from ``agent_time_daily``
for its whole UTC days; intervals of whole hours starting on a whole UTC hour, which a timezone
whose offset is whole hours gives, from ``agent_time_hourly`` for its whole UTC hours), grouped
by agent, state or reason and the report's interval (its start is arithmetic on the epoch while
intervals are evenly spaced, else a grain nesting in every interval; rows already one per
interval are read as they are): a month is a few thousand rows, not the ~200,000 of its buckets.
The rest, one partial bucket for most agents, is swept from the agent's spans. One source per
stretch of time is chosen on whole spans on both paths, and every piece and sum is exact in any
order (multiples of 2**-22 s, see :mod:`hotline.rollup.agent_time`; calls' fractional starts
too), so the sums equal the sweep's to the last bit.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Double,
    Select,
    String,
    and_,
    bindparam,
    column,
    func,
    literal,
    select,
    values,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.kpi.agent_definitions import WRAPUP_REASON, AgentTime, agent_times
from hotline.kpi.agent_spans import AgentSpan
from hotline.rollup.agent_store import read_spans
from hotline.rollup.agent_tables import (
    ALL_PBX,
    TIME,
    agent_time_daily,
    agent_time_dirty,
    agent_time_hourly,
    agent_time_mark,
    agent_time_rollup,
)
from hotline.rollup.agent_time import BUCKET_S, DAY_S, HOUR_S, floor_bucket, read_groups

_GRAINS: Final = (86400, 3600, 1800, BUCKET_S)
PerBucket = dict[str, dict[float, AgentTime]]


def answerable(since: float | None, starts: Sequence[float] | None) -> bool:
    """True when the window's start and every interval start fall on a 15-minute boundary."""
    if since is None or since % BUCKET_S:
        return False
    return all(start % BUCKET_S == 0 for start in starts or ())


async def agent_bucket_times(
    engine: AsyncEngine,
    *,
    since: float,
    until: float,
    load_until: float | None,
    starts: Sequence[float] | None = None,
    pbx: str | None = None,
    wrapup_reason: str = WRAPUP_REASON,
) -> PerBucket | None:
    """``agent_times(load_spans(since, load_until, pbx), since, until, starts=starts)``, from the rollup.

    ``until`` is where open spans stop counting (at most ``load_until``); None when
    :func:`answerable` is not.
    """
    if not answerable(since, starts):
        return None
    if until <= since:
        return {}
    keys = list(starts) if starts else [since]
    async with engine.connect() as connection:
        limit = await _limits(connection, since, until, pbx)
        result = await _rolled_up(connection, limit, since, keys, pbx, wrapup_reason)
        await _swept(connection, result, limit, until, load_until, keys, pbx, wrapup_reason)
    return result


async def _limits(
    connection: AsyncConnection, since: float, until: float, pbx: str | None
) -> dict[str, float]:
    """Per agent known to the rollup at the level: where its rows stop answering (``since``: at once)."""
    last_whole = floor_bucket(until)
    mark = agent_time_mark
    limit: dict[str, float] = {}
    marks = select(mark.c.agent, mark.c.through).where(mark.c.pbx == (ALL_PBX if pbx is None else pbx))
    for agent, through in await connection.execute(marks):
        limit[agent] = min(last_whole, math.inf if through is None else float(through))
    dirty = select(agent_time_dirty.c.agent, func.min(agent_time_dirty.c.since)).group_by(
        agent_time_dirty.c.agent
    )
    if pbx is not None:
        dirty = dirty.where(agent_time_dirty.c.pbx == pbx)  # a level holds its own PBX's spans only
    for agent, changed in await connection.execute(dirty):
        limit[agent] = min(limit.get(agent, since), floor_bucket(float(changed)))
    return {agent: max(since, end) for agent, end in limit.items()}


def _sums(table: Any) -> tuple[Any, Any]:
    return func.sum(table.c.seconds).cast(Double), func.sum(table.c.handle_s).cast(Double)


def _interval_of(keys: Sequence[float]) -> int:
    """The grain the database groups buckets by: the intervals' length when they are evenly spaced
    (each group is then one interval), else the longest grain nesting in every interval."""
    steps = {int(b - a) for a, b in itertools.pairwise(keys)}
    if len(steps) == 1:
        return steps.pop()
    return next(span for span in _GRAINS if all((k - keys[0]) % span == 0 for k in keys))


def _start_of(stamp: Any, keys: Sequence[float], span: int, grain: int) -> tuple[Any, bool]:
    """The expression of the interval (group) start of a row whose start is ``stamp`` in a table of
    ``grain``-second rows, and whether rows must be grouped: not when the groups are the table's
    own rows (already one per agent, state, reason and start)."""
    if len(keys) == 1:
        return literal(int(keys[0]), BigInteger), True
    if span == grain:
        return stamp, False
    # Literal numbers: PostgreSQL only matches a grouped expression to the selected one when
    # they are the same text, which two bound parameters are not.
    shift = bindparam(None, (span - int(keys[0]) % span) % span, BigInteger, literal_execute=True)
    length = bindparam(None, span, BigInteger, literal_execute=True)
    return stamp - (stamp + shift) % length, True


def _summed(table: Any, stamp: Any, grain: int, keys: Sequence[float], span: int, *where: Any) -> Select[Any]:
    """(agent, kind, reason, interval start, seconds, handle_s) of ``table``'s rows matching ``where``."""
    start, grouped = _start_of(stamp, keys, span, grain)
    columns = (table.c.agent, table.c.kind, table.c.reason)
    if not grouped:
        return select(*columns, start, table.c.seconds, table.c.handle_s).where(*where)
    grouping = [*columns, *([] if len(keys) == 1 else [start])]
    return select(*columns, start, *_sums(table)).where(*where).group_by(*grouping)


async def _rolled_up(
    connection: AsyncConnection,
    limit: dict[str, float],
    since: float,
    keys: Sequence[float],
    pbx: str | None,
    wrapup_reason: str,
) -> PerBucket:
    result: PerBucket = {}
    useful = {agent: int(end) for agent, end in limit.items() if end > since}
    if not useful:
        return result
    table = agent_time_rollup
    stamp = table.c.bucket_start
    whole = len(keys) == 1
    span = 0 if whole else _interval_of(keys)
    level = pbx if pbx is not None else ALL_PBX
    # Most agents share one limit (the window's last bucket, or the horizon): one range read.
    common = max(useful.values())
    others = {agent: end for agent, end in limit.items() if end != common}
    excluded = [table.c.agent.not_in(sorted(others))] if others else []
    ranges = [(int(since), common)]
    rows: list[Any] = []
    # Whole days (a window's totals) or hours (intervals of whole hours on a whole-hour UTC
    # offset) from their sums, the edges from the buckets.
    coarse: tuple[Any, Any, int] | None = None
    if whole:
        coarse = agent_time_daily, agent_time_daily.c.day_start, DAY_S
    elif span % HOUR_S == 0 and int(keys[0]) % HOUR_S == 0:
        coarse = agent_time_hourly, agent_time_hourly.c.hour_start, HOUR_S
    if coarse is not None:
        sums, start_of, grain = coarse
        low, high = int(since) + (-int(since) % grain), common - common % grain
        if low < high:
            ranges = [(int(since), low), (high, common)]
            wholes = [sums.c.pbx == level, start_of >= low, start_of < high]
            if others:
                wholes.append(sums.c.agent.not_in(sorted(others)))
            rows += (await connection.execute(_summed(sums, start_of, grain, keys, span, *wholes))).all()
    for low, high in ranges:
        if low < high:
            where = [table.c.pbx == level, stamp >= low, stamp < high, *excluded]
            rows += (await connection.execute(_summed(table, stamp, BUCKET_S, keys, span, *where))).all()
    behind = {agent: int(end) for agent, end in others.items() if end > since}
    if behind:
        # The agents changed lately or behind the horizon: each up to its own limit, by a join.
        limits = (
            values(column("agent", String), column("upto", BigInteger), name="limits")
            .data(sorted(behind.items()))
            .cte("limits")
        )
        where = [table.c.pbx == level, stamp >= int(since), stamp < max(behind.values())]
        joined = table.join(limits, and_(table.c.agent == limits.c.agent, stamp < limits.c.upto))
        query = _summed(table, stamp, BUCKET_S, keys, span, *where).select_from(joined)
        rows += (await connection.execute(query)).all()
    first = keys[0]
    key_of = {int(key): key for key in keys}  # evenly spaced intervals: each group is one
    for agent, kind, reason, group, total, handled in rows:
        buckets = result.setdefault(agent, {})
        if kind == TIME and total == 0:
            continue  # a span without logged-in time: the agent is listed, the bucket is not
        key = first if whole else key_of.get(group)
        if key is None:
            key = keys[bisect.bisect_right(keys, group) - 1]
        time_of = buckets.get(key)
        if time_of is None:
            time_of = buckets[key] = AgentTime(wrapup_reason=wrapup_reason)
        if kind == TIME:
            time_of.login_s += total
            time_of.handle_s += handled
        else:
            time_of.pause_by_reason[reason] = time_of.pause_by_reason.get(reason, 0.0) + total
    return result


async def _swept(
    connection: AsyncConnection,
    result: PerBucket,
    limit: dict[str, float],
    until: float,
    load_until: float | None,
    keys: Sequence[float],
    pbx: str | None,
    wrapup_reason: str,
) -> None:
    """Add each agent's time from its limit to ``until``, swept from its spans, into ``result``."""
    begin_of = {agent: end for agent, end in limit.items() if end < until}
    for lower, agents in read_groups(begin_of):
        per_agent: dict[str, list[AgentSpan]] = defaultdict(list)
        for span in await read_spans(connection, lower, load_until, pbx=pbx, agents=agents):
            per_agent[span.agent].append(span)
        for agent, own in per_agent.items():
            swept = agent_times(own, begin_of[agent], until, starts=keys, wrapup_reason=wrapup_reason)
            for name, buckets in swept.items():
                into = result.setdefault(name, {})
                for key, part in buckets.items():
                    known = into.get(key)
                    if known is None:
                        into[key] = part
                        continue
                    known.login_s += part.login_s
                    known.handle_s += part.handle_s
                    for reason, seconds in part.pause_by_reason.items():
                        known.pause_by_reason[reason] = known.pause_by_reason.get(reason, 0.0) + seconds
