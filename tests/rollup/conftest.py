"""Fixtures of the rollup tests: migrated engines (SQLite, PostgreSQL) and random traffic."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt
from hotline.store import create_engine, migrate

_RUN = uuid.uuid4().hex[:8]
_NUMBERS = itertools.count(1)
DAY0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _admin_dsn() -> str:
    url = os.environ.get("HOTLINE_TEST_PG_URL") or os.environ.get("HOTLINE_TEST_PG")
    if not url:
        return "postgresql://postgres@127.0.0.1:5432/test"
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(_admin_dsn(), timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin DSN of the test PostgreSQL server; skips the test if it does not answer."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    return _admin_dsn()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"hotline_rollup_{_RUN}_{next(_NUMBERS)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = pg_server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine on each backend."""
    engine = create_engine(db_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


def random_call(
    rng: random.Random, pbx: str, call_id: str, entered_at: float, source: str
) -> list[QueueAttempt]:
    """The final attempts of one call: answered (maybe held, maybe transferred on), abandoned, timed out..."""
    queue = rng.choice(["cc-informasi", "cc-pengaduan", "cc-sapa"])
    wait = round(rng.uniform(0, 60), 3)
    first = QueueAttempt(
        pbx, call_id, 1, queue, None, "0812", entered_at, 1, facts.WAITING, None, None,
        None, None, None, None, None, None, None, rng.randint(0, 2), source,
    )  # fmt: skip
    roll = rng.random()
    if roll < 0.15:
        return [replace(first, outcome=facts.ABANDONED, wait_s=wait, ended_at=entered_at + wait)]
    if roll < 0.2:
        return [replace(first, outcome=facts.TIMEOUT, wait_s=wait, ended_at=entered_at + wait)]
    if roll < 0.22:
        return [replace(first, outcome=facts.EXIT_KEY, wait_s=wait)]
    if roll < 0.24:
        return [first]  # still waiting
    handle = float(rng.randint(20, 600))
    hold = round(rng.uniform(0, 30), 3) if source == facts.SOURCE_AMI and rng.random() < 0.3 else 0.0
    answered = replace(
        first,
        outcome=facts.ANSWERED,
        wait_s=wait,
        agent=f"agent-{rng.randint(1, 6)}",
        connected_at=entered_at + wait,
        handle_s=handle,
        hold_s=hold if source == facts.SOURCE_AMI else None,
        completed_by=facts.BY_CALLER,
        ended_at=entered_at + wait + handle,
    )
    if rng.random() < 0.1:
        answered = replace(answered, handle_s=None, hold_s=None, completed_by=None, ended_at=None)
        return [answered]  # still in conversation
    if rng.random() > 0.12:
        return [answered]
    moved = answered.ended_at or entered_at
    answered = replace(answered, completed_by=facts.BY_TRANSFER, transfer_target="600@cc")
    second = replace(
        first, attempt=2, queue="cc-helpdesk", entered_at=moved, ring_no_answer=0,
        outcome=facts.ABANDONED if rng.random() < 0.3 else facts.ANSWERED,
    )  # fmt: skip
    if second.outcome == facts.ABANDONED:
        second = replace(second, wait_s=2.0, ended_at=moved + 2)
    else:
        second = replace(
            second,
            wait_s=4.0,
            agent="agent-9",
            handle_s=90.0,
            hold_s=answered.hold_s,
            completed_by=facts.BY_AGENT,
        )
    return [answered, second]


def _traffic(
    seed: int, calls: int, *, span_s: float = 2 * 86400, source: str = facts.SOURCE_AMI
) -> list[list[QueueAttempt]]:
    rng = random.Random(seed)
    return [
        random_call(rng, rng.choice(["jkt", "yog"]), f"{seed}.{n}", DAY0 + rng.uniform(0, span_s), source)
        for n in range(calls)
    ]


@pytest.fixture
def traffic() -> Callable[..., list[list[QueueAttempt]]]:
    """traffic(seed, calls, span_s=, source=): per call, its final attempts."""
    return _traffic
