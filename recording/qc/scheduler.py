"""The daily draw inside ``hotline serve``: at ``sample_time`` of every working day (local time).

When the service starts after the day's ``sample_time`` (a restart, a late deploy) it draws at
once; a draw repeated for a day only adds agents not sampled yet, so this never doubles a sample.
A failing draw (database down) is logged and tried again a few minutes later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.logs import get_logger
from hotline.store.db import StoreError
from recording.qc.samples import draw_sample
from recording.qc.settings import QcSettings

log = get_logger(__name__)

RETRY_S: Final = 300.0


def next_run(now: float, settings: QcSettings) -> float:
    """The first draw time after ``now``: a working day at ``sample_time`` (local)."""
    local = datetime.fromtimestamp(now, settings.timezone)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        at = datetime.combine(day, settings.sample_time, tzinfo=settings.timezone).timestamp()
        if at > now and day.weekday() in settings.working_days:
            return at
    raise ValueError("no working day in the week")  # working_days is never empty


class DailySampler:
    def __init__(
        self, engine: AsyncEngine, settings: QcSettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    async def draw_today(self) -> None:
        day = datetime.fromtimestamp(self.clock(), self.settings.timezone).date()
        summary = await draw_sample(self.engine, self.settings, day, drawn_by="scheduler")
        log.info("QC sample drawn", **{k: v for k, v in summary.public().items() if k != "already_sampled"})

    def _due_today(self) -> bool:
        now = datetime.fromtimestamp(self.clock(), self.settings.timezone)
        return now.weekday() in self.settings.working_days and now.time() >= self.settings.sample_time

    async def run(self) -> None:
        pending = self._due_today()
        while True:
            if not pending:
                await asyncio.sleep(max(0.0, next_run(self.clock(), self.settings) - self.clock()))
            try:
                await self.draw_today()
                pending = False
            except StoreError as exc:
                log.error("QC sample not drawn; retrying", error=str(exc), retry_s=RETRY_S)
                await asyncio.sleep(RETRY_S)
                pending = True

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="qc-sampler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
