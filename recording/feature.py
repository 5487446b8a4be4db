"""Wiring of the recording feature into the core's services.

Needs the store (every recording is a row); without it the feature logs once and stays off,
so the rest of hotline runs. The capture follows every PBX's AMI events; the collector moves
finished files from each PBX's spool into the archive; the API serves them to QC.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.feature import CliCommand, Services
from hotline.logs import get_logger
from hotline.web import METRICS_KEY
from recording import qc
from recording.cli import COMMANDS
from recording.collector import Collector
from recording.export import Exports
from recording.http import RecordingApi
from recording.http_jobs import add_routes
from recording.service import CaptureService
from recording.settings import RecordingSettings
from recording.transcode import Transcoder, find_ffmpeg

log = get_logger(__name__)


class RecordingFeature:
    name = "recording"

    def __init__(self, *, ffmpeg: str | bool | None = True) -> None:
        self._ffmpeg = ffmpeg
        """True: find it with pydub; None or False: none (transcoding answers 503); a path: that one."""
        self.settings: RecordingSettings | None = None
        self.capture: CaptureService | None = None
        self.collector: Collector | None = None
        self.transcoder: Transcoder | None = None
        self.exports: Exports | None = None
        self._collector_task: asyncio.Task[None] | None = None

    def cli_commands(self) -> list[CliCommand]:
        return [*COMMANDS, *qc.cli_commands()]

    def setup(self, services: Services) -> None:
        if services.engine is None:
            log.warning("recordings off: no store")
            return
        settings = RecordingSettings.from_config(services.config)
        self.settings = settings
        ffmpeg = find_ffmpeg() if self._ffmpeg is True else (self._ffmpeg or None)
        if ffmpeg is None:
            log.warning("ffmpeg not found: recordings can be downloaded as WAV only")
        self.capture = CaptureService(services.engine, settings)
        self.collector = Collector(services.engine, settings)
        self.transcoder = Transcoder(settings.cache_dir, ffmpeg if isinstance(ffmpeg, str) else None)
        self.exports = Exports(settings.cache_dir)
        api = RecordingApi(
            services.engine, settings, self.transcoder, self.exports, services.ami, self.capture.record_mute
        )
        add_routes(services.web, api)
        qc.setup(services)
        services.events.subscribe("*", self.capture.on_event, name="recording-capture")
        self._metrics(services)
        log.info(
            "recordings ready",
            archive=str(settings.archive_dir),
            spools={name: str(path) for name, path in settings.spool_dirs.items()},
        )

    def _metrics(self, services: Services) -> None:
        metrics = services.web.get(METRICS_KEY)
        collector, capture = self.collector, self.capture
        if metrics is None or collector is None or capture is None:
            return
        metrics.counter_func(
            "hotline_recordings_archived_total",
            "Recordings moved into the archive",
            lambda: float(collector.archived),
        )
        metrics.counter_func(
            "hotline_recordings_flagged_total",
            "Recordings flagged missing (answered, no file after the grace period)",
            lambda: float(collector.flagged),
        )
        metrics.gauge_func(
            "hotline_recordings_running", "Calls being recorded now", lambda: float(capture.tracker.active)
        )

    async def start(self) -> None:
        if self.capture is None or self.collector is None or self.settings is None:
            return
        for folder in (self.settings.archive_dir, self.settings.cache_dir):
            await asyncio.to_thread(Path(folder).mkdir, parents=True, exist_ok=True)
        await self.capture.restore()
        self._collector_task = asyncio.create_task(self.collector.run(), name="recording-collector")

    async def stop(self) -> None:
        task, self._collector_task = self._collector_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for closer in (self.transcoder, self.exports):
            if closer is not None:
                await closer.close()


feature = RecordingFeature()
