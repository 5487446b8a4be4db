"""Keep ``agent_session`` current from the committed batches, as the rollups are kept.

For each committed batch :meth:`AgentSessionWriter.stage` feeds the batch's queue member events
to an :class:`~hotline.kpi.agent_sessions.AgentSessionProjector` (other events are skipped by
name, so a batch without member events costs a set lookup per event), derives the spans of the
agents touched once, and collects the changed spans together with the call spans of the batch's
changed attempts (:func:`~hotline.kpi.agent_spans.call_span`; a call span equal to the one last
collected for the same attempt is not sent again). The service then writes them in the
transaction of the batch's attempts and rollups (the writer is a
:class:`~hotline.rollup.writer.SharedWrite` of :meth:`RollupWriter.apply
<hotline.rollup.writer.RollupWriter.apply>`); :meth:`AgentSessionWriter.project` does the same
in a transaction of its own. Nothing is written for a batch that changed no span, so a steady
stream of ``QueueMemberStatus`` events (every device change, once per queue) costs no write: it
only repeats what is known.

Writing is idempotent (each span has a stable key). A write that fails is kept and written with
the next batch, so spans are not lost while the database is briefly away.

After a restart the projector is empty: the first batch first loads the logins and pauses the
table still has open (:meth:`AgentSessionProjector.seed`), so an unpause or logout heard after
the restart closes the span opened before it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.kpi.agent_sessions import EVENTS, AgentSessionProjector
from hotline.kpi.agent_spans import AgentSpan, call_span
from hotline.kpi.facts import QueueAttempt
from hotline.logs import get_logger
from hotline.rollup.agent_store import SpanKey, open_spans, write_spans
from hotline.rollup.writer import one_by_one

log = get_logger("hotline.rollup.agent_sessions")

SENT_CALLS: Final = 4096
"""Call spans remembered as last collected (the most recent ones): enough for the calls in progress."""


class AgentSessionWriter:
    """Projects member events and attempts into ``agent_session``; see the module docstring."""

    def __init__(self, projector: AgentSessionProjector | None = None, *, seed: bool = True) -> None:
        self.projector = projector or AgentSessionProjector()
        self._seeded = not seed
        self._upserts: dict[SpanKey, AgentSpan] = {}
        self._deletes: set[SpanKey] = set()
        self._writing: tuple[list[AgentSpan], list[SpanKey]] = ([], [])
        """What the last :meth:`write_in` wrote, dropped from the pending rows once it commits."""
        self._sent_calls: OrderedDict[SpanKey, AgentSpan] = OrderedDict()
        self._waiting: list[Any] = []
        """Member events of batches staged before the projector could be seeded."""
        self._calls: list[QueueAttempt] = []
        """Attempts of those batches."""
        self._lock = asyncio.Lock()
        self.errors = 0
        """Events the projection could not read (each one logged)."""
        self.dropped = 0
        """Spans the database refused alone, dropped by :meth:`salvage`."""

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
        for span in changes.upserts:
            self._deletes.discard(span.key)
            self._upserts[span.key] = span
        sent = self._sent_calls
        for attempt in attempts:
            call = call_span(attempt)
            if call is None:
                continue
            key = call.key
            if sent.get(key) == call:
                continue  # the attempt changed (a hold, a ring) but not its call span
            sent[key] = call
            sent.move_to_end(key)
            if len(sent) > SENT_CALLS:
                sent.popitem(last=False)
            self._deletes.discard(key)
            self._upserts[key] = call

    def pending(self) -> bool:
        """True when spans wait to be written (:class:`~hotline.rollup.writer.SharedWrite`)."""
        return bool(self._upserts or self._deletes)

    async def write_in(self, connection: AsyncConnection) -> int:
        """Write what was collected inside the caller's transaction; call :meth:`committed` after
        its commit. Until then (a failed transaction) the spans stay pending; rows written."""
        upserts, deletes = list(self._upserts.values()), list(self._deletes)
        self._writing = (upserts, deletes)
        if not upserts and not deletes:
            return 0
        return await write_spans(connection, upserts, deletes)

    def committed(self) -> None:
        """The last :meth:`write_in` committed: its spans are no longer pending (newer ones stay)."""
        upserts, deletes = self._writing
        self._writing = ([], [])
        for span in upserts:
            if self._upserts.get(span.key) is span:
                del self._upserts[span.key]
        self._deletes.difference_update(deletes)

    async def salvage(self, engine: AsyncEngine) -> int:
        """Write the pending spans one transaction each; drop those the database refuses alone.

        For a span the database refuses every time (:data:`hotline.rollup.writer.POISON_AFTER`):
        the rest must not wait behind it. Only spans refused for good
        (:func:`~hotline.rollup.writer.refused_for_good`) are dropped; when no span can be
        written (the database is away), all stay pending. Returns the spans written or dropped,
        0 when none could be written.
        """
        rows: list[tuple[SpanKey, AgentSpan | None]] = [
            *((span.key, span) for span in self._upserts.values()),
            *((key, None) for key in self._deletes),
        ]

        async def write(row: tuple[SpanKey, AgentSpan | None]) -> None:
            key, span = row
            async with engine.begin() as connection:
                await write_spans(connection, [span] if span else [], [] if span else [key])

        outcome = await one_by_one(rows, write)
        if not outcome.written:
            return 0
        for key, span in outcome.written:
            if span is None:
                self._deletes.discard(key)
            elif self._upserts.get(key) is span:
                del self._upserts[key]
        for key, _ in outcome.refused:
            self._upserts.pop(key, None)
            self._deletes.discard(key)
        self.dropped += len(outcome.refused)
        if outcome.refused:
            log.error("agent spans the database refuses were dropped; `hotline rebuild` writes them again",
                      spans=[":".join(key) for key, _ in outcome.refused[:20]],
                      error=outcome.error)  # fmt: skip
        return len(outcome.written) + len(outcome.refused)

    async def write(self, engine: AsyncEngine) -> int:
        """Write what was collected, in one transaction; kept for the next call if it fails."""
        async with self._lock:
            if not self.pending():
                return 0
            async with engine.begin() as connection:
                written = await self.write_in(connection)
            self.committed()
            return written

    async def stage(
        self, engine: AsyncEngine, batch: Iterable[Any], attempts: Iterable[QueueAttempt]
    ) -> None:
        """One committed batch and the attempts it changed: project and collect, not write yet."""
        self._waiting.extend(stored for stored in batch if stored.name in EVENTS)
        self._calls.extend(attempts)
        if not self._seeded:
            # Until the open spans are read (the database may be away just after a start), the
            # batches' member events and attempts wait here, in order: none is lost.
            self.projector.seed(await open_spans(engine))
            self._seeded = True
        waiting, self._waiting = self._waiting, []
        calls, self._calls = self._calls, []
        for stored in waiting:
            self.feed(stored)
        self.collect(calls)

    async def project(
        self, engine: AsyncEngine, batch: Iterable[Any], attempts: Iterable[QueueAttempt]
    ) -> int:
        """One committed batch and the attempts it changed: project, then write; rows written."""
        await self.stage(engine, batch, attempts)
        return await self.write(engine)
