"""Retention (the purge job) and integrity (``verify``) over the archive.

Purge: a recording older than its queue's retention (``[recording] retention_per_queue``, else
``retention_days``) loses its file; its row stays, marked ``purged`` with the time, so searches
and the audit trail still say the call was recorded and when the audio went. ``dry_run`` reports
what would go and changes nothing. Each run is logged and written to the audit log.

Verify: every archived file is hashed again and compared with the checksum stored when it was
archived; a missing or changed file is reported (nothing is repaired: the report is evidence).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth import audit
from hotline.logs import get_logger
from recording import repo
from recording.archive import UnsafeName, archived_path, hash_file
from recording.settings import DAY_S, RecordingSettings
from recording.tables import ARCHIVED, EMPTY, HAS_FILE, MISSING, PURGED, UNANSWERED

log = get_logger(__name__)

BATCH: Final = 500
PURGEABLE: Final = (ARCHIVED, EMPTY, MISSING, UNANSWERED)
ACTOR: Final = "system:retention"


@dataclass
class PurgeReport:
    dry_run: bool
    rows: int = 0
    files_removed: int = 0
    bytes_freed: int = 0
    errors: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "files_removed": self.files_removed,
            "bytes_freed": self.bytes_freed,
            "errors": self.errors,
        }


def _expired(row: dict[str, Any], settings: RecordingSettings, now: float) -> bool:
    return float(row["started_at"]) < now - settings.retention_for(row["queue"]) * DAY_S


async def purge(
    engine: AsyncEngine, settings: RecordingSettings, *, dry_run: bool = False, now: float | None = None
) -> PurgeReport:
    """Remove the files of recordings past retention and mark their rows (or only report, dry run)."""
    now = time.time() if now is None else now
    report = PurgeReport(dry_run=dry_run)
    after = 0
    while True:
        rows = await repo.rows_with_status(engine, PURGEABLE, limit=BATCH, after_id=after)
        for row in rows:
            if _expired(row, settings, now):
                await _purge_one(engine, settings, row, report, now)
        if len(rows) < BATCH:
            break
        after = int(rows[-1]["id"])
    log.info("recordings purge", **report.as_dict())
    if not dry_run and report.rows:
        await audit(
            engine,
            ACTOR,
            "recording.purge",
            f"purge:{report.rows} recordings",
            source="hotline",
            detail=f"ids={','.join(map(str, report.ids))}",
        )
    return report


async def _purge_one(
    engine: AsyncEngine, settings: RecordingSettings, row: dict[str, Any], report: PurgeReport, now: float
) -> None:
    rec_id = int(row["id"])
    size = int(row["size_bytes"] or 0)
    if row["status"] in HAS_FILE and row["file_path"]:
        try:
            path = archived_path(settings.archive_dir, row["file_path"])
            if not report.dry_run:
                await asyncio.to_thread(path.unlink, missing_ok=True)
            report.files_removed += 1
            report.bytes_freed += size
        except (OSError, UnsafeName) as exc:
            # The row stays as it was, so the next run tries again.
            report.errors.append(f"recording {rec_id}: {exc}")
            log.error("recording file not removed", recording=rec_id, error=str(exc))
            return
    report.rows += 1
    report.ids.append(rec_id)
    if report.dry_run:
        return
    await repo.update(
        engine, rec_id, {"status": PURGED, "purged_at": now, "file_path": None}, status_was=row["status"]
    )
    log.info(
        "recording purged",
        recording=rec_id,
        call_id=row["call_id"],
        queue=row["queue"],
        started_at=row["started_at"],
    )


@dataclass
class VerifyReport:
    checked: int = 0
    ok: int = 0
    missing: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.missing and not self.changed

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "ok": self.ok, "missing": self.missing, "changed": self.changed}


async def verify(engine: AsyncEngine, settings: RecordingSettings) -> VerifyReport:
    """Hash every archived file again and compare it with its stored checksum."""
    report = VerifyReport()
    after = 0
    while True:
        rows = await repo.rows_with_status(engine, HAS_FILE, limit=BATCH, after_id=after)
        for row in rows:
            report.checked += 1
            try:
                path = archived_path(settings.archive_dir, row["file_path"] or "")
                digest, size = await asyncio.to_thread(hash_file, path)
            except (OSError, UnsafeName):
                report.missing.append(int(row["id"]))
                log.error("recording file missing", recording=row["id"], call_id=row["call_id"])
                continue
            if digest != row["sha256"] or size != row["size_bytes"]:
                report.changed.append(int(row["id"]))
                log.error(
                    "recording file changed since archived", recording=row["id"], call_id=row["call_id"]
                )
            else:
                report.ok += 1
        if len(rows) < BATCH:
            break
        after = int(rows[-1]["id"])
    log.info(
        "recordings verified",
        checked=report.checked,
        missing=len(report.missing),
        changed=len(report.changed),
    )
    return report
