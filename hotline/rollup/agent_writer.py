"""Keep ``agent_session`` current from the committed batches, as the rollups are kept.

For each committed batch :meth:`AgentSessionWriter.project` feeds the batch's queue member events
to an :class:`~hotline.kpi.agent_sessions.AgentSessionProjector` (other events are skipped by
name, so a batch without member events costs a set lookup per event), derives the spans of the
agents touched once, and writes the changed spans together with the call spans of the batch's
changed attempts (:func:`~hotline.kpi.agent_spans.call_span`) in one transaction. Nothing is
written for a batch that changed no span, so a steady stream of ``QueueMemberStatus`` events
(every device change, once per queue) costs no write: it only repeats what is known.

Writing is idempotent (each span has a stable key). A write that fails is kept and written with
the next batch, so spans are not lost while the database is briefly away.

After a restart the projector is empty: the first batch first loads the logins and pauses the
table still has open (:meth:`AgentSessionProjector.seed`), so an unpause or logout heard after
the restart closes the span opened before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.agent_sessions import EVENTS, AgentSessionProjector
from hotline.kpi.agent_spans import AgentSpan, call_span
from hotline.kpi.facts import QueueAttempt
from hotline.logs import get_logger
from hotline.rollup.agent_store import SpanKey, open_spans, write_spans

log = get_logger("hotline.rollup.agent_sessions")


class AgentSessionWriter:
    """Projects member events and attempts into ``agent_session``; see the module docstring."""

    def __init__(self, projector: AgentSessionProjector | None = None, *, seed: bool = True) -> None:
        self.projector = projector or AgentSessionProjector()
        self._seeded = not seed
        self._upserts: dict[SpanKey, AgentSpan] = {}
        self._deletes: set[SpanKey] = set()
        self._lock = asyncio.Lock()
        self.errors = 0
        """Events the projection could not read (each one logged)."""

    def feed(self, stored: Any) -> None:
        """Record one stored event (``.pbx``, ``.name``, ``.get``); an odd one is logged and skipped."""
        if stored.name not in EVENTS:
            return
        try:
            self.projector.feed(stored.pbx, stored)
        except Exception as exc:  # the live rule: one odd event must not stop the projection
            self.errors += 1
            log.error("agent session projection failed for an event", pbx=stored.pbx, ami_event=stored.name,
                      error=f"{type(exc).__name__}: {exc}")  # fmt: skip

    def collect(self, attempts: Iterable[QueueAttempt] = ()) -> None:
        """Take the projector's changes and the attempts' call spans into the next write."""
        changes = self.projector.changes()
        for key in changes.deletes:
            self._upserts.pop(key, None)
            self._deletes.add(key)
        for span in [*changes.upserts, *(c for a in attempts if (c := call_span(a)) is not None)]:
            self._deletes.discard(span.key)
            self._upserts[span.key] = span

    async def write(self, engine: AsyncEngine) -> int:
        """Write what was collected, in one transaction; kept for the next call if it fails."""
        async with self._lock:
            if not self._upserts and not self._deletes:
                return 0
            upserts, deletes = list(self._upserts.values()), list(self._deletes)
            async with engine.begin() as connection:
                written = await write_spans(connection, upserts, deletes)
            for span in upserts:
                if self._upserts.get(span.key) is span:
                    del self._upserts[span.key]
            self._deletes.difference_update(deletes)
            return written

    async def project(
        self, engine: AsyncEngine, batch: Iterable[Any], attempts: Iterable[QueueAttempt]
    ) -> int:
        """One committed batch and the attempts it changed: project, then write; rows written."""
        if not self._seeded:
            self.projector.seed(await open_spans(engine))
            self._seeded = True
        for stored in batch:
            self.feed(stored)
        self.collect(attempts)
        return await self.write(engine)
