"""Transcoding recordings to MP3 or Opus in the background, cached by content.

pydub locates ffmpeg (``pydub.AudioSegment.converter``, so an operator who points pydub at
another binary points hotline there too); hotline then drives that ffmpeg itself, as a
subprocess with ``-progress``, because pydub's ``export`` blocks a thread and reports no
progress. A job is keyed on (file checksum, format): the cached copy is named by the
checksum, so no name from a request ever reaches the file system, and a second request for
the same copy joins the running job instead of starting another ffmpeg.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hotline.logs import get_logger

log = get_logger(__name__)

CODECS: Final = {
    "mp3": ("libmp3lame", "32k", "mp3", "audio/mpeg"),
    "opus": ("libopus", "16k", "ogg", "audio/ogg"),
}
"""format -> (encoder, bitrate for 8 kHz speech, ffmpeg muxer, content type)."""
MAX_PARALLEL: Final = 2


class TranscodeUnavailable(RuntimeError):
    """ffmpeg cannot be found; nothing can be transcoded until it is installed."""


def find_ffmpeg() -> str | None:
    """The ffmpeg pydub would use, or None when it is not installed."""
    with warnings.catch_warnings():
        # pydub imports the stdlib audioop, deprecated since Python 3.11; hotline uses no audioop code.
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment
        from pydub.utils import which

    converter = str(getattr(AudioSegment, "converter", "ffmpeg") or "ffmpeg")
    return (
        which(converter)
        if not Path(converter).is_absolute()
        else (converter if Path(converter).exists() else None)
    )


@dataclass
class Job:
    key: tuple[str, str]
    source: Path
    target: Path
    duration_s: float
    state: str = "queued"
    """queued, running, done, failed."""
    progress: float = 0.0
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    task: asyncio.Task[None] | None = None

    def status(self) -> dict[str, object]:
        return {
            "format": self.key[1],
            "state": self.state,
            "progress": round(self.progress, 3),
            "error": self.error,
        }


class Transcoder:
    """Runs at most :data:`MAX_PARALLEL` ffmpeg processes; finished copies stay in ``cache_dir``."""

    def __init__(self, cache_dir: Path, ffmpeg: str | None) -> None:
        self.cache_dir = cache_dir / "transcoded"
        self.ffmpeg = ffmpeg
        self._jobs: dict[tuple[str, str], Job] = {}
        self._slots = asyncio.Semaphore(MAX_PARALLEL)

    def cached(self, sha256: str, fmt: str) -> Path | None:
        path = self.cache_dir / f"{sha256}.{fmt}"
        return path if path.is_file() else None

    def status(self, sha256: str, fmt: str) -> dict[str, object]:
        if self.cached(sha256, fmt) is not None:
            return {"format": fmt, "state": "done", "progress": 1.0, "error": None}
        job = self._jobs.get((sha256, fmt))
        if job is None:
            return {"format": fmt, "state": "none", "progress": 0.0, "error": None}
        return job.status()

    def start(self, sha256: str, fmt: str, source: Path, duration_s: float) -> dict[str, object]:
        """Start (or join) the job; :class:`TranscodeUnavailable` without ffmpeg."""
        if fmt not in CODECS:
            raise ValueError(f"format {fmt!r} is not one of {', '.join(CODECS)}")
        if self.cached(sha256, fmt) is not None:
            return self.status(sha256, fmt)
        key = (sha256, fmt)
        job = self._jobs.get(key)
        if job is not None and job.state in ("queued", "running"):
            return job.status()
        if self.ffmpeg is None:
            raise TranscodeUnavailable("ffmpeg is not installed on the hotline host (apt install ffmpeg)")
        job = Job(key, source, self.cache_dir / f"{sha256}.{fmt}", max(duration_s, 0.001))
        job.task = asyncio.create_task(self._run(job), name=f"transcode-{sha256[:12]}-{fmt}")
        self._jobs[key] = job
        return job.status()

    async def _run(self, job: Job) -> None:
        async with self._slots:
            job.state = "running"
            try:
                await self._ffmpeg(job)
            except Exception as exc:
                job.state, job.error = "failed", str(exc) or type(exc).__name__
                log.error("transcoding failed", format=job.key[1], error=job.error)
            else:
                job.state, job.progress = "done", 1.0
            finally:
                job.finished_at = time.time()

    async def _ffmpeg(self, job: Job) -> None:
        assert self.ffmpeg is not None
        encoder, bitrate, muxer, _ = CODECS[job.key[1]]
        job.target.parent.mkdir(parents=True, exist_ok=True)
        partial = job.target.with_name(f".{job.target.name}.partial")
        process = await asyncio.create_subprocess_exec(
            self.ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(job.source),
            "-vn",
            "-c:a",
            encoder,
            "-b:a",
            bitrate,
            "-f",
            muxer,
            "-progress",
            "pipe:1",
            "-nostats",
            str(partial),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        try:
            async for raw in process.stdout:
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                if key == "out_time_us" and value.isdigit():
                    job.progress = min(0.99, int(value) / 1e6 / job.duration_s)
            errors = (await process.stderr.read()).decode("utf-8", "replace").strip()
            code = await process.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            partial.unlink(missing_ok=True)
            raise
        if code != 0:
            partial.unlink(missing_ok=True)
            raise RuntimeError(
                f"ffmpeg exited with {code}: {errors.splitlines()[-1] if errors else 'no message'}"
            )
        partial.replace(job.target)

    async def wait(self, sha256: str, fmt: str) -> None:
        """Until the job ends (tests and the CLI)."""
        job = self._jobs.get((sha256, fmt))
        if job is not None and job.task is not None:
            await asyncio.shield(job.task)

    async def close(self) -> None:
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
