"""Engine creation, migrations and the health probe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.store import DEFAULT_URL, StoreError, check, create_engine, migrate
from hotline.store.db import MIGRATIONS_DIR
from hotline.store.models import Base

TABLES = {"ami_event", "queue_attempt", "call_context", "alembic_version"}


def _core_only(name: object, type_: str, *_: object) -> bool:
    # Features keep their own tables (and migration branches); this test holds the core's models
    # to the core's migration.
    return type_ != "table" or name in TABLES


def _schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"include_name": _core_only})
    return list(compare_metadata(context, Base.metadata))


async def test_migrate_creates_the_tables_the_models_describe(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        ok, reason = await check(engine)
        assert not ok and "run migrate" in reason
        await migrate(engine)
        await migrate(engine)  # a second run finds nothing to do
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            diff = await connection.run_sync(_schema_diff)
        assert tables >= TABLES  # the core's tables; features add their own branches
        assert diff == []
        ok, detail = await check(engine)
        assert ok and detail.startswith(f"{engine.dialect.name} ok, schema ")
    finally:
        await engine.dispose()


async def test_default_url_creates_its_folder_and_tunes_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = create_engine(DEFAULT_URL)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        await engine.dispose()
    assert (tmp_path / "var" / "hotline.db").is_file()
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 5000, "foreign_keys": 1}


def test_plain_urls_get_their_asyncio_driver(tmp_path: Path) -> None:
    assert create_engine(f"sqlite:///{tmp_path}/a.db").url.drivername == "sqlite+aiosqlite"
    assert create_engine("postgresql://u:pw@127.0.0.1/x").url.drivername == "postgresql+asyncpg"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url at all", "not a URL"),
        ("mysql://app:hunter2@db/hotline", "unsupported backend 'mysql'"),
        ("postgresql+psycopg2://app:hunter2@db/hotline", "postgresql+psycopg2://app:***@db/hotline"),
    ],
)
def test_bad_url_is_one_clear_error_without_the_password(url: str, expected: str) -> None:
    with pytest.raises(StoreError, match=r".") as caught:
        create_engine(url)
    assert expected in str(caught.value)
    assert "hunter2" not in str(caught.value)


async def test_unreachable_postgresql_is_a_store_error_without_the_password(closed_port: int) -> None:
    engine = create_engine(f"postgresql+asyncpg://app:hunter2@127.0.0.1:{closed_port}/hotline")
    try:
        with pytest.raises(StoreError) as caught:
            await migrate(engine)
        ok, reason = await check(engine)
    finally:
        await engine.dispose()
    message = str(caught.value)
    assert message.startswith(f"database postgresql+asyncpg://app:***@127.0.0.1:{closed_port}/hotline: ")
    assert "hunter2" not in message and "hunter2" not in reason
    assert not ok and reason.startswith("postgresql: ")


async def test_sqlite_folder_that_cannot_be_created_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create its folder"):
        create_engine(f"sqlite+aiosqlite:///{tmp_path}/file/sub/hotline.db")


def test_migrations_ship_as_package_files() -> None:
    # The installed package must carry env.py, the template and the versions (as a package).
    for relative in (
        "__init__.py",
        "env.py",
        "script.py.mako",
        "versions/__init__.py",
        "versions/0001_initial.py",
    ):
        assert (MIGRATIONS_DIR / relative).is_file(), relative


async def test_check_reports_a_healthy_engine(engine: AsyncEngine) -> None:
    ok, reason = await check(engine)
    assert ok, reason
