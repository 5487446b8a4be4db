"""The call context serves reads from memory and stores writes in coalesced batches."""

from __future__ import annotations

import asyncio

import pytest

from hotline.callcontext import CallContext

Item = tuple[str, str, dict[str, str], str | None]


async def test_many_sets_become_few_transactions_and_nothing_is_lost() -> None:
    stored: dict[tuple[str, str], dict[str, str]] = {}
    batches: list[int] = []

    async def persist(items: list[Item]) -> None:
        batches.append(len(items))
        await asyncio.sleep(0.01)  # a transaction takes time; sets meanwhile wait for the next one
        for pbx, uid, values, _ in items:
            stored.setdefault((pbx, uid), {}).update(values)

    context = CallContext(persist=persist)
    for n in range(200):
        await context.set("jakarta", f"1.{n}", {"choice": "informasi", "path": f"main/{n}"})
        await context.set("jakarta", f"1.{n}", {"verified": "yes"})
    assert context.peek("jakarta", "1.7") == {"choice": "informasi", "path": "main/7", "verified": "yes"}
    await context.drain()
    assert len(stored) == 200
    assert stored[("jakarta", "1.199")] == {"choice": "informasi", "path": "main/199", "verified": "yes"}
    assert sum(batches) == 200 and len(batches) <= 3, batches


async def test_a_dead_store_keeps_the_values_and_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    import hotline.callcontext as module

    monkeypatch.setattr(module, "WRITE_RETRY_S", 0.01)  # a short pause between tries
    failures = 2
    stored: list[Item] = []

    async def persist(items: list[Item]) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise OSError("database is locked")
        stored.extend(items)

    context = CallContext(persist=persist)
    await context.set("jakarta", "1.1", {"choice": "pengaduan"}, linkedid="1.0")
    await asyncio.sleep(0)
    await context.set("jakarta", "1.1", {"ticket": "ARN-7"})
    await context.drain(timeout=2)
    assert context.persist_errors == 2
    merged: dict[str, str] = {}
    for _, _, values, _ in stored:
        merged.update(values)
    assert merged == {"choice": "pengaduan", "ticket": "ARN-7"}
    assert any(linkedid == "1.0" for *_, linkedid in stored)
    assert await context.get("jakarta", "1.1") == {"choice": "pengaduan", "ticket": "ARN-7"}
