"""Fixtures of the recording tests: SQLite and PostgreSQL databases, settings, users, a running hotline."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import uuid
import zoneinfo
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.model import NewUser
from hotline.auth.passwords import hash_password
from hotline.auth.users import create_user
from hotline.compose import Runtime
from hotline.config import AgiConfig, Config, HttpConfig, RecordingConfig, StoreConfig
from hotline.store import create_engine, migrate
from recording import RecordingFeature
from recording.settings import RecordingSettings


def _admin_dsn() -> str:
    url = os.environ.get("HOTLINE_TEST_PG_URL") or os.environ.get("HOTLINE_TEST_PG")
    if not url:
        return "postgresql://postgres@127.0.0.1:5432/test"
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


PG_ADMIN_DSN = _admin_dsn()
_RUN = uuid.uuid4().hex[:8]
_NUMBERS = itertools.count(1)
PASSWORD = "correct horse battery"
USERS = (
    NewUser("1001", "Siti Rahma", "agent", team="alpha", iface="PJSIP/1001"),
    NewUser("1002", "Budi Santoso", "agent", team="beta", iface="PJSIP/1002"),
    NewUser("tl.alpha", "Ani Suryani", "team_leader", team="alpha"),
    NewUser("tl.beta", "Joko Susilo", "team_leader", team="beta"),
    NewUser("qc.dewi", "Dewi Anggraini", "qc"),
    NewUser("qa.eko", "Eko Saputra", "qa"),
    NewUser("admin", "Admin", "admin"),
)


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
    name = f"hotline_rec_{_RUN}_{next(_NUMBERS)}"
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


def recording_config(tmp_path: Path, **changes: Any) -> RecordingConfig:
    """[recording] with every folder in the test's temporary folder and quick timings."""
    values: dict[str, Any] = {
        "spool_dirs": str(tmp_path / "spool"),
        "archive_dir": str(tmp_path / "archive"),
        "cache_dir": str(tmp_path / "cache"),
        "settle_s": 0.05,
        "missing_grace_s": 1.0,
        "scan_interval_s": 0.02,
    }
    values.update(changes)
    return RecordingConfig(**values)


@pytest.fixture
def settings(tmp_path: Path) -> RecordingSettings:
    """Settings for one PBX 'jakarta' (site jakarta), folders under tmp_path."""
    return RecordingSettings(
        spool_dirs={"jakarta": tmp_path / "spool"},
        sites={"jakarta": "jakarta"},
        archive_dir=tmp_path / "archive",
        cache_dir=tmp_path / "cache",
        timezone=zoneinfo.ZoneInfo("Asia/Jakarta"),
        retention_per_queue={"cc-pengaduan": 730},
        settle_s=0.05,
        missing_grace_s=1.0,
    )


async def add_users(engine: AsyncEngine) -> None:
    password_hash = await asyncio.to_thread(hash_password, PASSWORD)
    for user in USERS:
        await create_user(engine, user, password_hash)


def base_config(tmp_path: Path, db_url: str | None = None, **recording: Any) -> Config:
    return Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=db_url or f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "evspool")
        ),
        recording=recording_config(tmp_path, **recording),
    )


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """hotline with only the recording feature, on free ports, users created (no PBX)."""
    rt = Runtime(base_config(tmp_path), features=[RecordingFeature()])
    await rt.start()
    await add_users(rt.engine)
    try:
        yield rt
    finally:
        await rt.stop()


def with_recording(config: Config, **changes: Any) -> Config:
    return dataclasses.replace(config, recording=dataclasses.replace(config.recording, **changes))
