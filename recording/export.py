"""Bulk ZIP export of a search result, built in the background with progress.

The ZIP holds each recording under ``<site>/<YYYY-MM-DD>/<call id>/<file>`` and a
``manifest.csv`` (id, call, times, agent, queue, duration, sha256, masked caller) so the receiver
can check every file. Audio is stored, not deflated (WAV barely compresses and deflating costs
CPU). Export ids are random and looked up in memory, never used to build a path from a request;
a job is visible only to who started it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from hotline.logs import get_logger, mask_number
from recording.search import iso

log = get_logger(__name__)

KEEP_S: Final = 3600.0
"""Finished exports are kept this long, then their ZIP is removed."""
MANIFEST_FIELDS: Final = (
    "id",
    "call_id",
    "pbx",
    "site",
    "started_at",
    "duration_s",
    "agent",
    "team",
    "queue",
    "caller",
    "sha256",
    "file",
)


@dataclass
class ExportJob:
    id: str
    owner: str
    total: int
    path: Path
    state: str = "running"
    done: int = 0
    skipped: int = 0
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    cancelled: bool = False
    task: asyncio.Task[None] | None = None

    def status(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "skipped": self.skipped,
            "progress": round(self.done / self.total, 3) if self.total else 1.0,
            "error": self.error,
        }


def _entry_name(row: dict[str, Any]) -> str:
    day = (iso(row["started_at"]) or "unknown")[:10]
    return f"{row['site']}/{day}/{row['call_id']}/{Path(row['file_path']).name}"


def build_zip(
    target: Path, rows: list[dict[str, Any]], resolve: Callable[[str], Path], job: ExportJob
) -> None:
    """Write the ZIP (runs in a thread); a file missing from the archive is listed, not fatal."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(MANIFEST_FIELDS)
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for row in rows:
            if job.cancelled:
                raise asyncio.CancelledError
            name = _entry_name(row)
            try:
                archive.write(resolve(row["file_path"]), name)
            except (OSError, ValueError) as exc:
                job.skipped += 1
                name = f"MISSING: {exc.__class__.__name__}"
            writer.writerow(
                [
                    row["id"],
                    row["call_id"],
                    row["pbx"],
                    row["site"],
                    iso(row["started_at"]),
                    row["duration_s"],
                    row["agent"],
                    row["team"],
                    row["queue"],
                    mask_number(row["caller_number"] or ""),
                    row["sha256"],
                    name,
                ]
            )
            job.done += 1
        archive.writestr("manifest.csv", manifest.getvalue())
    partial.replace(target)


class Exports:
    """Running and finished exports of this process."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / "exports"
        self._jobs: dict[str, ExportJob] = {}

    def start(self, owner: str, rows: list[dict[str, Any]], resolve: Callable[[str], Path]) -> ExportJob:
        self._expire()
        export_id = secrets.token_hex(12)
        job = ExportJob(export_id, owner, len(rows), self.folder / f"{export_id}.zip")
        job.task = asyncio.create_task(self._run(job, rows, resolve), name=f"export-{export_id}")
        self._jobs[export_id] = job
        return job

    async def _run(self, job: ExportJob, rows: list[dict[str, Any]], resolve: Callable[[str], Path]) -> None:
        try:
            await asyncio.to_thread(build_zip, job.path, rows, resolve, job)
        except asyncio.CancelledError:
            job.cancelled = True
            job.state = "cancelled"
            raise
        except Exception as exc:
            job.state, job.error = "failed", str(exc) or type(exc).__name__
            log.error("export failed", export=job.id, error=job.error)
        else:
            job.state = "done"
            log.info("export ready", export=job.id, recordings=job.total, skipped=job.skipped)
        finally:
            job.finished_at = time.time()

    def get(self, export_id: str, owner: str) -> ExportJob | None:
        """The job if it exists and ``owner`` started it (others get None, as for an unknown id)."""
        job = self._jobs.get(export_id)
        return job if job is not None and job.owner == owner else None

    async def wait(self, export_id: str) -> None:
        job = self._jobs.get(export_id)
        if job is not None and job.task is not None:
            await asyncio.shield(job.task)

    def _expire(self) -> None:
        now = time.time()
        for export_id, job in list(self._jobs.items()):
            if job.finished_at is not None and now - job.finished_at > KEEP_S:
                job.path.unlink(missing_ok=True)
                del self._jobs[export_id]

    async def close(self) -> None:
        for job in self._jobs.values():
            job.cancelled = True
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        await asyncio.gather(*tasks, return_exceptions=True)
