"""Capture: AMI events in, recording rows out (through :class:`~recording.capture.CaptureTracker`).

The feature subscribes once to every event (``*``), so the order of one PBX's events is kept
(a Hangup is never handled before the MixMonitorStart it ends). Each fact is written to the store
at once; if the store is briefly unreachable the write is retried a few times, then logged: the
event log still holds the event for an operator to replay.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.logs import get_logger, mask_number
from hotline.store.db import StoreError
from recording import repo
from recording.capture import Answered, CaptureTracker, Ended, Fact, Joined, Muted, Started
from recording.settings import RecordingSettings

log = get_logger(__name__)

INTERESTING: Final = frozenset(
    {"MixMonitorStart", "MixMonitorStop", "MixMonitorMute", "Hangup", "AgentConnect", "QueueCallerJoin"}
)
STORE_RETRIES: Final = 3
RETRY_DELAY_S: Final = 0.5


class CaptureService:
    """Turns the AMI events of every PBX into recording rows and mute intervals."""

    def __init__(self, engine: AsyncEngine, settings: RecordingSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.tracker = CaptureTracker()
        self.failed_writes = 0
        self._mutes = asyncio.Lock()
        """Mutes are written by this subscriber (AMI) and by the API: one at a time, so the
        read-then-write of :func:`recording.repo.note_mute` cannot open two intervals."""

    async def record_mute(self, fact: Muted, source: str) -> None:
        async with self._mutes:
            await repo.note_mute(self.engine, fact, source)

    async def restore(self) -> None:
        """Pick up recordings that were running when hotline stopped."""
        active = await repo.in_progress(self.engine)
        self.tracker.restore(active)
        if active:
            log.info("recordings in progress restored", count=len(active))

    async def on_event(self, item: Any) -> None:
        """Subscriber callback for ``hotline.ami.dispatch.PbxEvent``."""
        event = item.event
        if event.name not in INTERESTING:
            return
        for fact in self.tracker.feed(item.pbx, event, item.received_at):
            await self._store(fact)

    async def _store(self, fact: Fact) -> None:
        for attempt in range(1, STORE_RETRIES + 1):
            try:
                await self._write(fact)
                return
            except StoreError as exc:
                if attempt == STORE_RETRIES:
                    self.failed_writes += 1
                    log.error(
                        "recording fact not stored",
                        fact=type(fact).__name__,
                        pbx=fact.pbx,
                        call_id=fact.call_id,
                        error=str(exc),
                    )
                    return
                await asyncio.sleep(RETRY_DELAY_S)

    async def _write(self, fact: Fact) -> None:
        if isinstance(fact, Started):
            site = self.settings.sites.get(fact.pbx, fact.pbx)
            await repo.start(self.engine, fact, site)
            log.info(
                "recording started",
                pbx=fact.pbx,
                call_id=fact.call_id,
                caller=mask_number(fact.caller_number or ""),
            )
        elif isinstance(fact, Ended):
            if await repo.end(self.engine, fact):
                log.info("recording ended", pbx=fact.pbx, call_id=fact.call_id, how=fact.how)
        elif isinstance(fact, Muted):
            await self.record_mute(fact, "ami")
        elif isinstance(fact, Answered):
            await repo.note_answer(self.engine, fact)
        elif isinstance(fact, Joined):
            await repo.note_queue(self.engine, fact)
