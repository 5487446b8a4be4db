"""``hotline ingest --ami-trace``: events without a Timestamp land at the capture's time.

QueueStatus answers (QueueParams, QueueMember, QueueEntry) and FullyBooted carry no Timestamp
header; the real Asterisk 22 capture ``actions`` has both kinds.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.ami.protocol import Event
from hotline.cli import main
from hotline.commands import capture_times, read_trace
from hotline.store import db as store_db
from hotline.store.events import iter_events

CAPTURE = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22" / "actions" / "ami.raw"
INGEST_TIME = 4_000_000_000.0
"""Far from the capture (2026), so an event stamped with it stands out."""


def _stamp(event: Event) -> float | None:
    value = event.get("Timestamp")
    return float(value) if value else None


def test_unstamped_events_take_the_last_stamp_before_them() -> None:
    events, garbage = read_trace(CAPTURE.read_bytes(), "jkt", INGEST_TIME)
    assert garbage == 0
    queue_status = [e for e in events if e.event.name in {"QueueParams", "QueueMember", "QueueEntry"}]
    assert queue_status, "the capture holds a QueueStatus answer"
    for item in queue_status:
        index = events.index(item)
        before = next(_stamp(e.event) for e in reversed(events[:index]) if _stamp(e.event) is not None)
        assert item.received_at == before
    assert all(e.received_at != INGEST_TIME for e in events)
    times = [e.received_at for e in events]
    assert times == sorted(times)


def test_events_before_the_first_stamp_take_the_first_one() -> None:
    events, _ = read_trace(CAPTURE.read_bytes(), "jkt", INGEST_TIME)
    assert events[0].event.name == "FullyBooted" and _stamp(events[0].event) is None
    assert events[0].received_at == _stamp(events[1].event)


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        ([None, None, 5.0, None, 7.0, None], [5.0, 5.0, 5.0, 5.0, 7.0, 7.0]),
        ([1.0, 2.0], [1.0, 2.0]),
        ([None, None], [99.0, 99.0]),
        ([], []),
    ],
)
def test_capture_times(stamps: list[float | None], expected: list[float]) -> None:
    assert capture_times(stamps, 99.0) == expected


def test_an_ingested_snapshot_is_stored_at_capture_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/h.db"
    args = ["ingest", "--ami-trace", str(CAPTURE), "--pbx", "jkt", "--db", url, "--log-level", "error"]
    assert main(args) == 0
    capsys.readouterr()
    events, _ = read_trace(CAPTURE.read_bytes(), "jkt", INGEST_TIME)
    first, last = events[0].received_at, events[-1].received_at

    async def members_in_capture_window() -> int:
        engine = store_db.create_engine(url)
        try:
            window = iter_events(engine, since=first, until=last + 1)
            return len([stored async for stored in window if stored.name == "QueueMember"])
        finally:
            await engine.dispose()

    expected = sum(1 for e in events if e.event.name == "QueueMember")
    assert asyncio.run(members_in_capture_window()) == expected > 0
