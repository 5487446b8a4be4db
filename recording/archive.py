"""Files: where MixMonitor left a call's recording, and moving it into the archive.

The shipped dialplan records into ``<site>/<YYYY>/<MM>/<DD>/<uniqueid>.wav`` under the PBX's
monitor folder, the date in the PBX's local time when MixMonitor started; a plain
``MixMonitor(${UNIQUEID}.wav)`` writes ``<uniqueid>.wav`` at the top. Both are looked for, and the
date on either side of the start too (a call starting at midnight, clocks a little apart).

The archive holds ``<site>/<YYYY>/<MM>/<DD>/<call id>/<uniqueid>.<ext>``. Names come from AMI
(never from an HTTP request) and are still checked, so no event can make hotline write outside
its folders. A move is a copy (the spool may be another file system), hashed as it is copied,
fsynced, renamed into place, and only then is the spool's file removed: a crash at any point
leaves the recording in at least one of the two places.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from recording.wav import WavError, read_wav_info

_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
EXTENSIONS: Final = ("wav", "WAV")
"""``wav`` (PCM) and ``WAV`` (wav49, GSM in RIFF): the formats MixMonitor writes that have a duration."""
COPY_CHUNK: Final = 1 << 20


class UnsafeName(ValueError):
    """A name from AMI that cannot be used as a file or folder name."""


def safe_name(value: str, what: str) -> str:
    """``value`` if it is a plain file name (no separators, no ``..``), else :class:`UnsafeName`."""
    if not _SAFE_NAME.fullmatch(value) or ".." in value:
        raise UnsafeName(f"{what} {value[:40]!r} cannot be part of a file name")
    return value


def date_folder(at: float, tz: zoneinfo.ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(at, tz).strftime("%Y/%m/%d")


def spool_candidates(
    spool: Path,
    site: str,
    uniqueid: str,
    started_at: float,
    tz: zoneinfo.ZoneInfo,
    filename: str | None = None,
) -> list[Path]:
    """Where the recording of channel ``uniqueid`` may be, most likely first."""
    safe_name(uniqueid, "uniqueid")
    candidates: list[Path] = []
    if filename:
        given = Path(filename)
        path = given if given.is_absolute() else spool / given
        # Only inside the spool: a channel variable is not trusted to point anywhere else.
        if ".." not in path.parts and path.is_relative_to(spool):
            candidates.append(path)
    folders = [date_folder(started_at + shift, tz) for shift in (0.0, -3600.0, 3600.0)]
    for folder in dict.fromkeys(folders):
        candidates += [spool / safe_name(site, "site") / folder / f"{uniqueid}.{ext}" for ext in EXTENSIONS]
    candidates += [spool / f"{uniqueid}.{ext}" for ext in EXTENSIONS]
    return candidates


def find_in_spool(candidates: list[Path]) -> tuple[Path, int] | None:
    """The first candidate that exists as a regular file, with its size."""
    for path in candidates:
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            return path, stat.st_size
    return None


def archive_relpath(site: str, started_at: float, tz: zoneinfo.ZoneInfo, call_id: str, source: Path) -> str:
    """``<site>/<YYYY>/<MM>/<DD>/<call id>/<file name>`` (POSIX separators, stored in the row)."""
    name = safe_name(source.name, "file name")
    return f"{safe_name(site, 'site')}/{date_folder(started_at, tz)}/{safe_name(call_id, 'call id')}/{name}"


@dataclass(frozen=True)
class ArchivedFile:
    relpath: str
    size_bytes: int
    sha256: str
    format: str
    duration_s: float | None
    empty: bool
    problem: str | None


def hash_file(path: Path) -> tuple[str, int]:
    """(sha256 hex, size) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy_hashed(source: Path, target: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    partial = target.with_name(f".{target.name}.partial")
    with source.open("rb") as reader, partial.open("wb") as writer:
        while chunk := reader.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    os.replace(partial, target)
    return digest.hexdigest(), size


def measure(path: Path) -> tuple[str, float | None, bool, str | None]:
    """(format, duration, empty, problem) of a recording file."""
    fmt = "wav" if path.suffix == ".wav" else path.suffix.lstrip(".").lower() or "raw"
    if path.stat().st_size == 0:
        return fmt, 0.0, True, "the file is empty (0 bytes)"
    try:
        info = read_wav_info(path)
    except WavError as exc:
        return fmt, None, False, f"cannot read the WAV header: {exc}"
    if info.audio_format == 49:
        fmt = "wav49"
    problem = None
    if not info.header_ok:
        problem = (
            f"WAV header says {info.declared_bytes} data bytes, the file has {info.data_bytes} "
            "(not closed properly); duration measured from the file"
        )
    return fmt, info.duration_s, info.data_bytes == 0, problem


def move_to_archive(source: Path, archive_dir: Path, relpath: str) -> ArchivedFile:
    """Copy ``source`` to ``archive_dir/relpath`` (hashed, fsynced), then remove it from the spool."""
    target = archive_dir / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    sha256, size = _copy_hashed(source, target)
    fmt, duration, empty, problem = measure(target)
    source.unlink(missing_ok=True)
    return ArchivedFile(relpath, size, sha256, fmt, duration, empty, problem)


def archived_path(archive_dir: Path, relpath: str) -> Path:
    """The absolute path of a stored ``file_path``; refuses anything that would leave the archive."""
    path = (archive_dir / relpath).resolve()
    if not path.is_relative_to(archive_dir.resolve()):
        raise UnsafeName("stored file path leaves the archive folder")
    return path
