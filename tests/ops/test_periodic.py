"""The service's periodic store jobs stop between two runs, never inside one (hotline.periodic)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hotline.periodic import pause_or_stop
from hotline.rollup import agent_time


async def test_a_set_event_ends_the_pause_at_once() -> None:
    stopping = asyncio.Event()
    waiting = asyncio.create_task(pause_or_stop(stopping, 60.0))
    await asyncio.sleep(0.01)
    stopping.set()
    assert await asyncio.wait_for(waiting, 1.0) is True
    assert await pause_or_stop(None, 0.0) is False
    assert await pause_or_stop(asyncio.Event(), 0.0) is False


async def test_stopping_lets_the_refresh_in_progress_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async def slow_refresh(engine: Any) -> int:
        started.set()
        await release.wait()  # a transaction in progress
        finished.append(1)
        return 1

    monkeypatch.setattr(agent_time, "refresh", slow_refresh)
    stopping = asyncio.Event()
    loop = asyncio.create_task(agent_time.refresh_forever(object(), every=0.001, stopping=stopping))  # type: ignore[arg-type]
    await asyncio.wait_for(started.wait(), 1.0)
    stopping.set()
    await asyncio.sleep(0.01)
    assert not loop.done()  # not cut off inside its transaction
    release.set()
    await asyncio.wait_for(loop, 1.0)
    assert finished == [1]
