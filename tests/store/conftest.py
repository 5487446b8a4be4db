"""Fixtures of the store tests: a migrated engine on SQLite (tmp_path) and, when reachable, PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.ami.protocol import AmiParser, Event
from hotline.store import create_engine, migrate


def _admin_dsn() -> str:
    """``./run test`` exports HOTLINE_TEST_PG_URL (SQLAlchemy form); asyncpg wants the plain libpq form."""
    url = os.environ.get("HOTLINE_TEST_PG_URL") or os.environ.get("HOTLINE_TEST_PG")
    if not url:
        return "postgresql://postgres@127.0.0.1:5432/test"
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


PG_ADMIN_DSN = _admin_dsn()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
_RUN = uuid.uuid4().hex[:8]
_DATABASE_NUMBERS = itertools.count(1)


@dataclass(frozen=True)
class Received:
    """What the AMI client hands to the event log."""

    pbx: str
    connection: int
    seq: int
    received_at: float
    event: Event


def _make_event(
    seq: int,
    name: str = "Newchannel",
    pbx: str = "jkt",
    connection: int = 1,
    event: Event | None = None,
    **extra: str,
) -> Received:
    if event is None:
        headers = (("Event", name), ("Uniqueid", f"1700000000.{seq}"), ("Linkedid", "1700000000.0"))
        event = Event(headers + tuple(extra.items()))
    return Received(pbx, connection, seq, 1_700_000_000.0 + seq / 1000, event)


def _capture_events(scenario: str) -> list[Event]:
    data = (FIXTURES / scenario / "ami.raw").read_bytes()
    return [m for m in AmiParser().messages(data) if isinstance(m, Event)]


@pytest.fixture
def make_event() -> Callable[..., Received]:
    """make_event(seq, name=, pbx=, connection=, event=, **headers): what the AMI client hands over."""
    return _make_event


@pytest.fixture
def capture_events() -> Callable[[str], list[Event]]:
    """capture_events(scenario): the events of one real Asterisk 22 capture, in wire order."""
    return _capture_events


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin DSN of the test PostgreSQL server; skips the test if the server does not answer."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        where = PG_ADMIN_DSN.split("@")[-1]  # never the password
        if os.environ.get("CI"):
            # CI installs and starts PostgreSQL itself: a missing server there is a broken run, not a skip.
            pytest.fail(f"PostgreSQL not reachable at {where} in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {where}: {exc}")
    return PG_ADMIN_DSN


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"hotline_test_{_RUN}_{next(_DATABASE_NUMBERS)}"
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
