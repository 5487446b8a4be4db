"""Recording search over 1,000,000 rows on SQLite and PostgreSQL: p50/p95 of typical QC filters.

The table is the real one (migration ``0006_recording``, its indexes), filled in the database
itself (a recursive CTE on SQLite, ``generate_series`` on PostgreSQL) with a year of calls:
67 agents in 7 teams, 7 queues, 2 sites, 5 % scored, durations 10-900 s. Each query is the one
``GET /api/recordings`` runs (:func:`recording.search.build_query`), executed ``--repeat``
times after one warm-up; the figures are per query, in milliseconds. The peer is the other
backend in the same run (ratio PostgreSQL / SQLite), and the target (p95 < 20 ms).

    .venv/bin/python bench/bench_recording.py [--rows 1000000] [--repeat 50] [--pg URL]

PostgreSQL: ``--pg postgresql+asyncpg://postgres@127.0.0.1:5432/test`` (default: HOTLINE_TEST_PG_URL
or that URL); a scratch database is created and dropped. Without a server only SQLite runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hotline.store import create_engine, migrate
from recording.search import Filters, build_query

DAY = 86400.0
START = 1_767_200_000.0  # 2026-01-01
TEAMS = 7
QUEUES = (
    "cc-informasi",
    "cc-pengaduan",
    "cc-permintaan",
    "cc-saran",
    "cc-pembayaran",
    "cc-umum",
    "sapa-helpdesk",
)

_FILL_SQLITE = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
INSERT INTO recording (pbx, site, call_id, uniqueid, channel, direction, queue, agent, agent_name, team,
    caller_number, started_at, ended_at, duration_s, talk_s, hold_s, status, file_path, format, size_bytes,
    sha256, qc_score, updated_at)
SELECT CASE i % 2 WHEN 0 THEN 'jkt' ELSE 'yog' END, CASE i % 2 WHEN 0 THEN 'jakarta' ELSE 'yogyakarta' END,
    'c' || i, 'c' || i, 'PJSIP/provider', 'inbound',
    CASE i % 7 WHEN 0 THEN 'cc-informasi' WHEN 1 THEN 'cc-pengaduan' WHEN 2 THEN 'cc-permintaan'
        WHEN 3 THEN 'cc-saran' WHEN 4 THEN 'cc-pembayaran' WHEN 5 THEN 'cc-umum' ELSE 'sapa-helpdesk' END,
    CAST(1001 + (i * 7919) % 67 AS TEXT), 'Agent', 'team' || (((i * 7919) % 67) % 7),
    '08' || (1000000000 + (i * 104729) % 900000000), :start + (i * 31.536), :start + (i * 31.536) + 300,
    10 + (i * 37) % 890, 200, 20, 'archived', 'x/' || i || '.wav', 'wav', 64000,
    'ab', CASE WHEN i % 20 = 0 THEN 85.0 ELSE NULL END, 0
FROM n
"""
_FILL_PG = (
    _FILL_SQLITE.replace(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)", ""
    )
    .replace("FROM n", "FROM generate_series(1::bigint, :rows) AS n(i)")
    .replace("'08' || (1000000000", "'08' || (1000000000::bigint")
)


def queries(now: float) -> dict[str, Filters]:
    week, month, day = now - 7 * DAY, now - 30 * DAY, now - DAY
    return {
        "team, last 7 days, not scored": Filters(since=week, until=now, team="team3", scored=False),
        "agent, last 30 days": Filters(since=month, until=now, agent="1017"),
        "queue, one day, > 60 s": Filters(since=day, until=now, queue="cc-pengaduan", min_duration=60),
        "site, one day, longest first": Filters(since=day, until=now, site="jakarta", sort="-duration"),
        "caller number": Filters(caller="081000104729"),
        "one day, page 3": Filters(since=day, until=now, offset=100),
    }


async def _fill(engine: Any, rows: int) -> float:
    started = time.perf_counter()
    sql = _FILL_PG if engine.dialect.name == "postgresql" else _FILL_SQLITE
    async with engine.begin() as connection:
        await connection.execute(sa.text(sql), {"rows": rows, "start": START})
        await connection.execute(
            sa.text("ANALYZE" if engine.dialect.name == "sqlite" else "ANALYZE recording")
        )
    return time.perf_counter() - started


async def _measure(engine: Any, filters: Filters, repeat: int) -> tuple[float, float, int]:
    query = build_query(filters)
    times = []
    found = 0
    async with engine.connect() as connection:
        await connection.execute(query)  # warm-up
        for _ in range(repeat):
            started = time.perf_counter()
            found = len((await connection.execute(query)).all())
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], found


async def run_backend(url: str, rows: int, repeat: int) -> dict[str, tuple[float, float, int]]:
    engine = create_engine(url)
    try:
        await migrate(engine)
        filled = await _fill(engine, rows)
        print(f"{engine.dialect.name}: {rows:,} rows filled in {filled:.1f} s")
        now = START + rows * 31.536
        return {name: await _measure(engine, f, repeat) for name, f in queries(now).items()}
    finally:
        await engine.dispose()


async def _pg_database(admin_url: str) -> tuple[str, Any]:
    import asyncpg  # type: ignore[import-untyped]

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(dsn, timeout=3)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()

    async def drop() -> None:
        conn = await asyncpg.connect(dsn, timeout=3)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}", drop


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--pg",
        default=os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    results: dict[str, dict[str, tuple[float, float, int]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = await run_backend(
            f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args.rows, args.repeat
        )
    try:
        url, drop = await _pg_database(args.pg)
    except (OSError, TimeoutError, Exception) as exc:  # no server: SQLite alone is still a result
        print(f"postgresql: skipped ({type(exc).__name__}: {exc})")
    else:
        try:
            results["postgresql"] = await run_backend(url, args.rows, args.repeat)
        finally:
            await drop()
    print(f"\n{'query':34} {'backend':11} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}  p95 < 20 ms")
    for name in results["sqlite"]:
        for backend, figures in results.items():
            p50, p95, found = figures[name]
            print(f"{name:34} {backend:11} {p50:8.2f} {p95:8.2f} {found:5}  {'yes' if p95 < 20 else 'NO'}")
        if "postgresql" in results:
            ratio = results["postgresql"][name][1] / max(results["sqlite"][name][1], 1e-6)
            print(f"{'':34} {'pg/sqlite':11} {'':8} {ratio:8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
