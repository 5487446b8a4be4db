"""The search query on each backend (SQLite and PostgreSQL): filters, order, paging, team scope."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from recording.search import Filters, search
from tests.recording.helpers import seed


async def test_search_on_each_backend(engine: AsyncEngine) -> None:
    for n in range(8):
        await seed(engine, None, n, agent="1001" if n < 5 else "1002", qc_score=80.0 if n == 2 else None)
    page = await search(engine, Filters(agent="1001", scored=False, sort="duration", limit=3))
    assert page.has_more and [r["call_id"] for r in page.items] == ["call0", "call3", "call1"]
    page = await search(engine, Filters(since=1_795_500_120.0, until=1_795_500_300.0))
    assert [r["call_id"] for r in page.items] == ["call4", "call3", "call2"] and not page.has_more
    scoped = Filters().limited_to_team("beta")
    assert {r["agent"] for r in (await search(engine, scoped)).items} == {"1002"}
    assert (await search(engine, Filters().limited_to_team(None))).items == []
