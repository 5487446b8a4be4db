"""The collector on its own: a file still being written waits; a torn WAV header is archived and noted."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from recording import repo
from recording.capture import Answered, Ended, Started
from recording.collector import Collector
from recording.settings import RecordingSettings
from recording.wav import pcm_header

AT = 1_795_516_071.0  # 2026-11-24 in Jakarta


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _ended_call(engine: AsyncEngine, uniqueid: str) -> None:
    await repo.start(
        engine,
        Started("jakarta", uniqueid, uniqueid, "PJSIP/provider-1", "081234567890", "inbound", AT),
        "jakarta",
    )
    await repo.end(engine, Ended("jakarta", uniqueid, uniqueid, AT + 30, "hangup"))


async def test_a_growing_file_waits_and_a_torn_header_is_noted(
    engine: AsyncEngine, settings: RecordingSettings
) -> None:
    clock = Clock()
    collector = Collector(engine, settings, clock=clock)
    await _ended_call(engine, "1795516068.0")
    spool_file = settings.spool_dirs["jakarta"] / "jakarta/2026/11/24/1795516068.0.wav"
    spool_file.parent.mkdir(parents=True)
    # What MixMonitor leaves when it is killed: sizes in the header never filled in.
    spool_file.write_bytes(pcm_header(0) + b"\x01\x00" * 4000)
    assert await collector.tick() == 0  # first sight: size noted
    clock.now += 1.0
    with spool_file.open("ab") as handle:
        handle.write(b"\x01\x00" * 4000)  # still growing
    assert await collector.tick() == 0
    clock.now += 0.01
    assert await collector.tick() == 0  # unchanged, but not for settle_s yet
    clock.now += 1.0
    assert await collector.tick() == 1
    [row] = await repo.rows_with_status(engine, ("archived",))
    assert row["duration_s"] == 1.0 and "not closed properly" in row["problem"]
    assert not spool_file.exists() and (settings.archive_dir / row["file_path"]).stat().st_size == 16044


async def test_an_empty_file_is_kept_and_flagged_empty(
    engine: AsyncEngine, settings: RecordingSettings
) -> None:
    clock = Clock()
    collector = Collector(engine, settings, clock=clock)
    await _ended_call(engine, "1795516070.3")
    await repo.note_answer(
        engine, Answered("jakarta", "1795516070.3", "Siti Rahma", "PJSIP/1001", "cc-umum", AT)
    )
    spool_file = settings.spool_dirs["jakarta"] / "1795516070.3.wav"
    spool_file.parent.mkdir(parents=True, exist_ok=True)
    spool_file.write_bytes(b"")
    await collector.tick()
    clock.now += 1.0
    assert await collector.tick() == 1
    [row] = await repo.rows_with_status(engine, ("empty",))
    assert row["size_bytes"] == 0 and row["agent"] == "1001" and "empty" in row["problem"]
