"""``queue_attempt.completed_from``: migration 0010_gap_completion, the row and the rollup writer."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.report import ReportOptions
from hotline.reports.kpis import FROM_ROLLUPS, store_kpis
from hotline.rollup.writer import RollupWriter
from hotline.store import create_engine, load_attempts, migrate, upsert_attempts
from hotline.store.db import _alembic_config
from hotline.store.repo import attempt_row

WAITING = QueueAttempt(
    "jkt", "1795514684.0", 1, "cc-pengaduan", "1795514684.0", "0812", 1795514686.1, 1, facts.WAITING,
    None, None, None, None, None, None, None, None, None, 0, facts.SOURCE_AMI,
)  # fmt: skip
ABANDONED = dataclasses.replace(
    WAITING, outcome=facts.ABANDONED, ended_at=1795514694.0, wait_s=8.0, completed_from=facts.FROM_QUEUE_LOG
)


def _columns(connection: Connection) -> list[str]:
    return [column["name"] for column in inspect(connection).get_columns("queue_attempt")]


def _down_one(connection: Connection) -> None:
    command.downgrade(_alembic_config(connection), "0010_gap_completion@-1")


async def test_the_migration_adds_the_column_and_only_its_branch_goes_down(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        await upsert_attempts(engine, [WAITING])
        async with engine.begin() as connection:
            assert "completed_from" in await connection.run_sync(_columns)
            await connection.run_sync(_down_one)
            columns = await connection.run_sync(_columns)
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert "completed_from" not in columns and "ring_no_answer" in columns
        assert {"kpi_rollup", "call_context"} <= set(tables)  # the other branches stay
        await migrate(engine)
        assert [row["completed_from"] for row in await load_attempts(engine)] == [None]  # rows kept
    finally:
        await engine.dispose()


async def test_completed_from_is_stored_and_counted_like_any_attempt(db_url: str) -> None:
    engine = create_engine(db_url)
    writer = RollupWriter()
    try:
        await migrate(engine)
        await writer.apply(engine, [WAITING])
        await writer.apply(engine, [ABANDONED])
        await writer.apply(engine, [ABANDONED])  # again: nothing added twice
        [row] = await load_attempts(engine)
        assert (row["outcome"], row["completed_from"]) == (facts.ABANDONED, facts.FROM_QUEUE_LOG)
        assert QueueAttempt(**row) == ABANDONED
        since = 1795514686 // 900 * 900
        options = ReportOptions(tz=ZoneInfo("UTC"), since=since, until=since + 3600)
        kpis = await store_kpis(engine, options)
        assert kpis.computed_from == FROM_ROLLUPS
        figures = kpis.report.overall
        assert (figures["offered"], figures["abandoned"], figures["waiting"]) == (1, 1, 0)
    finally:
        await engine.dispose()


def test_a_row_of_an_attempt_built_without_the_new_field() -> None:
    legacy = {name: value for name, value in attempt_row(WAITING).items() if name != "completed_from"}
    assert attempt_row(legacy)["completed_from"] is None
    assert attempt_row(ABANDONED)["completed_from"] == facts.FROM_QUEUE_LOG
