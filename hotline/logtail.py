"""The recent end of an append-only, time-ordered log file (queue_log, cdr-csv), rotations included.

Asterisk's queue_log grows for months and its CDR CSV forever, so reading one whole to learn the
last minutes is out of the question: :func:`read_since` reads the file backwards, block by block,
until it reaches a complete line older than ``since``, and returns the lines from there on.

When the file was rotated meanwhile, the older lines are in a sibling named ``<file>.<number>``
(logger.conf ``rotatestrategy``: ``rotate`` renames to ``.0`` and shifts the older ones up,
``sequential`` to the next free number, ``timestamp`` to ``.<epoch>``; logrotate to ``.1``): the
siblings are read newest first (by modification time) as long as no older line was reached.
Compressed rotations (``.gz`` ...) are not read.

The last line of the current file is only taken once its newline is written (Asterisk may be
writing it). A line whose time cannot be read never stops the scan; the caller's parser reports
it. Blocking IO: call it in a thread.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

BLOCK: Final = 64 * 1024
LineTime = Callable[[str], float | None]
"""The time of a line (epoch seconds), or None when it cannot be read."""


@dataclass(slots=True)
class Tail:
    """Lines from ``since`` on, oldest first, and where they came from."""

    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    """Files read, newest first."""
    bytes_read: int = 0
    reached_since: bool = False
    """A line older than ``since`` was found: nothing older is needed."""
    unfinished: bool = False
    """The current file ended in a line still being written; it was left out."""


def rotated_siblings(path: Path) -> list[Path]:
    """``<path>.<number>`` files beside ``path``, newest first (modification time, then number)."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d+)$")
    found: list[tuple[float, int, Path]] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or not entry.is_file():
            continue
        try:
            mtime = entry.stat().st_mtime
        except OSError:
            continue
        found.append((mtime, int(match.group(1)), Path(entry.path)))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [p for _, _, p in found]


def read_since(path: Path, since: float, line_time: LineTime) -> Tail:
    """The lines of ``path`` (and of its rotations when needed) from ``since`` on.

    The first line older than ``since`` that is found ends the scan and is not returned. A file
    that does not exist is skipped (the current one may be between rotation and re-creation).
    OSError when a file exists but cannot be read.
    """
    tail = Tail()
    chunks: list[list[str]] = []
    for index, candidate in enumerate([path, *rotated_siblings(path)]):
        try:
            lines, reached, size, unfinished = _scan(candidate, since, line_time, current=index == 0)
        except FileNotFoundError:
            continue
        tail.files.append(candidate)
        tail.bytes_read += size
        tail.unfinished = tail.unfinished or unfinished
        chunks.append(lines)
        if reached:
            tail.reached_since = True
            break
    for lines in reversed(chunks):
        tail.lines.extend(lines)
    return tail


def _scan(
    path: Path, since: float, line_time: LineTime, *, current: bool
) -> tuple[list[str], bool, int, bool]:
    """Lines newer than ``since`` (oldest first), whether an older one was reached, bytes read,
    and whether the last line was unfinished."""
    newest_first: list[str] = []
    read = 0
    unfinished = False
    with path.open("rb") as handle:
        position = handle.seek(0, os.SEEK_END)
        carry = b""
        first_block = True
        while position > 0:
            start = max(0, position - BLOCK)
            handle.seek(start)
            data = handle.read(position - start) + carry
            read += position - start
            position = start
            pieces = data.split(b"\n")
            if first_block:
                last = pieces.pop()  # after the final newline: empty, or a line being written
                if last.strip():
                    if current:
                        unfinished = True
                    else:
                        pieces.append(last)
                first_block = False
            carry = pieces.pop(0) if position > 0 else b""
            for raw in reversed(pieces):
                line = raw.decode("utf-8", errors="replace").rstrip("\r")
                if not line.strip():
                    continue
                stamp = line_time(line)
                if stamp is not None and stamp < since:
                    newest_first.reverse()
                    return newest_first, True, read, unfinished
                newest_first.append(line)
    newest_first.reverse()
    return newest_first, False, read, unfinished
