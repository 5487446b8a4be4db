"""``hotline ingest --queue-log FILE --pbx NAME``: Asterisk's queue_log into the store.

The file's attempts are stored as ``source='queue_log'`` rows, with their rollup contribution; a
call AMI also saw keeps counting once, from AMI (:mod:`hotline.rollup.contrib`). This is how a gap
(hotline was down) is backfilled, or the history before go-live is loaded. The file's member verbs
(ADDMEMBER, PAUSE, ...) and calls become ``source='queue_log'`` agent spans
(:mod:`hotline.kpi.agent_queue_log`; interfaces are named as AMI named them in the store); reports
count them where AMI has no span (:func:`hotline.kpi.agent_spans.prefer_ami`).

``queue_log_import`` remembers, per PBX and file, how many bytes were read and their SHA-256:

- the same content again (under any name): nothing is read, nothing is written;
- the same file grown since (its first ``size`` bytes unchanged, as queue_log is appended to): the
  whole file is parsed (an answer may complete a call that entered before), but only the calls
  named after the old end are written;
- anything else: every attempt is written. Writing is idempotent anyway, so a rotated or edited
  file never counts a call twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.agent_queue_log import sessions_from_queue_log
from hotline.kpi.from_queue_log import QueueLogError, parse_queue_log
from hotline.rollup.agent_store import interface_names, write_spans
from hotline.rollup.agent_time import refresh
from hotline.rollup.tables import queue_log_import
from hotline.rollup.writer import RollupWriter

WRITE_CHUNK: Final = 5000
Progress = Callable[[int, int], None]
"""``progress(attempts_written, attempts_total)``."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one import did."""

    path: str
    lines: int
    attempts: int
    written: int
    already_imported: bool
    errors: list[QueueLogError]
    agent_spans: int = 0
    ambiguous_members: list[str] = field(default_factory=list)
    """Member names the file could not tie to an interface (see hotline.kpi.agent_queue_log)."""

    def describe(self, pbx: str) -> str:
        if self.already_imported:
            return f"{self.path}: already imported for pbx {pbx}, nothing new"
        bad = f", {len(self.errors)} malformed line(s) skipped" if self.errors else ""
        if self.ambiguous_members:
            # ADDMEMBER named interfaces (log_membername_as_agent = no) and these names fit several.
            names = ", ".join(self.ambiguous_members)
            bad += f", members not tied to one interface: {names} (set log_membername_as_agent = yes)"
        return (
            f"ingested {self.path} as pbx {pbx}: {self.lines} lines, {self.attempts} queue attempts, "
            f"{self.written} written, {self.agent_spans} agent spans{bad}"
        )


def _new_call_ids(tail: bytes) -> set[str]:
    """The callids named by the lines after the old end of a grown file."""
    ids: set[str] = set()
    for line in tail.decode("utf-8", errors="replace").splitlines():
        fields = line.split("|", 2)
        if len(fields) > 1:
            ids.add(fields[1])
    return ids


async def ingest_queue_log(
    engine: AsyncEngine,
    writer: RollupWriter,
    path: Path,
    pbx: str,
    *,
    progress: Progress | None = None,
) -> IngestResult:
    """Import one queue_log file for ``pbx`` (see the module docstring); OSError if unreadable."""
    data = await asyncio.to_thread(path.read_bytes)
    digest = hashlib.sha256(data).hexdigest()
    name = str(await asyncio.to_thread(path.resolve))
    table = queue_log_import
    async with engine.connect() as connection:
        same = await connection.execute(
            select(table.c.path).where(
                table.c.pbx == pbx, table.c.sha256 == digest, table.c.size == len(data)
            )
        )
        if same.first() is not None:
            return IngestResult(str(path), 0, 0, 0, True, [])
        before = (
            await connection.execute(
                select(table.c.size, table.c.sha256).where(table.c.pbx == pbx, table.c.path == name)
            )
        ).first()
    only: set[str] | None = None
    old_size, old_digest = (int(before.size), str(before.sha256)) if before is not None else (0, "")
    if 0 < old_size < len(data) and hashlib.sha256(data[:old_size]).hexdigest() == old_digest:
        only = _new_call_ids(data[old_size:])
    text = data.decode("utf-8", errors="replace")  # a stray byte in a caller name must not cost the rest
    parsed = parse_queue_log(text, pbx=pbx)
    attempts = [a for a in parsed.attempts if only is None or a.call_id in only]
    written = 0
    for start in range(0, len(attempts), WRITE_CHUNK):
        written += await writer.apply(engine, attempts[start : start + WRITE_CHUNK])
        if progress is not None:
            progress(written, len(attempts))
    # Agent spans: the whole file again (a grown file extends the spans it left open); idempotent.
    sessions = sessions_from_queue_log(parsed, pbx=pbx, names=await interface_names(engine, pbx))
    async with engine.begin() as connection:
        await write_spans(connection, sessions.spans)
    await refresh(engine)  # the agent time rollup of the agents the file names
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    await _remember(engine, pbx, name, len(data), digest, lines, len(parsed.attempts))
    return IngestResult(
        str(path),
        lines,
        len(parsed.attempts),
        written,
        False,
        parsed.errors,
        len(sessions.spans),
        sessions.ambiguous,
    )


async def _remember(
    engine: AsyncEngine, pbx: str, path: str, size: int, digest: str, lines: int, attempts: int
) -> None:
    async with engine.begin() as connection:
        module = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = module.insert(queue_log_import)
        values = {
            "size": size,
            "sha256": digest,
            "lines": lines,
            "attempts": attempts,
            "imported_at": time.time(),
        }
        statement = statement.on_conflict_do_update(
            index_elements=["pbx", "path"], set_={k: statement.excluded[k] for k in values}
        )
        await connection.execute(statement, [{"pbx": pbx, "path": path, **values}])
