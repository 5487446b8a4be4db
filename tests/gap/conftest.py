"""Fixtures of the AMI-gap tests: the real Asterisk 22 captures (AMI, queue_log, cdr.csv).

The databases on both backends (``db_url``) come from tests/pg_support.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest

from hotline.ami.protocol import AmiParser, Event
from hotline.kpi.cdr_csv import CdrResult, parse_cdr_csv
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.from_ami import AmiProjector
from hotline.kpi.from_queue_log import parse_queue_log

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
PBX = "jkt-1"
WITH_CDR = sorted(
    p.name
    for p in CAPTURES.iterdir()
    if (p / "cdr.csv").is_file() and (p / "cdr.csv").stat().st_size and (p / "queue_log").is_file()
)


@dataclass(frozen=True)
class Capture:
    """One capture folder read through the real parsers (its CDR dates are UTC: usegmtime as captured)."""

    name: str

    @property
    def folder(self) -> Path:
        return CAPTURES / self.name

    def events(self) -> list[Event]:
        raw = (self.folder / "ami.raw").read_bytes()
        return [m for m in AmiParser().messages(raw) if isinstance(m, Event)]

    def queue_log_lines(self) -> list[str]:
        return (self.folder / "queue_log").read_text(encoding="utf-8").splitlines()

    def queue_log(self) -> list[QueueAttempt]:
        return parse_queue_log(self.queue_log_lines(), pbx=PBX).attempts

    def cdr(self) -> CdrResult:
        return parse_cdr_csv((self.folder / "cdr.csv").read_text(encoding="utf-8").splitlines(), UTC)

    def projector_until(self, stop: int) -> AmiProjector:
        """A projector fed the capture's events before index ``stop`` (the link dropped there)."""
        projector = AmiProjector()
        for event in self.events()[:stop]:
            projector.feed(PBX, event)
        return projector

    def index_after(self, name: str, nth: int = 1) -> int | None:
        """The index just after the ``nth`` event called ``name`` (None if there are fewer)."""
        seen = 0
        for index, event in enumerate(self.events()):
            if event.name == name:
                seen += 1
                if seen == nth:
                    return index + 1
        return None


@pytest.fixture(params=WITH_CDR)
def capture(request: pytest.FixtureRequest) -> Capture:
    return Capture(str(request.param))


# Master.csv as cdr_csv writes it (cdr/cdr_csv.c build_csv_record, loguniqueid and loguserfield on):
# the fields of cdr_manager's Cdr event, in this order, strings quoted with '"' doubled, numbers bare.
MASTER_CSV_ORDER = (
    "AccountCode", "Source", "Destination", "DestinationContext", "CallerID", "Channel",
    "DestinationChannel", "LastApplication", "LastData", "StartTime", "AnswerTime", "EndTime",
    "Duration", "BillableSeconds", "Disposition", "AMAFlags", "UniqueID", "UserField",
)  # fmt: skip
_BARE = frozenset({"Duration", "BillableSeconds"})


def master_csv_line(cdr: Mapping[str, str]) -> str:
    """One Master.csv line from the fields of a Cdr event (or of the emulator's CDR rows)."""
    values = (cdr.get(key) or "" for key in MASTER_CSV_ORDER)
    return ",".join(
        value if key in _BARE else '"' + value.replace('"', '""') + '"'
        for key, value in zip(MASTER_CSV_ORDER, values, strict=True)
    )
