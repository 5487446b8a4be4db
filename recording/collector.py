"""Moves finished recordings from each PBX's spool into the archive, or flags them.

Restart-safe by design: the work list is the store (rows in status ``ended``), not memory, so a
call that ended while hotline was busy or restarting is still collected. A file is finished when
its size has not changed for ``settle_s`` (Asterisk closes it just after the hangup); sizes are
compared on hotline's own clock, so a PBX whose clock is off (an NFS mtime) cannot fool it.
Filesystem work runs in a thread; the event loop only waits for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.logs import get_logger, mask_number
from hotline.store.db import StoreError
from recording import repo
from recording.archive import UnsafeName, archive_relpath, find_in_spool, move_to_archive, spool_candidates
from recording.settings import RecordingSettings
from recording.tables import ARCHIVED, EMPTY, ENDED, MISSING, RECORDING, UNANSWERED

log = get_logger(__name__)

STALE_AFTER_S: Final = 6 * 3600.0
"""A recording still 'running' this long after it started lost its end (hotline was down at the
hangup): it is treated as ended, so its file is collected rather than left in the spool."""
BATCH: Final = 200


class Collector:
    """One :meth:`tick` looks at every ended recording once; :meth:`run` ticks until cancelled."""

    def __init__(
        self, engine: AsyncEngine, settings: RecordingSettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._sizes: dict[int, tuple[int, float]] = {}
        """Recording id -> (size seen, since when on our clock)."""
        self._ended_seen: dict[int, float] = {}
        self.archived = 0
        self.flagged = 0

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except StoreError as exc:
                log.error("recording collector cannot reach the store; retrying", error=str(exc))
            await asyncio.sleep(self.settings.scan_interval_s)

    async def tick(self) -> int:
        """Collect or flag what is ready; returns how many rows changed status."""
        await self._end_stale()
        done = 0
        after = 0
        while True:
            rows = await repo.rows_with_status(self.engine, (ENDED,), limit=BATCH, after_id=after)
            for row in rows:
                if await self._one(row):
                    done += 1
            if len(rows) < BATCH:
                return done
            after = int(rows[-1]["id"])

    async def _end_stale(self) -> None:
        cutoff = self.clock() - STALE_AFTER_S
        for row in await repo.rows_with_status(self.engine, (RECORDING,), limit=BATCH):
            if row["started_at"] < cutoff:
                await repo.update(
                    self.engine,
                    int(row["id"]),
                    {"status": ENDED, "ended_at": self.clock(), "problem": "end of call never seen"},
                    status_was=RECORDING,
                )

    async def _one(self, row: dict[str, Any]) -> bool:
        rec_id = int(row["id"])
        now = self.clock()
        spool = self.settings.spool_dirs.get(row["pbx"])
        found: tuple[Path, int] | None = None
        try:
            if spool is not None:
                candidates = spool_candidates(
                    spool, row["site"], row["uniqueid"], row["started_at"], self.settings.timezone
                )
                found = await asyncio.to_thread(find_in_spool, candidates)
        except UnsafeName as exc:
            return await self._flag(row, MISSING, str(exc))
        # Waiting is timed on hotline's clock from when this process first saw the call ended, so a
        # PBX clock ahead or behind cannot flag a recording early or keep one waiting forever.
        ended_for = now - self._ended_seen.setdefault(rec_id, now)
        if found is None:
            if row["agent"] is None and ended_for >= self.settings.settle_s:
                return await self._flag(row, UNANSWERED, None)
            if ended_for >= self.settings.missing_grace_s:
                where = f"spool {spool}" if spool is not None else "no spool folder configured for this PBX"
                return await self._flag(
                    row, MISSING, f"no file after {self.settings.missing_grace_s:g} s ({where})"
                )
            return False
        path, size = found
        seen = self._sizes.get(rec_id)
        if seen is None or seen[0] != size:
            self._sizes[rec_id] = (size, now)
            return False
        if now - seen[1] < self.settings.settle_s:
            return False
        return await self._archive(row, path)

    def _forget(self, rec_id: int) -> None:
        self._sizes.pop(rec_id, None)
        self._ended_seen.pop(rec_id, None)

    async def _enrich(self, row: dict[str, Any]) -> dict[str, Any]:
        facts = await repo.call_facts(self.engine, row["pbx"], row["call_id"])
        values: dict[str, Any] = {k: facts[k] for k in ("talk_s", "hold_s") if k in facts}
        if facts.get("queue") and not row["queue"]:
            values["queue"] = facts["queue"]
        interface = facts.get("agent_interface") or (f"PJSIP/{row['agent']}" if row["agent"] else None)
        user = await repo.agent_user(self.engine, interface, row["pbx"])
        if user is not None:
            values["agent"], values["team"] = user
        if facts.get("agent_name") and not row["agent_name"]:
            values["agent_name"] = str(facts["agent_name"])[:120]
        return values

    async def _archive(self, row: dict[str, Any], path: Path) -> bool:
        rec_id = int(row["id"])
        try:
            relpath = archive_relpath(
                row["site"], row["started_at"], self.settings.timezone, row["call_id"], path
            )
            moved = await asyncio.to_thread(move_to_archive, path, self.settings.archive_dir, relpath)
        except (OSError, UnsafeName) as exc:
            # Left in the spool and retried next tick; the log says why (a full disk, permissions).
            log.error("recording not archived; will retry", recording=rec_id, error=str(exc))
            return False
        values = await self._enrich(row)
        values.update(
            status=EMPTY if moved.empty else ARCHIVED,
            file_path=moved.relpath,
            size_bytes=moved.size_bytes,
            sha256=moved.sha256,
            format=moved.format,
            duration_s=moved.duration_s,
            problem=moved.problem,
        )
        await repo.update(self.engine, rec_id, values, status_was=ENDED)
        self._forget(rec_id)
        self.archived += 1
        log_method = log.warning if moved.empty or moved.problem else log.info
        log_method(
            "recording archived",
            recording=rec_id,
            pbx=row["pbx"],
            call_id=row["call_id"],
            caller=mask_number(row["caller_number"] or ""),
            status=values["status"],
            bytes=moved.size_bytes,
            duration_s=moved.duration_s,
            problem=moved.problem,
        )
        return True

    async def _flag(self, row: dict[str, Any], status: str, problem: str | None) -> bool:
        values = await self._enrich(row)
        values.update(status=status, problem=problem)
        changed = await repo.update(self.engine, int(row["id"]), values, status_was=ENDED)
        self._forget(int(row["id"]))
        if changed and status != UNANSWERED:
            self.flagged += 1
            log.warning(
                "recording flagged",
                recording=row["id"],
                pbx=row["pbx"],
                call_id=row["call_id"],
                status=status,
                problem=problem,
            )
        return changed
