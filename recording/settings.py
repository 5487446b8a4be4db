"""The ``[recording]`` section turned into what the feature works with (paths, per-PBX, per-queue).

``hotline.config.RecordingConfig`` keeps plain strings (so each key is one environment variable);
this module parses them once, at setup, and says exactly which key is wrong.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hotline.config import Config, ConfigError, RecordingConfig

TRANSCODE_FORMATS: Final = ("mp3", "opus")
"""What ffmpeg is asked to produce; the original WAV is always downloadable as it is."""
DAY_S: Final = 86_400.0


def _pairs(text: str, key: str) -> list[tuple[str, str]]:
    pairs = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ConfigError(f"[recording] {key}: {item!r} is not <name>=<value>")
        pairs.append((name.strip(), value.strip()))
    return pairs


def parse_spool_dirs(text: str, pbx_names: Iterable[str]) -> dict[str, Path]:
    """``/path`` (every PBX) or ``jakarta=/a,yogyakarta=/b`` (each PBX named must exist)."""
    names = list(pbx_names)
    text = text.strip()
    if not text:
        raise ConfigError("[recording] spool_dirs is empty: give MixMonitor's folder of each PBX")
    if "=" not in text:
        return {name: Path(text) for name in names}
    dirs = {name: Path(path) for name, path in _pairs(text, "spool_dirs")}
    unknown = sorted(set(dirs) - set(names))
    if unknown and names:
        raise ConfigError(
            f"[recording] spool_dirs names unknown PBX {', '.join(unknown)} (known: {', '.join(names)})"
        )
    missing = [name for name in names if name not in dirs]
    if missing:
        raise ConfigError(f"[recording] spool_dirs has no folder for PBX {', '.join(missing)}")
    return dirs


def parse_retention(text: str) -> dict[str, int]:
    """``cc-pengaduan=730,cc-umum=180`` -> days per queue (each a positive whole number)."""
    days: dict[str, int] = {}
    for queue, value in _pairs(text, "retention_per_queue"):
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            raise ConfigError(
                f"[recording] retention_per_queue: {queue}={value!r} is not a number of days >= 1"
            )
        days[queue] = number
    return days


def parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    wrong = [f for f in formats if f not in TRANSCODE_FORMATS]
    if wrong:
        raise ConfigError(
            f"[recording] formats: {', '.join(wrong)} not supported "
            f"(choose among {', '.join(TRANSCODE_FORMATS)})"
        )
    return formats


@dataclass(frozen=True)
class RecordingSettings:
    """Everything the recording feature needs from the configuration, checked."""

    spool_dirs: Mapping[str, Path]
    sites: Mapping[str, str]
    """PBX name -> site name."""
    archive_dir: Path
    cache_dir: Path
    timezone: zoneinfo.ZoneInfo
    """The PBX's local time (the dialplan's STRFTIME folders) and the archive's date folders."""
    retention_days: int = 365
    retention_per_queue: Mapping[str, int] = field(default_factory=dict)
    formats: tuple[str, ...] = TRANSCODE_FORMATS
    settle_s: float = 2.0
    missing_grace_s: float = 120.0
    scan_interval_s: float = 1.0
    export_max: int = 2000

    def retention_for(self, queue: str | None) -> int:
        """Days recordings of ``queue`` are kept."""
        if queue is not None and queue in self.retention_per_queue:
            return self.retention_per_queue[queue]
        return self.retention_days

    @classmethod
    def from_config(cls, config: Config) -> RecordingSettings:
        section: RecordingConfig = config.recording
        if section.retention_days < 1:
            raise ConfigError("[recording] retention_days must be >= 1")
        if section.export_max < 1:
            raise ConfigError("[recording] export_max must be >= 1")
        if min(section.settle_s, section.missing_grace_s, section.scan_interval_s) <= 0:
            raise ConfigError("[recording] settle_s, missing_grace_s and scan_interval_s must be > 0")
        try:
            tz = zoneinfo.ZoneInfo(config.kpi.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"[kpi] timezone {config.kpi.timezone!r} is not a known time zone") from None
        return cls(
            spool_dirs=parse_spool_dirs(section.spool_dirs, [p.name for p in config.pbx]),
            sites={p.name: p.site for p in config.pbx},
            archive_dir=Path(section.archive_dir),
            cache_dir=Path(section.cache_dir),
            timezone=tz,
            retention_days=section.retention_days,
            retention_per_queue=parse_retention(section.retention_per_queue),
            formats=parse_formats(section.formats),
            settle_s=section.settle_s,
            missing_grace_s=section.missing_grace_s,
            scan_interval_s=section.scan_interval_s,
            export_max=section.export_max,
        )
