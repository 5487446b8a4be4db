"""Fixtures of the QC tests: databases on both backends, users, and a running hotline with QC."""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.compose import Runtime
from hotline.store import create_engine, migrate
from tests.qc.helpers import add_users, qc_config, qc_runtime


def _admin_dsn() -> str:
    url = os.environ.get("HOTLINE_TEST_PG_URL") or os.environ.get("HOTLINE_TEST_PG")
    if not url:
        return "postgresql://postgres@127.0.0.1:5432/test"
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


PG_ADMIN_DSN = _admin_dsn()
_RUN = uuid.uuid4().hex[:8]
_NUMBERS = itertools.count(1)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin DSN of the test PostgreSQL server; skips (fails in CI) when it does not answer."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    return PG_ADMIN_DSN


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"hotline_qc_{_RUN}_{next(_NUMBERS)}"
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
    """A migrated engine on each backend, with the test users."""
    engine = create_engine(db_url)
    await migrate(engine)
    await add_users(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """hotline with the recording feature and QC on free ports (SQLite), users created."""
    rt = await qc_runtime(qc_config(tmp_path))
    try:
        yield rt
    finally:
        await rt.stop()
