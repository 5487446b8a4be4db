"""A fresh database per test, on SQLite and on PostgreSQL: fixtures for every test folder.

tests/conftest.py loads this module with ``pytest_plugins``, so its fixtures reach every test
(tests/ has no __init__.py and runs under --import-mode=importlib: one folder's conftest cannot
import another's). A folder that needs more (users in the database, another file name) overrides
a fixture in its own conftest.py, asking for the one here under the same name.

* ``pg_server``: the admin DSN of the test server (``./run test`` exports HOTLINE_TEST_PG_URL,
  in SQLAlchemy form; asyncpg wants the libpq form). Skips when nothing answers, except in CI,
  which installs and starts PostgreSQL itself: there a missing server is a broken run and fails.
* ``pg_url``: a database of its own for one test, named after the test's folder, then dropped.
* ``sqlite_url``, ``db_url`` (once per backend) and ``engine`` (``db_url`` migrated to every head).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.store import create_engine, migrate

DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
_RUN = uuid.uuid4().hex[:8]  # several test runs may share one server
_DATABASE_NUMBERS = itertools.count(1)


def admin_dsn() -> str:
    """The test server's admin DSN, in the libpq form asyncpg takes."""
    url = os.environ.get("HOTLINE_TEST_PG_URL") or os.environ.get("HOTLINE_TEST_PG")
    if not url:
        return DEFAULT_ADMIN_DSN
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _database_name(test_path: Path) -> str:
    folder = re.sub(r"[^a-z0-9_]", "_", test_path.parent.name.lower())[:30]
    return f"hotline_{folder}_{_RUN}_{next(_DATABASE_NUMBERS)}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin DSN of the test PostgreSQL server; skips the test when it does not answer (fails in CI)."""
    dsn = admin_dsn()
    try:
        asyncio.run(_admin(dsn, "SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        where = dsn.split("@")[-1]  # never the password
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {where} in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {where}: {exc}")
    return dsn


@pytest.fixture
def pg_url(pg_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (SQLAlchemy URL), dropped afterwards."""
    name = _database_name(request.path)
    asyncio.run(_admin(pg_server, f'CREATE DATABASE "{name}"'))
    base = pg_server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file in the test's temporary folder."""
    return f"sqlite+aiosqlite:///{tmp_path}/hotline.db"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database, once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine (every branch's head) on each backend."""
    engine = create_engine(db_url)
    await migrate(engine)
    yield engine
    await engine.dispose()
