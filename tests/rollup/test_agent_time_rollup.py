"""The agent time rollup answers exactly what the sweep over the raw spans answers.

Random traffic (logins, pauses with reasons, calls of fractional length as AMI times them, spans
left open, AMI and queue_log spans that mirror, overlap in part or fill a gap), written in batches
with refreshes in between and changes after the last one (so some agents are still marked), then
several windows and intervals in Asia/Jakarta, every PBX and one, ending before and after the
horizon (the store's last known moment): the rollup path and the raw path must print the same
JSON. Then the horizon moves on (another agent's spans) and the agents still logged in are rolled
up further without a change of their own. On SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi import facts
from hotline.kpi.agent_report import add_agent_times
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, AgentSpan
from hotline.kpi.definitions import BY_AGENT
from hotline.kpi.intervals import parse_interval
from hotline.kpi.report import KpiReport, ReportOptions
from hotline.reports.kpis import with_agent_times
from hotline.rollup import agent_store
from hotline.rollup.agent_store import SpanKey
from hotline.rollup.agent_tables import agent_session, agent_time_dirty, agent_time_mark, agent_time_rollup
from hotline.rollup.agent_time import floor_bucket, rebuild_agent_time, refresh

TZ = ZoneInfo("Asia/Jakarta")
DAY0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
REASONS = ["", "break", "wrapup", "meeting", "toilet"]
AGENTS = [("jkt", "ani"), ("jkt", "budi"), ("yog", "citra"), ("yog", "dewi"), ("jkt", "eka"), ("yog", "eka")]


def _day_of(rng: random.Random, pbx: str, agent: str, day: float, calls: list[int]) -> list[AgentSpan]:
    """One shift of one agent (AMI): a login, pauses and calls inside it."""
    start = day + rng.randrange(0, 20 * 3600)
    end = start + rng.randrange(1800, 9 * 3600)
    spans = [AgentSpan(pbx, agent, LOGIN, float(start), float(end), None, str(start))]
    t = start + rng.randrange(0, 600)
    while t < end - 60:
        length = rng.randrange(20, 1500)
        if rng.random() < 0.3:
            reason = rng.choice(REASONS)
            spans.append(AgentSpan(pbx, agent, PAUSE, float(t), float(min(t + length, end)), reason, str(t)))
        else:
            calls[0] += 1
            # As call_span makes it: a whole-second end, AMI's fractional handle_s before it.
            handle = length - rng.choice([0.0, round(rng.random(), 3), rng.random()])
            end = float(t + length)
            spans.append(AgentSpan(pbx, agent, CALL, end - handle, end, "cc", f"c{calls[0]}#1"))
        t += length + rng.randrange(0, 900)
    return spans


def _as_queue_log(span: AgentSpan, shift: int = 0) -> AgentSpan:
    # queue_log's whole seconds: its copy of a call may start up to a second before AMI's.
    start = math.floor(span.started_at) + shift
    ref = span.ref if span.kind == CALL else str(int(start))
    return AgentSpan(
        span.pbx, span.agent, span.kind, start, span.ended_at, span.reason, ref, source=facts.SOURCE_QUEUE_LOG
    )


def traffic(seed: int, days: int = 9) -> tuple[list[AgentSpan], list[AgentSpan]]:
    """(spans to write first, changes written after: closings, rewrites)."""
    rng = random.Random(seed)
    calls = [0]
    spans: list[AgentSpan] = []
    later: list[AgentSpan] = []
    for pbx, agent in AGENTS:
        for number in range(days):
            shift = _day_of(rng, pbx, agent, DAY0 + number * 86400, calls)
            roll = rng.random()
            if roll < 0.15:
                spans += [_as_queue_log(s) for s in shift]  # a gap AMI missed: queue_log alone
            elif roll < 0.35:
                spans += shift + [_as_queue_log(s) for s in shift]  # both sources saw it
            elif roll < 0.5:
                # queue_log begins earlier than AMI heard of it: overlapping, never held whole
                spans += shift + [_as_queue_log(s, -rng.randrange(60, 4000)) for s in shift if s.kind != CALL]
            else:
                spans += shift
        last = spans[-1]
        if rng.random() < 0.7:
            # Still logged in (and maybe paused, or on a call) at the end of the data.
            login = next(s for s in reversed(spans) if s.kind == LOGIN and s.agent == agent and s.pbx == pbx)
            spans.remove(login)
            spans.append(
                AgentSpan(pbx, agent, LOGIN, login.started_at, None, None, login.ref, source=login.source)
            )
            later.append(login)  # closed again later
            if rng.random() < 0.5 and last.agent == agent:
                spans.remove(last)
                spans.append(AgentSpan(pbx, agent, last.kind, last.started_at, None, last.reason, last.ref,
                                       source=last.source))  # fmt: skip
    return spans, later


def options(since: float, until: float, interval: str | None) -> ReportOptions:
    spec = parse_interval(interval) if interval else None
    return ReportOptions(tz=TZ, since=since, until=until, interval=spec, by=BY_AGENT)


async def _raw(engine: AsyncEngine, opts: ReportOptions, pbx: str | None) -> str:
    spans = await agent_store.load_spans(engine, opts.since, opts.until, pbx=pbx)
    end = agent_store.window_end(opts.until, await agent_store.last_moment(engine, pbx), time.time())
    report = add_agent_times(KpiReport({}, groups={}), spans, opts, until=end)
    return json.dumps([report.groups, report.group_intervals], sort_keys=True)


async def _rolled_up(engine: AsyncEngine, opts: ReportOptions, pbx: str | None) -> str:
    report = await with_agent_times(engine, KpiReport({}, groups={}), opts, pbx=pbx)
    return json.dumps([report.groups, report.group_intervals], sort_keys=True)


async def _write(engine: AsyncEngine, spans: list[AgentSpan], deletes: Sequence[SpanKey] = ()) -> None:
    async with engine.begin() as connection:
        await agent_store.write_spans(connection, spans, deletes)


WINDOWS = [
    (DAY0 - 86400, DAY0 + 12 * 86400),
    (DAY0 + 2 * 86400 + 15 * 900, DAY0 + 5 * 86400 + 38 * 900),
    (DAY0 + 17 * 3600, DAY0 + 17 * 3600 + 86400),  # one Jakarta day
    (DAY0 + 8 * 86400, DAY0 + 8 * 86400 + 3 * 3600),
]
INTERVALS = [None, "15m", "60m", "day", "week", "month"]


async def test_rollup_equals_the_sweep_over_the_spans(engine: AsyncEngine) -> None:
    spans, later = traffic(7)
    random.Random(3).shuffle(spans)
    for start in range(0, len(spans), 97):
        await _write(engine, spans[start : start + 97])
        if start % 3 == 0:
            await refresh(engine)
    for attempt in range(2):  # some agents still marked, then every mark handled
        for since, until in WINDOWS:
            for interval in INTERVALS:
                for pbx in (None, "jkt"):
                    opts = options(since, until, interval)
                    assert await _rolled_up(engine, opts, pbx) == await _raw(engine, opts, pbx), (
                        attempt, since, until, interval, pbx,
                    )  # fmt: skip
        await _write(engine, later, [s.key for s in spans[:5] if s.kind == CALL])
        await refresh(engine)
    async with engine.connect() as connection:
        left = (await connection.execute(select(func.count()).select_from(agent_time_dirty))).scalar_one()
    assert left == 0


async def test_a_rebuilt_rollup_answers_without_the_spans(engine: AsyncEngine) -> None:
    spans, _ = traffic(11, days=4)
    await _write(engine, spans)
    await rebuild_agent_time(engine)
    opts = options(DAY0, DAY0 + 2 * 86400, "60m")
    before = await _rolled_up(engine, opts, None)
    assert before == await _raw(engine, opts, None)
    async with engine.begin() as connection:  # behind the marks' back: only the rollup still knows
        await connection.execute(delete(agent_session).where(agent_session.c.ended_at < DAY0 + 2 * 86400))
        rows = (await connection.execute(select(func.count()).select_from(agent_time_rollup))).scalar_one()
    assert rows > 0
    assert await _rolled_up(engine, opts, None) == before
    assert await _raw(engine, opts, None) != before


async def test_an_ami_span_marks_the_queue_log_span_it_overlaps(engine: AsyncEngine) -> None:
    """An AMI login decides whether an earlier queue_log login counts: its whole length is marked."""
    queue_log = AgentSpan(
        "jkt", "ani", LOGIN, DAY0, DAY0 + 7200, None, str(int(DAY0)), source=facts.SOURCE_QUEUE_LOG
    )
    await _write(engine, [queue_log])
    await refresh(engine)
    opts = options(DAY0, DAY0 + 86400, "15m")
    alone = await _rolled_up(engine, opts, None)
    assert '"login_s": 7200.0' in alone
    ami = AgentSpan("jkt", "ani", LOGIN, DAY0 + 3600, DAY0 + 5400, None, str(int(DAY0 + 3600)))
    await _write(engine, [ami])
    async with engine.connect() as connection:
        since = (await connection.execute(select(agent_time_dirty.c.since))).scalar_one()
    assert since == DAY0
    for _ in range(2):  # marked, then refreshed
        assert await _rolled_up(engine, opts, None) == await _raw(engine, opts, None)
        assert '"login_s": 1800.0' in await _rolled_up(engine, opts, None)
        await refresh(engine)
    # The queue_log login does not count at all, also in a window that AMI span does not touch.
    early = options(DAY0, DAY0 + 1800, None)
    assert await _rolled_up(engine, early, None) == await _raw(engine, early, None) == "[{}, {}]"


@pytest.mark.parametrize("ami_agent", ["ani", "ani-ami"])
async def test_an_ami_call_marks_the_earlier_queue_log_copy_it_replaces(
    engine: AsyncEngine, ami_agent: str
) -> None:
    """queue_log's copy of a call (whole seconds) starts in the bucket before AMI's, maybe under
    another name: AMI's copy, written later, takes its place from the copy's start."""
    ref = "1767229000.7#1"
    queue_log = AgentSpan(
        "jkt", "ani", CALL, DAY0 + 3599, DAY0 + 3700, "cc", ref, source=facts.SOURCE_QUEUE_LOG
    )
    logins = [
        AgentSpan("jkt", agent, LOGIN, DAY0, DAY0 + 7200, None, str(int(DAY0)))
        for agent in {"ani", ami_agent}
    ]
    await _write(engine, [*logins, queue_log])
    await refresh(engine)
    await _write(engine, [AgentSpan("jkt", ami_agent, CALL, DAY0 + 3600.5, DAY0 + 3700, "cc", ref)])
    async with engine.connect() as connection:
        marked = dict(
            (await connection.execute(select(agent_time_dirty.c.agent, agent_time_dirty.c.since))).all()
        )
    assert marked["ani"] == DAY0 + 3599
    for _ in range(2):  # marked, then refreshed
        # (DAY0, DAY0 + 3600) ends between the copies: AMI's lies outside, under any name.
        await _assert_same(engine, [(DAY0, DAY0 + 7200), (DAY0 + 2700, DAY0 + 4500), (DAY0, DAY0 + 3600)])
        await refresh(engine)
    rolled = await _rolled_up(engine, options(DAY0 + 2700, DAY0 + 3600, "15m"), None)
    assert '"occupancy": 0.0' in rolled and '"login_s": 900.0' in rolled  # ani's call is AMI's, after 3600


async def _assert_same(engine: AsyncEngine, windows: Sequence[tuple[float, float]]) -> None:
    for since, until in windows:
        for interval in (None, "15m", "60m", "day"):
            for pbx in (None, "jkt"):
                opts = options(since, until, interval)
                assert await _rolled_up(engine, opts, pbx) == await _raw(engine, opts, pbx), (
                    since, until, interval, pbx,
                )  # fmt: skip


async def _throughs(engine: AsyncEngine) -> dict[tuple[str, str], float | None]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(agent_time_mark.c.pbx, agent_time_mark.c.agent, agent_time_mark.c.through)
        )
        return {(pbx, agent): through for pbx, agent, through in rows}


async def test_logged_in_agents_are_rolled_up_as_the_horizon_moves(engine: AsyncEngine) -> None:
    spans, _ = traffic(5, days=3)
    await _write(engine, spans)
    await refresh(engine)
    first = await agent_store.last_moment(engine)
    assert first is not None
    kept = await agent_store.load_spans(engine, None, None)  # one source per stretch of time
    opened = {s.agent for s in kept if s.ended_at is None}
    assert opened
    throughs = await _throughs(engine)
    # Rolled up through the last bucket before the horizon, open spans included.
    assert {throughs[("", agent)] for agent in opened} == {floor_bucket(first)}
    assert all(throughs[("", s.agent)] is None for s in kept if s.agent not in opened)
    # Windows ending before the horizon, inside its last bucket, after it, off the 15-minute grid.
    ends = [floor_bucket(first) - 3600, floor_bucket(first) + 300, first, first + 7 * 3600, first + 1234.0]
    await _assert_same(engine, [(DAY0, end) for end in ends] + [(DAY0 + 86400, first + 86400)])

    # The horizon moves on (another agent's shift): the logged-in agents, unchanged, follow it.
    fajar = AgentSpan(
        "jkt", "fajar", LOGIN, first + 3600, first + 10 * 3600 + 420, None, str(int(first + 3600))
    )
    await _write(engine, [fajar])
    assert await refresh(engine) == 1 + len(opened)
    second = first + 10 * 3600 + 420
    throughs = await _throughs(engine)
    assert {throughs[("", agent)] for agent in opened} == {floor_bucket(second)}
    async with engine.connect() as connection:
        left = (await connection.execute(select(func.count()).select_from(agent_time_dirty))).scalar_one()
        extended = (
            await connection.execute(
                select(func.count())
                .select_from(agent_time_rollup)
                .where(agent_time_rollup.c.pbx == "", agent_time_rollup.c.bucket_start >= floor_bucket(first))
                .where(agent_time_rollup.c.agent.in_(sorted(opened)))
            )
        ).scalar_one()
    assert left == 0
    assert extended >= len(opened) * 40  # ten hours of buckets each, rolled up
    assert await refresh(engine) == 0  # nothing changed, the horizon stayed
    ends += [second - 1800, second, second + 4000]
    await _assert_same(engine, [(DAY0, end) for end in ends] + [(floor_bucket(first) - 7200, second + 900)])


async def test_hourly_sums_answer_on_whole_hour_offsets_only(engine: AsyncEngine) -> None:
    """Hourly and longer intervals read ``agent_time_hourly`` on a whole-hour UTC offset (Jakarta),
    the quarter-hours on a half-hour one (Kolkata, whose hours begin at :30 UTC): the sweep's
    figures either way, windows on and off whole hours."""
    spans, _ = traffic(13, days=4)
    await _write(engine, spans)
    await refresh(engine)
    windows = [(DAY0, DAY0 + 4 * 86400), (DAY0 + 1800, DAY0 + 2 * 86400 + 2700)]
    for tz in (TZ, ZoneInfo("Asia/Kolkata")):
        for since, until in windows:
            for interval in ("60m", "30m", "day"):
                for pbx in (None, "jkt"):
                    spec = parse_interval(interval)
                    opts = ReportOptions(tz=tz, since=since, until=until, interval=spec, by=BY_AGENT)
                    assert await _rolled_up(engine, opts, pbx) == await _raw(engine, opts, pbx), (
                        tz, since, interval, pbx,
                    )  # fmt: skip
