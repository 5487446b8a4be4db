"""The tables of the KPI rollups (SQLAlchemy Core; created by migration ``0004_kpi``).

``kpi_rollup`` holds, per 15-minute UTC interval (epoch aligned), the sums every KPI of
:mod:`hotline.kpi.definitions` is made of, at four levels (``''`` stands for "all"):

- ``(pbx, queue, agent='')``: the **queue row**, every attempt of the queue in the interval, plus
  the call-level counts of the calls whose *first* attempt entered there (see :mod:`hotline.rollup`);
- ``(pbx, queue='', agent='')``: the PBX's queue rows summed (per-site KPIs);
- ``(pbx='', queue='', agent='')``: everything summed (the overall KPIs);
- ``(pbx, queue, agent='<MemberName>')``: the **agent row**, only the ACD calls that agent answered
  in that queue, for per-agent KPIs.

The sums are kept by the writer (the same difference is added at each level), so a month of the
overall KPIs is one contiguous range of about 3,000 rows: the primary key starts with
``agent, queue, pbx`` and ends with ``interval_start``, and on SQLite the table is WITHOUT ROWID,
so that range scan reads the rows themselves.

Durations are whole milliseconds (BIGINT): the rollups are updated by adding and subtracting
contributions, and integers keep that exact where floats would drift.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import BigInteger, Column, Double, Index, Integer, MetaData, String, Table

metadata = MetaData()

INTERVAL_S: Final = 900
"""The rollup grain: 15 minutes. Coarser intervals (30, 60 min, day, week, month) are sums of it."""

CALL_COUNTS: Final = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "timed_out",
    "exited",
    "waiting",
)
"""Counted in calls, at the interval (and queue) of the call's first attempt."""

ATTEMPT_COUNTS: Final = tuple(f"attempts_{name}" for name in CALL_COUNTS)
"""The same outcomes counted per attempt, at the attempt's own interval (per-queue and per-agent KPIs)."""

MEASURES: Final = (
    "acd_calls",
    "hold_unknown",
    "handle_sum_ms",
    "hold_sum_ms",
    "talk_sum_ms",
    "answered_waits",
    "wait_sum_answered_ms",
    "answered_within_sl",
    "transfers",
    "ring_no_answer",
)
"""Per attempt, at the attempt's own interval: the sums behind AHT, ASA, service level, ..."""

SUM_COLUMNS: Final = CALL_COUNTS + ATTEMPT_COUNTS + MEASURES
"""Every additive column, in the order of a contribution vector."""
MAX_COLUMN: Final = "longest_wait_ms"
"""Not additive: the longest queue wait of any attempt in the row, -1 when no wait is known."""
KEY_COLUMNS: Final = ("agent", "queue", "pbx", "interval_start")
NO_AGENT: Final = ""
ALL: Final = ""
"""The pbx or queue of a row summing every PBX or queue."""

kpi_rollup = Table(
    "kpi_rollup",
    metadata,
    Column("agent", String, primary_key=True),
    Column("queue", String, primary_key=True),
    Column("pbx", String, primary_key=True),
    Column("interval_start", BigInteger, primary_key=True),
    *(Column(name, BigInteger, nullable=False, default=0) for name in SUM_COLUMNS),
    Column(MAX_COLUMN, BigInteger, nullable=False, default=-1),
    sqlite_with_rowid=False,
)

queue_log_import = Table(
    "queue_log_import",
    metadata,
    Column("pbx", String, primary_key=True),
    Column("path", String, primary_key=True),
    Column("size", BigInteger, nullable=False),
    # Digest of the file's first ``size`` bytes: a file that only grew keeps the digest of its prefix.
    Column("sha256", String, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("imported_at", Double, nullable=False),
)
"""What ``hotline ingest --queue-log`` has read of each file, so reading it again adds nothing."""

Index("ix_kpi_rollup_interval_start", kpi_rollup.c.interval_start)
Index("ix_queue_log_import_sha256", queue_log_import.c.sha256)
