"""Work a call starts but must not wait for (store writes, complaint tickets, payment settlement).

The caller's AGI session ends as soon as the flow has routed the call, so the dialplan can
put the caller in the queue at once; what is left to do runs here, and :meth:`drain` lets
the feature finish it at shutdown instead of dropping it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from hotline.logs import get_logger

log = get_logger(__name__)
T = TypeVar("T")


class Background:
    """A set of tracked tasks: errors are logged (one line), never lost silently."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failures = 0

    def spawn(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.failures += 1
            log.error("ivr background task failed", task=task.get_name(), error=repr(exc))

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for every task (those started meanwhile too) up to ``timeout``; cancel the rest."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=remaining)
        left = set(self._tasks)
        for task in left:
            task.cancel()
        if left:
            log.warning("ivr background tasks cancelled at shutdown", tasks=len(left))
            await asyncio.gather(*left, return_exceptions=True)
