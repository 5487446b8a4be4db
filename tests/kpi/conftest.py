"""Fixtures for the KPI tests: the real Asterisk 22 captures, read through the real parsers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.ami.protocol import AmiParser, Event
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.from_ami import AmiProjector
from hotline.kpi.from_queue_log import QueueLogResult, parse_queue_log

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
SCENARIOS = sorted(
    p.name for p in CAPTURES.iterdir() if (p / "ami.raw").is_file() and (p / "queue_log").is_file()
)
PBX = "jkt-1"


@dataclass(frozen=True)
class Scenario:
    """One capture folder: AMI bytes and queue_log lines of the same calls."""

    name: str

    @property
    def folder(self) -> Path:
        return CAPTURES / self.name

    @property
    def ami_raw(self) -> bytes:
        return (self.folder / "ami.raw").read_bytes()

    def events(self) -> list[Event]:
        return [m for m in AmiParser().messages(self.ami_raw) if isinstance(m, Event)]

    def events_byte_by_byte(self) -> list[Event]:
        parser, raw = AmiParser(), self.ami_raw
        out: list[Event] = []
        for i in range(len(raw)):
            out.extend(m for m in parser.messages(raw[i : i + 1]) if isinstance(m, Event))
        return out

    def last_ami_time(self) -> float:
        stamps = [float(t) for e in self.events() if (t := e.get("Timestamp"))]
        return max(stamps, default=0.0)

    def queue_log_lines(self) -> list[str]:
        return (self.folder / "queue_log").read_text(encoding="utf-8").splitlines()

    def from_queue_log(self, *, until: float | None = None) -> QueueLogResult:
        """queue_log lines up to ``until`` (the AMI capture may stop before the log does)."""
        lines = self.queue_log_lines()
        if until is not None:
            lines = [line for line in lines if float(line.split("|", 1)[0]) <= until]
        return parse_queue_log(lines, pbx=PBX)

    def from_ami(self, events: Iterable[Event] | None = None) -> list[QueueAttempt]:
        return project(self.events() if events is None else events)


def project(events: Iterable[Event]) -> list[QueueAttempt]:
    projector = AmiProjector()
    for event in events:
        projector.feed(PBX, event)
    return projector.attempts()


@pytest.fixture(params=SCENARIOS)
def scenario(request: pytest.FixtureRequest) -> Scenario:
    """Every captured scenario, one test run each."""
    return Scenario(str(request.param))


@pytest.fixture
def load() -> Callable[[str], Scenario]:
    """A named captured scenario."""
    return Scenario


def event(name: str, **headers: str | int | float) -> Event:
    """An AMI event as the parser would return it, headers in the given order."""
    pairs = [("Event", name)] + [(k, str(v)) for k, v in headers.items()]
    return Event(tuple(pairs))


@pytest.fixture
def make_event() -> Callable[..., Event]:
    """Build a synthetic AMI event: make_event('Hold', Timestamp=1.0, Uniqueid='a.1')."""
    return event
