"""The PostgreSQL server the benches make their scratch databases on (HOTLINE_BENCH_PG).

Not a bench itself (``./run bench`` runs ``bench/bench_*.py``): the one admin connection the
bench scripts share to create and drop their databases.
"""

from __future__ import annotations

import os

import asyncpg  # type: ignore[import-untyped]

PG_ADMIN = os.environ.get("HOTLINE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


async def pg_admin(statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the admin database; raises if unreachable."""
    connection = await asyncpg.connect(PG_ADMIN, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
