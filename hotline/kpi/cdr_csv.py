"""Asterisk's CDR CSV file (cdr_csv, ``/var/log/asterisk/cdr-csv/Master.csv``), read line by line.

Column order as ``cdr/cdr_csv.c`` (``build_csv_record``) writes it, every string double-quoted
with ``"`` doubled inside, numbers bare::

    accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
    start, answer, end, duration, billsec, disposition, amaflags[, uniqueid][, userfield]
    [, peeraccount, linkedid, sequence]

``uniqueid`` is written only with ``loguniqueid = yes`` (asterisk-config/cdr.conf sets it): without
it a record cannot be tied to a queue attempt, so such a line is an error. Dates are
``YYYY-MM-DD HH:MM:SS`` in the PBX's local time (``usegmtime = no``) or UTC (``usegmtime = yes``):
the caller says which zone (None: this host's local time, as ``usegmtime = no`` on the same host).
An empty answer date means the channel was never answered.

The caller's channel gets one record per agent dial attempt of app_queue (``unanswered = yes``):
``dstchannel`` is the agent's channel and ``disposition`` ``ANSWERED`` for the one who took the
call, ``NO ANSWER`` for the others; once the queue let the caller go, the rest of the dialplan
(``Hangup``) makes a record of its own. No IO here.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar, Final

from hotline.kpi.line_errors import PbxLineError

CDR_COLUMNS: Final = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid", "userfield",
)  # fmt: skip
_INDEX: Final = {name: i for i, name in enumerate(CDR_COLUMNS)}
_WITHOUT_UNIQUEID: Final = _INDEX["uniqueid"]
_DATE_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class CdrRecord:
    """The part of one CDR line that tells how a queue attempt ended. Times are epoch seconds."""

    uniqueid: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    dst: str
    dcontext: str
    start: float
    answer: float | None
    end: float
    disposition: str

    @property
    def queue(self) -> str | None:
        """The queue of a ``Queue`` record (first argument of Queue()), else None."""
        if self.lastapp.lower() != "queue":
            return None
        return self.lastdata.split(",", 1)[0].strip() or None


@dataclass(frozen=True, slots=True)
class CdrError(PbxLineError):
    """A CDR line that could not be read; the rest of the file still is."""

    file_kind: ClassVar[str] = "CDR"


@dataclass(slots=True)
class CdrResult:
    records: list[CdrRecord]
    errors: list[CdrError]


def _fields(line: str) -> list[str]:
    row = next(csv.reader([line]), [])
    if len(row) <= _WITHOUT_UNIQUEID:
        raise ValueError(
            f"{len(row)} columns, a uniqueid needs at least {_WITHOUT_UNIQUEID + 1} "
            "(cdr.conf [csv] loguniqueid = yes)"
        )
    return row


def _date(text: str, zone: tzinfo | None, column: str) -> float:
    try:
        moment = datetime.strptime(text, _DATE_FORMAT).replace(tzinfo=zone)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a YYYY-MM-DD HH:MM:SS date") from None
    return moment.timestamp()


def parse_cdr_line(line: str, zone: tzinfo | None) -> CdrRecord:
    """One CDR line; ValueError saying what is wrong with it."""
    row = _fields(line.rstrip("\r\n"))
    uniqueid = row[_INDEX["uniqueid"]].strip()
    if not uniqueid:
        raise ValueError("empty uniqueid")
    answer = row[_INDEX["answer"]].strip()
    return CdrRecord(
        uniqueid=uniqueid,
        channel=row[_INDEX["channel"]],
        dstchannel=row[_INDEX["dstchannel"]].strip(),
        lastapp=row[_INDEX["lastapp"]].strip(),
        lastdata=row[_INDEX["lastdata"]],
        dst=row[_INDEX["dst"]],
        dcontext=row[_INDEX["dcontext"]],
        start=_date(row[_INDEX["start"]].strip(), zone, "start"),
        answer=_date(answer, zone, "answer") if answer else None,
        end=_date(row[_INDEX["end"]].strip(), zone, "end"),
        disposition=row[_INDEX["disposition"]].strip().upper(),
    )


def end_of_line(line: str, zone: tzinfo | None) -> float | None:
    """The end date of a CDR line, or None when the line is unreadable (for scanning a file's tail)."""
    try:
        value = _date(_fields(line.rstrip("\r\n"))[_INDEX["end"]].strip(), zone, "end")
    except (ValueError, csv.Error):
        return None
    return value if math.isfinite(value) else None


def parse_cdr_csv(lines: Iterable[str], zone: tzinfo | None) -> CdrResult:
    """Every readable record of ``lines``; each unreadable line becomes a :class:`CdrError`."""
    result = CdrResult([], [])
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            result.records.append(parse_cdr_line(line, zone))
        except (ValueError, csv.Error) as exc:
            result.errors.append(CdrError(number, line.rstrip("\r\n"), str(exc)))
    return result


__all__ = [
    "CDR_COLUMNS",
    "CdrError",
    "CdrRecord",
    "CdrResult",
    "end_of_line",
    "parse_cdr_csv",
    "parse_cdr_line",
]
