"""Agent time of a month of a big center, from the agent time rollup and from the raw spans.

Generates January 2026 for 67 agents (about 140,000 spans: one shift a day, pauses with reasons,
some 55 calls a shift; a third of the agents still logged in at the end), stores the spans
(``write_spans``, in 2,000-span transactions, as the projection does), rolls them up
(:func:`hotline.rollup.agent_time.rebuild_agent_time`), then on SQLite and PostgreSQL (when
reachable) times, p50/p95 over repeated runs, the month by agent (totals), per 60 and per 15
minutes in Asia/Jakarta, from the rollup (:func:`hotline.reports.kpis.with_agent_times`) against
the raw path in the same run (``load_spans`` + ``add_agent_times``), checks both print the same,
times a refresh after a batch-sized change (200 spans of 40 agents), and one as the horizon (the
store's last known moment) moves a quarter-hour on, the agents still logged in rolled up further.

Usage: ``.venv/bin/python bench/bench_agent_time.py [runs]``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]
from _pg import PG_ADMIN, pg_admin
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.agent_report import add_agent_times
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, AgentSpan
from hotline.kpi.definitions import BY_AGENT
from hotline.kpi.intervals import parse_interval
from hotline.kpi.report import KpiReport, ReportOptions
from hotline.reports.kpis import with_agent_times
from hotline.rollup import agent_store
from hotline.rollup.agent_time import rebuild_agent_time, refresh
from hotline.store import create_engine, migrate

TZ = ZoneInfo("Asia/Jakarta")
MONTH = (datetime(2026, 1, 1, tzinfo=TZ).timestamp(), datetime(2026, 2, 1, tzinfo=TZ).timestamp())
AGENTS = [("jkt", f"jkt-{n:03d}") for n in range(37)] + [("yog", f"yog-{n:03d}") for n in range(30)]
REASONS = ["", "break", "wrapup", "wrapup", "wrapup", "toilet", "meeting"]


def generate(seed: int = 1) -> list[AgentSpan]:
    rng = random.Random(seed)
    spans: list[AgentSpan] = []
    calls = 0
    days = round((MONTH[1] - MONTH[0]) / 86400)
    for pbx, agent in AGENTS:
        shift_start = rng.choice([7, 8, 9, 13, 14]) * 3600
        for day in range(days):
            start = int(MONTH[0] + day * 86400 + shift_start + rng.randrange(-600, 600))
            end = start + 9 * 3600 + rng.randrange(-900, 900)
            last_day = day == days - 1
            still_in = last_day and rng.random() < 0.35
            spans.append(
                AgentSpan(pbx, agent, LOGIN, float(start), None if still_in else float(end), None, str(start))
            )
            t = start + rng.randrange(30, 300)
            while t < end - 120:
                if rng.random() < 0.16:
                    length = rng.randrange(60, 1200)
                    spans.append(
                        AgentSpan(
                            pbx,
                            agent,
                            PAUSE,
                            float(t),
                            float(min(t + length, end)),
                            rng.choice(REASONS),
                            str(t),
                        )
                    )
                else:
                    calls += 1
                    length = max(15, int(rng.gauss(400, 120)))
                    spans.append(
                        AgentSpan(pbx, agent, CALL, float(t), float(t + length), "cc", f"c{calls}#1")
                    )
                t += length + rng.randrange(0, 120)
    return spans


def options(interval: str | None) -> ReportOptions:
    spec = parse_interval(interval) if interval else None
    return ReportOptions(tz=TZ, since=MONTH[0], until=MONTH[1], interval=spec, by=BY_AGENT)


async def from_rollup(engine: AsyncEngine, opts: ReportOptions) -> KpiReport:
    return await with_agent_times(engine, KpiReport({}, groups={}), opts)


async def from_spans(engine: AsyncEngine, opts: ReportOptions) -> KpiReport:
    spans = await agent_store.load_spans(engine, opts.since, opts.until)
    end = agent_store.window_end(opts.until, await agent_store.last_moment(engine), time.time())
    return await asyncio.to_thread(add_agent_times, KpiReport({}, groups={}), spans, opts, until=end)


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def _same(left: KpiReport, right: KpiReport) -> bool:
    return json.dumps([left.groups, left.group_intervals]) == json.dumps(
        [right.groups, right.group_intervals]
    )


async def run(label: str, engine: AsyncEngine, spans: list[AgentSpan], runs: int) -> None:
    started = time.perf_counter()
    for start in range(0, len(spans), 2000):
        async with engine.begin() as connection:
            await agent_store.write_spans(connection, spans[start : start + 2000])
    stored = time.perf_counter() - started
    started = time.perf_counter()
    await rebuild_agent_time(engine)
    print(
        f"{label}: stored {len(spans):,} spans in {stored:.1f} s, "
        f"rolled up in {time.perf_counter() - started:.1f} s"
    )
    for interval in (None, "60m", "15m"):
        opts = options(interval)
        assert _same(await from_rollup(engine, opts), await from_spans(engine, opts)), interval
        raw_runs = max(3, runs // 4)
        fast = await timed(functools.partial(from_rollup, engine, opts), runs)
        slow = await timed(functools.partial(from_spans, engine, opts), raw_runs)
        name = "month by agent" + (f" per {interval}" if interval else " (totals)")
        print(
            f"  {name:<28} rollup p50 {fast[0]:7.1f} ms p95 {fast[1]:7.1f} ms | spans p50 {slow[0]:7.1f} ms "
            f"p95 {slow[1]:7.1f} ms ({raw_runs} runs) | x{slow[0] / fast[0]:.0f}"
        )
    rng = random.Random(5)
    last = [s for s in spans if s.started_at > MONTH[1] - 86400]
    samples = []
    for _ in range(runs):
        batch = rng.sample(last, 200)
        async with engine.begin() as connection:
            await agent_store.write_spans(connection, batch)
        began = time.perf_counter()
        await refresh(engine)
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    print(
        f"  refresh after a 200-span write   p50 {statistics.median(samples):7.1f} ms "
        f"p95 {samples[round(0.95 * (len(samples) - 1))]:7.1f} ms"
    )
    # The horizon moves a quarter-hour on (another agent's span): the agents still logged in are
    # rolled up one bucket further, with no change of their own.
    known = await agent_store.last_moment(engine)
    assert known is not None
    samples = []
    for step in range(1, runs + 1):
        edge = float(int(known) + step * 900)
        beat = AgentSpan("jkt", "bench-clock", CALL, edge - 60, edge, "cc", f"clock{step}#1")
        async with engine.begin() as connection:
            await agent_store.write_spans(connection, [beat])
        began = time.perf_counter()
        await refresh(engine)
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    print(
        f"  refresh as the horizon moves 15 min p50 {statistics.median(samples):7.1f} ms "
        f"p95 {samples[round(0.95 * (len(samples) - 1))]:7.1f} ms"
    )


async def main(runs: int) -> None:
    spans = generate()
    print(f"generated {len(spans):,} spans of {len(AGENTS)} agents for January 2026 (Asia/Jakarta)")
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
        await migrate(engine)
        try:
            await run("SQLite", engine, spans, runs)
        finally:
            await engine.dispose()
    name = f"hotline_bench_agent_time_{uuid.uuid4().hex[:8]}"
    try:
        await pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"PostgreSQL  skipped: {PG_ADMIN} not reachable ({exc})")
        return
    try:
        dsn = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
        engine = create_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
        await migrate(engine)
        try:
            await run("PostgreSQL", engine, spans, runs)
        finally:
            await engine.dispose()
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
