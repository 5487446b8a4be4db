"""Alembic environment: run by :func:`hotline.store.db.migrate`, or by the alembic command line.

``migrate()`` hands over an open connection in ``config.attributes["connection"]``. From the command line
(``alembic -c hotline/store/migrations/alembic.ini -x url=sqlite+aiosqlite:///var/hotline.db upgrade head``)
the URL comes from ``-x url=...`` or the ``HOTLINE_DB_URL`` environment variable.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from hotline.store.db import DEFAULT_URL, create_engine
from hotline.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported; connect to the database instead")
    given_url = context.get_x_argument(as_dictionary=True).get("url")
    url = given_url or os.environ.get("HOTLINE_DB_URL", DEFAULT_URL)
    asyncio.run(_run_from_url(url))


_main()
