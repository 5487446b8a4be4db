"""What a reader of a PBX's line-oriented files (queue_log, CDR CSV) reports for a bad line.

Both readers skip the line and go on, so one error names the file it came from, the line number
and why, and keeps the text for the operator's warning. Each reader has its own subclass
(:class:`hotline.kpi.from_queue_log.QueueLogError`, :class:`hotline.kpi.cdr_csv.CdrError`) so
callers can still tell which file a list of errors is about; shared code takes this base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

SHOWN_CHARS = 200
"""How much of the offending line a message quotes (a corrupt line can be very long)."""


@dataclass(frozen=True, slots=True)
class PbxLineError:
    """A line of a PBX file that could not be read; the rest of the file still is."""

    file_kind: ClassVar[str] = "PBX file"
    """How the message names the file (``queue_log``, ``CDR``)."""

    line_no: int
    line: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file_kind} line {self.line_no}: {self.reason}: {self.line[:SHOWN_CHARS]!r}"
