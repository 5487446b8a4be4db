"""Fixtures of the auth tests: a migrated SQLite engine, users, an app.

The databases on both backends (``engine``, ``db_url``, ``pg_url``) come from tests/pg_support.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

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
