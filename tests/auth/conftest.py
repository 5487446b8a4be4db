"""Fixtures of the auth tests: migrated engines on SQLite and (when reachable) PostgreSQL, users, an app."""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth import passwords
from hotline.auth.model import NewUser, User
from hotline.auth.users import create_user
from hotline.auth.web import setup
from hotline.config import Config
from hotline.metrics import Registry
from hotline.store import create_engine, migrate
from hotline.tokens import TokenSigner
from hotline.web import create_app

PASSWORD = "correct horse battery"
_RUN = uuid.uuid4().hex[:8]
_DATABASE_NUMBERS = itertools.count(1)


def _admin_dsn() -> str:
    url = os.environ.get("HOTLINE_TEST_PG_URL") or os.environ.get("HOTLINE_TEST_PG")
    if not url:
        return "postgresql://postgres@127.0.0.1:5432/test"
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


PG_ADMIN_DSN = _admin_dsn()


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
        where = PG_ADMIN_DSN.split("@")[-1]
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {where} in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {where}: {exc}")
    return PG_ADMIN_DSN


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"hotline_auth_{_RUN}_{next(_DATABASE_NUMBERS)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = pg_server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
    """A migrated engine on each backend."""
    engine = create_engine(db_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite engine (for tests about behaviour, not about the database)."""
    engine = create_engine(sqlite_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One hash of PASSWORD with the current parameters (hashing costs ~0.1 s, so it is shared)."""
    return passwords.hash_password(PASSWORD)


AddUser = Callable[..., Awaitable[User]]


@pytest.fixture
def add_user(sqlite_engine: AsyncEngine, password_hash: str) -> AddUser:
    """add_user(username, role="agent", stored_hash=None, **fields): a user whose password is PASSWORD."""

    async def add(
        username: str, role: str = "agent", *, stored_hash: str | None = None, **fields: str | None
    ) -> User:
        fields.setdefault("team", "A" if role in ("agent", "team_leader") else None)
        fields.setdefault("iface", f"PJSIP/{username}" if role == "agent" else None)
        fields.setdefault("site", "jakarta")
        new = NewUser(username=username, display_name=f"User {username}", role=role, **fields)
        return await create_user(sqlite_engine, new, stored_hash or password_hash)

    return add


@pytest.fixture
def signer() -> TokenSigner:
    """A signer with a fixed test key."""
    return TokenSigner(b"auth test key, long enough to sign", default_ttl=3600)


@pytest.fixture
async def client(
    sqlite_engine: AsyncEngine, signer: TokenSigner
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The core app with the login routes, on a real local server."""
    app = create_app(config=Config(), health_checks={}, metrics=Registry(), openapi_fragments=[])
    setup(app, sqlite_engine, signer)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as test_client:
        yield test_client


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
