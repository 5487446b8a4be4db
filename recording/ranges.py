"""HTTP ``Range: bytes=...`` for one file (RFC 9110 section 14), without IO.

A browser's ``<audio>`` element seeks by asking for ``bytes=<start>-``; players also send
``bytes=<start>-<end>`` and ``bytes=-<suffix>``. One range is served (206). Anything else gets a
clear answer rather than a silent full download: a header that is not a byte range is a 400,
a range beyond the end of the file is a 416 that says how long the file is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_SPEC: Final = re.compile(r"(\d*)-(\d*)")
MAX_HEADER: Final = 200


class RangeError(ValueError):
    """The Range header cannot be served; ``status`` is 400 (malformed) or 416 (not satisfiable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Inclusive, as in Content-Range."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range to serve of a ``size``-byte file, or None for the whole file (no header).

    Raises :class:`RangeError` (400) for a malformed header or several ranges, (416) for a range
    that starts beyond the file or an empty suffix.
    """
    if header is None:
        return None
    text = header.strip()
    if len(text) > MAX_HEADER:
        raise RangeError(400, "Range header too long")
    unit, sep, spec = text.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        raise RangeError(400, f"Range must be 'bytes=<start>-<end>', not {text[:40]!r}")
    parts = [p.strip() for p in spec.split(",")]
    if len(parts) != 1:
        raise RangeError(400, "several ranges in one request are not served; ask for one range")
    match = _SPEC.fullmatch(parts[0])
    if match is None or match.group(1) == match.group(2) == "":
        raise RangeError(400, f"Range {parts[0][:40]!r} is not <start>-<end>, <start>- or -<suffix>")
    first, last = match.group(1), match.group(2)
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeError(416, f"an empty suffix range cannot be served; the file has {size} bytes")
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if last and int(last) < start:
        raise RangeError(400, f"Range end {last} is before its start {start}")
    if start >= size:
        raise RangeError(416, f"Range starts at byte {start}; the file has {size} bytes")
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end)
