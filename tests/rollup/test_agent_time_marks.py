"""The dirty marks of changed spans, against the rule of :mod:`hotline.rollup.agent_time_marks` in Python.

A random ``agent_session`` (AMI and queue_log logins, pauses and calls, some open), random
changes (new spans, rewritten ones, calls moved earlier and later, deletes of rows there and not
there, a delete and a rewrite of one key) and marks already there: the marks written must be
those the rule gives, row by row. On SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi import facts
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, AgentSpan, session_ref
from hotline.rollup.agent_tables import agent_session, agent_time_dirty
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
