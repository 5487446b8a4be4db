"""Background jobs that run every few seconds and stop between two runs, never inside one.

Cancelling a task while it waits on the database can leave its pooled connection neither
returned nor closed (SQLAlchemy then warns when the garbage collector finds it, and aiosqlite's
worker thread may answer a loop already closed). So the service's periodic jobs (the agent time
refresh, the gap completion retries) wait for a ``stopping`` event instead of a plain sleep, and
``Runtime.stop`` sets the event and lets the run in progress finish.
"""

from __future__ import annotations

import asyncio
import contextlib


async def pause_or_stop(stopping: asyncio.Event | None, seconds: float) -> bool:
    """Wait ``seconds``, or less if ``stopping`` is set meanwhile; True when it is time to stop."""
    if stopping is None:
        await asyncio.sleep(seconds)
        return False
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
    return stopping.is_set()
