"""Fixtures of the store tests: AMI events as the client hands them over, a closed port.

The databases (``engine``, ``db_url``, ``pg_url``, ``sqlite_url``) come from tests/pg_support.py.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.ami.protocol import AmiParser, Event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"


@dataclass(frozen=True)
class Received:
    """What the AMI client hands to the event log."""

    pbx: str
    connection: int
    seq: int
    received_at: float
    event: Event


def _make_event(
    seq: int,
    name: str = "Newchannel",
    pbx: str = "jkt",
    connection: int = 1,
    event: Event | None = None,
    **extra: str,
) -> Received:
    if event is None:
        headers = (("Event", name), ("Uniqueid", f"1700000000.{seq}"), ("Linkedid", "1700000000.0"))
        event = Event(headers + tuple(extra.items()))
    return Received(pbx, connection, seq, 1_700_000_000.0 + seq / 1000, event)


def _capture_events(scenario: str) -> list[Event]:
    data = (FIXTURES / scenario / "ami.raw").read_bytes()
    return [m for m in AmiParser().messages(data) if isinstance(m, Event)]


@pytest.fixture
def make_event() -> Callable[..., Received]:
    """make_event(seq, name=, pbx=, connection=, event=, **headers): what the AMI client hands over."""
    return _make_event


@pytest.fixture
def capture_events() -> Callable[[str], list[Event]]:
    """capture_events(scenario): the events of one real Asterisk 22 capture, in wire order."""
    return _capture_events


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
