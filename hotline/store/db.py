"""Engine creation, migrations and the health probe of the store.

One URL chooses the database: ``sqlite+aiosqlite:///var/hotline.db`` (a path relative to the working
directory; its folder is created on first run) or ``postgresql+asyncpg://user:pass@host/db``. The plain
forms ``sqlite:///...`` and ``postgresql://...`` are accepted and given their asyncio driver.

Every failure a user can cause (a bad URL, a database that cannot be reached, a schema that cannot be
migrated) becomes one :class:`StoreError` whose message names the URL with its password masked.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_URL: Final = "sqlite+aiosqlite:///var/hotline.db"
MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"

SQLITE_BUSY_TIMEOUT_MS: Final = 5000
"""How long a SQLite writer waits for another connection's lock before it reports ``database is locked``."""
SQLITE_MAX_VARIABLES: Final = 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
"""How many values one SQLite statement may bind (multi-row INSERTs are cut to fit)."""
PG_CONNECT_TIMEOUT_S: Final = 10.0
"""asyncpg waits 60 s by default; a dead server should be reported (and retried) sooner."""

_ASYNC_DRIVERS: Final = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class StoreError(RuntimeError):
    """The database cannot be used as configured; the message says which database and why."""


def mask_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ``***`` (safe for logs and errors)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The text itself may hold a password, so it is not repeated.
        raise StoreError(f"database URL is not a URL (expected e.g. {DEFAULT_URL})") from None
    if parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
    if parsed.get_backend_name() not in _ASYNC_DRIVERS:
        raise StoreError(
            f"database {mask_url(parsed)}: unsupported backend {parsed.get_backend_name()!r} "
            "(use sqlite+aiosqlite or postgresql+asyncpg)"
        )
    return parsed


def _prepare_sqlite_path(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    try:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"database {mask_url(url)}: cannot create its folder: {exc.strerror}") from None


SQLITE_PRAGMAS: Final = (
    "journal_mode=WAL",
    "synchronous=FULL",
    f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "foreign_keys=ON",
)
"""Set once on every new SQLite connection (the pool keeps connections, so not per transaction).

WAL lets readers (KPI queries, the CTI screen-pop) run while the event log writes. FULL syncs
the WAL at every commit, so a committed batch of events survives a power cut or a kernel crash
too; NORMAL would survive only the application's crash (the last commits before the cut roll
back, in order) and measured no faster here: one fsync per 2,000-event batch, about 1 ms.
"""


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def create_engine(url: str = DEFAULT_URL) -> AsyncEngine:
    """An asyncio engine for ``url``; raises :class:`StoreError` if the URL cannot be used.

    Nothing is connected yet: an unreachable server shows up in :func:`migrate` or :func:`check`.
    """
    parsed = _parse(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        # A server restart leaves pooled connections dead: test each one as it leaves the pool.
        # (A SQLite file cannot drop a connection, and there a ping costs a thread hop per checkout.)
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"timeout": PG_CONNECT_TIMEOUT_S}
    else:
        _prepare_sqlite_path(parsed)
    try:
        engine = create_async_engine(parsed, **kwargs)
    except (ArgumentError, NoSuchModuleError, SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"database {mask_url(parsed)}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


def describe_error(engine: AsyncEngine, exc: BaseException) -> str:
    """A one-line reason for ``exc`` that never contains the password of ``engine``'s URL."""
    reason = str(exc.orig) if isinstance(exc, DBAPIError) and exc.orig is not None else str(exc)
    reason = reason.splitlines()[0] if reason else type(exc).__name__
    password = engine.url.password
    if password:
        reason = reason.replace(str(password), "***")
    return reason


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade_head(connection: Connection) -> None:
    # "heads", not "head": each feature keeps its own branch of migrations off the core's
    # (so two features can add tables without ordering their revisions against each other).
    command.upgrade(_alembic_config(connection), "heads")


@functools.cache
def head_revisions() -> tuple[str, ...]:
    """The newest migration of every branch shipped with this package, sorted."""
    return tuple(sorted(ScriptDirectory.from_config(_alembic_config()).get_heads()))


def head_revision() -> str | None:
    """The newest migrations shipped with this package (comma-separated when several branches)."""
    heads = head_revisions()
    return ",".join(heads) if heads else None


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (``alembic upgrade head``), for SQLite and PostgreSQL."""
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_head)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        reason = describe_error(engine, exc)
        raise StoreError(f"database {mask_url(engine.url)}: migration failed: {reason}") from exc


def _current_revision(connection: Connection) -> str | None:
    heads = sorted(MigrationContext.configure(connection).get_current_heads())
    return ",".join(heads) if heads else None


CHECK_TIMEOUT_S: Final = 3.0
"""A health probe answers quickly, even when the database does not."""


async def check(engine: AsyncEngine) -> tuple[bool, str]:
    """For /health: ``(True, "sqlite ok, schema 0001")`` or ``(False, reason)``; never raises."""
    timeout = CHECK_TIMEOUT_S
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            revision = await connection.run_sync(_current_revision)
    except TimeoutError:
        return False, f"{engine.dialect.name}: no answer within {timeout:g} s"
    except (SQLAlchemyError, OSError) as exc:
        return False, f"{engine.dialect.name}: {describe_error(engine, exc)}"
    head = head_revision()
    if revision != head:
        found = revision or "nothing"
        return False, f"{engine.dialect.name}: schema at {found}, expected {head} (run migrate)"
    return True, f"{engine.dialect.name} ok, schema {revision}"
