"""Fixtures for ``hotline kpi`` tests: a SQLite store filled from the real Asterisk 22 captures."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import hotline.cli
from hotline.ami.protocol import AmiParser, Event

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
WITH_QUEUE_LOG = sorted(
    p.name for p in CAPTURES.iterdir() if (p / "ami.raw").is_file() and (p / "queue_log").is_file()
)
PBX = "ref"
QUIET = ["--log-level", "error"]


@dataclass(frozen=True)
class Result:
    """What one ``hotline`` run printed, and its exit code."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture
def hotline_cli(capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    """Run ``hotline ARGS...`` in-process; returns its exit code and output."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = hotline.cli.main([*argv, *QUIET])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite database in tmp_path."""
    return f"sqlite+aiosqlite:///{tmp_path}/hotline.db"


@pytest.fixture
def ingest(hotline_cli: Run, db_url: str) -> Callable[[str], Result]:
    """Ingest the AMI capture of a scenario into the test database as PBX 'ref'."""

    def ingest_scenario(name: str) -> Result:
        trace = str(CAPTURES / name / "ami.raw")
        return hotline_cli("ingest", "--ami-trace", trace, "--pbx", PBX, "--db", db_url)

    return ingest_scenario


def has_ami_events(name: str) -> bool:
    raw = (CAPTURES / name / "ami.raw").read_bytes()
    return any(isinstance(m, Event) for m in AmiParser().messages(raw))


def last_ami_time(name: str) -> float:
    raw = (CAPTURES / name / "ami.raw").read_bytes()
    stamps = [
        float(t) for m in AmiParser().messages(raw) if isinstance(m, Event) and (t := m.get("Timestamp"))
    ]
    return max(stamps, default=0.0)


def queue_log_until(name: str, until: float, into: Path) -> Path:
    """A copy of the scenario's queue_log with only the lines written up to ``until``."""
    lines = (CAPTURES / name / "queue_log").read_text(encoding="utf-8").splitlines(keepends=True)
    into.write_text(
        "".join(line for line in lines if float(line.split("|", 1)[0]) <= until), encoding="utf-8"
    )
    return into
