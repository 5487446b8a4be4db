"""The dirty marks of changed spans, against the rule of :mod:`hotline.rollup.agent_time_marks` in Python.

A random ``agent_session`` (AMI and queue_log logins, pauses and calls, some open, calls of one
reference under several agents and sources), random changes (new spans, rewritten ones, calls
moved earlier and later, deletes of rows there and not there, a delete and a rewrite of one key)
and marks already there: the marks written must be those the rule gives, row by row. The marks
are written in the caller's transaction, and in the order the refresher deletes them. On SQLite
and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi import facts
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, AgentSpan, session_ref
from hotline.rollup import agent_store
from hotline.rollup.agent_tables import agent_session, agent_time_dirty
from hotline.rollup.agent_time import refresh_in
from hotline.rollup.agent_time_marks import ChangedRow, mark_changed, probes

DAY0 = 1_767_225_600
AGENTS = [("jkt", "ani"), ("jkt", "budi"), ("yog", "ani"), ("yog", "citra")]
SOURCES = [facts.SOURCE_AMI, facts.SOURCE_QUEUE_LOG]


def stored_spans(rng: random.Random) -> list[AgentSpan]:
    spans: dict[tuple[str, ...], AgentSpan] = {}
    for pbx, agent in AGENTS:
        for _ in range(40):
            kind = rng.choice([LOGIN, PAUSE, CALL])
            start = DAY0 + rng.randrange(0, 3 * 86400)
            end = None if rng.random() < 0.1 else float(start + rng.randrange(1, 4 * 3600))
            ref = session_ref(start) if kind != CALL else f"c{rng.randrange(60)}#1"
            span = AgentSpan(pbx, agent, kind, float(start), end, None, ref, source=rng.choice(SOURCES))
            spans[span.key] = span
    return list(spans.values())


def changes(rng: random.Random, stored: list[AgentSpan]) -> list[ChangedRow]:
    rows: list[ChangedRow] = []
    for span in rng.sample(stored, 30):
        roll = rng.random()
        if roll < 0.3:
            rows.append((*span.key, None))  # deleted
        elif span.kind == CALL:
            rows.append((*span.key, span.started_at + rng.choice([-900.0, -1.0, 0.0, 30.0, 7200.0])))
            if roll < 0.4:
                rows.append((*span.key, None))  # deleted and written again
        else:
            rows.append((*span.key, span.started_at))  # closed or reopened
    for _ in range(25):
        pbx, agent = rng.choice(AGENTS)
        kind = rng.choice([LOGIN, PAUSE, CALL])
        start = DAY0 + rng.randrange(0, 3 * 86400)
        ref = session_ref(start) if kind != CALL else f"new{rng.randrange(1000)}#2"
        source = rng.choice(SOURCES)
        rows.append((pbx, source, kind, agent, ref, float(start)))
        if rng.random() < 0.1:
            rows.append((pbx, source, kind, agent, f"gone{rng.randrange(1000)}", None))  # was never there
    rng.shuffle(rows)
    return rows


def expected_marks(
    stored: list[AgentSpan], rows: list[ChangedRow], before: dict[tuple[str, str], tuple[float, int]]
) -> dict[tuple[str, str], tuple[float, int]]:
    """The rule, one changed row at a time, with no shortcut."""
    by_key = {span.key: span for span in stored}
    since: dict[tuple[str, str], float] = {}
    # An AMI call appearing or going (write_spans deletes first, then upserts): queue_log's
    # copies of its (pbx, ref), under any agent, count or not from their start on.
    written = {row[:5] for row in rows if row[5] is not None}
    for changed in {row[:5] for row in rows}:
        pbx, source, kind, agent, ref = changed
        if source != facts.SOURCE_AMI or kind != CALL or (changed in by_key) == (changed in written):
            continue
        for copy in stored:
            if (copy.pbx, copy.source, copy.kind, copy.ref) == (pbx, facts.SOURCE_QUEUE_LOG, CALL, ref):
                mark = (copy.pbx, copy.agent)
                since[mark] = min(since.get(mark, copy.started_at), copy.started_at)
    for pbx, source, kind, agent, ref, new_start in rows:
        old = by_key.get((pbx, source, kind, agent, ref))
        starts = [s for s in (new_start, old.started_at if old else None) if s is not None]
        if not starts:
            continue  # a delete of a row that is not there
        earliest = min(starts)
        moments = [earliest]
        if source == facts.SOURCE_AMI and kind in (LOGIN, PAUSE):
            moments += [
                other.started_at
                for other in stored
                if other.source == facts.SOURCE_QUEUE_LOG
                and (other.pbx, other.kind, other.agent) == (pbx, kind, agent)
                and other.started_at < earliest
                and (other.ended_at is None or other.ended_at > earliest)
            ]
        since[(pbx, agent)] = min(since.get((pbx, agent), earliest), *moments)
    marks = dict(before)
    for key, moment in since.items():
        old_mark = before.get(key)
        marks[key] = (moment, 1) if old_mark is None else (min(old_mark[0], moment), old_mark[1] + 1)
    return marks


@pytest.mark.parametrize("seed", range(4))
async def test_marks_follow_the_rule(engine: AsyncEngine, seed: int) -> None:
    rng = random.Random(seed)
    stored = stored_spans(rng)
    rows = changes(rng, stored)
    before = {("jkt", "ani"): (float(DAY0 + 86400), 4), ("yog", "citra"): (float(DAY0 - 10), 2)}
    async with engine.begin() as connection:
        await connection.execute(
            insert(agent_session),
            [
                {"pbx": s.pbx, "source": s.source, "kind": s.kind, "agent": s.agent, "ref": s.ref,
                 "started_at": s.started_at, "ended_at": s.ended_at}
                for s in stored
            ],
        )  # fmt: skip
        # Few changes at a time, so that each one's own reach shows in its agent's mark, then all at once.
        groups = [rows[start : start + 3] for start in range(0, len(rows), 3)] + [rows]
        for group in groups:
            await connection.execute(delete(agent_time_dirty))
            await connection.execute(
                insert(agent_time_dirty),
                [{"pbx": p, "agent": a, "since": s, "version": v} for (p, a), (s, v) in before.items()],
            )
            await mark_changed(connection, group)
            got = {
                (pbx, agent): (since, version)
                for pbx, agent, since, version in await connection.execute(select(agent_time_dirty))
            }
            assert got == expected_marks(stored, group, before), group


def test_only_what_python_cannot_know_is_looked_up() -> None:
    login = float(DAY0 + 60)
    rows: list[ChangedRow] = [
        ("jkt", facts.SOURCE_QUEUE_LOG, LOGIN, "ani", session_ref(login), login),
        ("jkt", facts.SOURCE_QUEUE_LOG, PAUSE, "ani", session_ref(login + 5), login + 5),
        ("jkt", facts.SOURCE_AMI, LOGIN, "ani", session_ref(login + 9), login + 9),
        ("jkt", facts.SOURCE_AMI, LOGIN, "ani", session_ref(login + 3), login + 3),
        ("jkt", facts.SOURCE_AMI, CALL, "ani", "c1#1", login + 20),
        ("jkt", facts.SOURCE_AMI, PAUSE, "ani", session_ref(login), None),
        ("jkt", facts.SOURCE_AMI, LOGIN, "ani", "not-its-start", login),
    ]
    assert sorted(probes(rows), key=repr) == sorted(
        [
            ("jkt", "ani", None, None, None, login, False),  # the queue_log sessions: no lookup at all
            ("jkt", "ani", facts.SOURCE_AMI, LOGIN, None, login + 3, True),  # the earlier AMI login
            ("jkt", "ani", facts.SOURCE_AMI, CALL, "c1#1", login + 20, False),
            ("jkt", "ani", facts.SOURCE_AMI, PAUSE, session_ref(login), None, True),
            ("jkt", "ani", facts.SOURCE_AMI, LOGIN, "not-its-start", login, True),
        ],
        key=repr,
    )


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_mark_is_rolled_back_with_its_spans(engine: AsyncEngine) -> None:
    """A batch that fails after the mark leaves no mark: committed alone, a refresh in between
    would clear it against the old spans, and the new ones would never be rolled up."""
    login = AgentSpan("jkt", "ani", LOGIN, float(DAY0), None, None, session_ref(DAY0))
    with pytest.raises(RuntimeError):
        async with engine.begin() as connection:
            await agent_store.write_spans(connection, [login])
            raise RuntimeError("the batch fails after the spans")
    assert await _count(engine, agent_session) == 0
    assert await _count(engine, agent_time_dirty) == 0


@pytest.mark.postgres
async def test_the_refresher_clears_marks_in_the_writers_order(pg_url: str) -> None:
    """The writer holds the mark of ``ani`` and goes on to ``budi`` while a refresh clears both
    (``budi``'s mark made first): deleting in the writer's (pbx, agent) order, the refresh waits
    on ``ani`` holding nothing, where the other order would deadlock."""
    from hotline.store.db import create_engine, migrate

    engine = create_engine(pg_url)
    await migrate(engine)
    try:
        async with engine.begin() as connection:
            for agent in ("budi", "ani"):
                span = AgentSpan("jkt", agent, LOGIN, float(DAY0), float(DAY0 + 600), None, session_ref(DAY0))
                await agent_store.write_spans(connection, [span])
        later = float(DAY0 + 900)
        async with engine.begin() as writer:
            await mark_changed(writer, [("jkt", facts.SOURCE_AMI, LOGIN, "ani", session_ref(later), later)])

            async def refreshed() -> int:
                async with engine.begin() as connection:
                    return await refresh_in(connection, now=float(DAY0 + 86400))

            refresher = asyncio.create_task(refreshed())
            await asyncio.sleep(1.5)  # the refresh is waiting on ani's mark
            await mark_changed(writer, [("jkt", facts.SOURCE_AMI, LOGIN, "budi", session_ref(later), later)])
        assert await refresher == 2
        async with engine.connect() as connection:
            left = {agent for (agent,) in await connection.execute(select(agent_time_dirty.c.agent))}
        assert left == {"ani", "budi"}  # changed meanwhile: kept for the next refresh
    finally:
        await engine.dispose()
