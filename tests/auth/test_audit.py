"""The audit log: rows are appended and read back; nothing in the product, nor the database, rewrites them."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

import hotline.auth
from hotline.auth import Principal, audit, audit_entries
from hotline.auth import auditlog as audit_module

AUTH_PACKAGE = Path(hotline.auth.__file__).resolve().parent
LEADER = Principal("tl.rina", "team_leader", team="A")


async def test_rows_are_appended_and_read_back_in_order(engine: AsyncEngine) -> None:
    first = await audit(engine, LEADER, "recording.listen", "rec:42", source="10.1.2.3", at=100.0)
    second = await audit(
        engine,
        "qc.dewi",
        "recording.download",
        "rec:43",
        source="10.1.2.4",
        ok=False,
        detail="team B",
        at=200.0,
    )
    assert second > first
    rows = await audit_entries(engine)
    assert [
        (r.actor, r.actor_role, r.action, r.target, r.source, r.outcome, r.detail, r.at) for r in rows
    ] == [
        ("tl.rina", "team_leader", "recording.listen", "rec:42", "10.1.2.3", "ok", "", 100.0),
        ("qc.dewi", None, "recording.download", "rec:43", "10.1.2.4", "refused", "team B", 200.0),
    ]


async def test_filters(engine: AsyncEngine) -> None:
    for at, actor, action in ((1.0, "a", "login"), (2.0, "b", "login"), (3.0, "a", "recording.listen")):
        await audit(engine, actor, action, "t", at=at)
    assert [r.at for r in await audit_entries(engine, actor="a")] == [1.0, 3.0]
    assert [r.at for r in await audit_entries(engine, action="login")] == [1.0, 2.0]
    assert [r.at for r in await audit_entries(engine, since=2.0, until=3.0)] == [2.0]
    assert [r.at for r in await audit_entries(engine, limit=1)] == [1.0]


async def test_over_long_values_are_cut_not_refused(engine: AsyncEngine) -> None:
    await audit(engine, "x" * 500, "login", "y" * 1000, detail="z" * 5000)
    (row,) = await audit_entries(engine)
    assert len(row.actor) == 64 and len(row.target) == 255 and len(row.detail) == 2000


async def test_an_action_is_required(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError):
        await audit(engine, "a", "")


REWRITES = (
    "UPDATE audit_log SET outcome = 'ok' WHERE id = :id",
    "UPDATE audit_log SET actor = 'someone else'",
    "DELETE FROM audit_log WHERE id = :id",
    "DELETE FROM audit_log",
)


async def test_the_database_refuses_to_update_or_delete_audit_rows(engine: AsyncEngine) -> None:
    row_id = await audit(engine, LEADER, "recording.listen", "rec:42", ok=False, detail="refused: team B")
    for statement in REWRITES:
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement), {"id": row_id} if ":id" in statement else {})
    (row,) = await audit_entries(engine)
    assert (row.id, row.actor, row.outcome, row.detail) == (row_id, "tl.rina", "refused", "refused: team B")
    # Appending still works after the refusals.
    await audit(engine, LEADER, "recording.listen", "rec:43")
    assert len(await audit_entries(engine)) == 2


@pytest.mark.postgres
async def test_postgresql_also_refuses_truncate(pg_url: str) -> None:
    from hotline.store import create_engine, migrate

    engine = create_engine(pg_url)
    try:
        await migrate(engine)
        await audit(engine, "a", "login")
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE audit_log"))
        assert len(await audit_entries(engine)) == 1
    finally:
        await engine.dispose()


def test_the_audit_module_offers_only_append_and_read() -> None:
    public = {
        name
        for name, value in vars(audit_module).items()
        if not name.startswith("_")
        and inspect.isfunction(value)
        and value.__module__ == audit_module.__name__
    }
    assert public == {"audit", "audit_entries"}


def _names_audit_log(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "audit_log") or (
        isinstance(node, ast.Attribute) and node.attr == "audit_log"
    )


def _statements_on_audit_log(tree: ast.AST) -> list[str]:
    """update()/delete() calls on the audit table, and SQL text that updates or deletes it."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id
            on_table = any(_names_audit_log(arg) for arg in node.args) or (
                isinstance(func, ast.Attribute) and _names_audit_log(func.value)
            )
            if name in {"update", "delete"} and on_table:
                found.append(ast.unparse(node))
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            sql = " ".join(node.value.upper().split())
            if "UPDATE AUDIT_LOG" in sql or "DELETE FROM AUDIT_LOG" in sql:
                found.append(sql)
    return found


def test_no_code_in_the_auth_package_updates_or_deletes_audit_rows() -> None:
    for path in sorted(AUTH_PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert _statements_on_audit_log(tree) == [], path.name


def test_the_scanner_would_notice_one() -> None:
    # So the test above cannot pass by looking at nothing.
    sample = (
        "sa.update(audit_log)\nsa.delete(tables.audit_log)\ntables.audit_log.delete()\n"
        "x = 'DELETE  FROM audit_log'\n"
    )
    assert len(_statements_on_audit_log(ast.parse(sample))) == 4
