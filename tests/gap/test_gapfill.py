"""GapFiller's passes over one PBX, with a capture's calls and an event log that projects on flush."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from hotline.ami.actions import ResyncSnapshot
from hotline.ami.dispatch import PbxEvent
from hotline.ami.protocol import Event
from hotline.config import ConfigError, PbxConfig
from hotline.gapfill import GAP_CONNECTION, GapFiller, GapSources
from hotline.kpi import facts, gap
from hotline.kpi.from_ami import AmiProjector
from hotline.metrics import Registry
from hotline.store import upsert_attempts
from hotline.store.events import StoredEvent, insert_rows, row_from_event

from .conftest import PBX, Capture


class ProjectingLog:
    """The runtime's path in small: appended events reach the projector when flushed."""

    def __init__(self, projector: AmiProjector) -> None:
        self.projector = projector
        self.appended: list[PbxEvent] = []
        self._pending: list[PbxEvent] = []

    def append(self, pbx_event: PbxEvent) -> None:
        self.appended.append(pbx_event)
        self._pending.append(pbx_event)

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        for item in pending:
            self.projector.feed(item.pbx, item.event)


def _snapshot(*live_uniqueids: str, members: list[Event] | None = None) -> ResyncSnapshot:
    channels = [Event((("Event", "CoreShowChannel"), ("Uniqueid", uid))) for uid in live_uniqueids]
    return ResyncSnapshot(PBX, 2, channels, [], members or [], [], 1_900_000_000.0)


def _waiting_abandon_call() -> tuple[Capture, AmiProjector]:
    capture = Capture("abandon")
    return capture, capture.projector_until(capture.index_after("QueueCallerJoin") or 0)


def _filler(projector: AmiProjector, **files: str) -> tuple[GapFiller, ProjectingLog]:
    eventlog = ProjectingLog(projector)
    pbx = PbxConfig(name=PBX, site="jakarta", cdr_timezone="UTC", **files)
    return GapFiller([pbx], projector, eventlog, clock=lambda: 1_900_000_000.0), eventlog


async def test_a_second_resync_finds_nothing_left_to_complete(tmp_path: Path) -> None:
    capture, projector = _waiting_abandon_call()
    shutil.copy(capture.folder / "queue_log", tmp_path / "queue_log")
    filler, eventlog = _filler(projector, queue_log_path=str(tmp_path / "queue_log"))
    first = await filler.resync(_snapshot())
    assert (first.ended, first.completed, first.unresolved) == (1, {facts.FROM_QUEUE_LOG: 1}, [])
    [item] = eventlog.appended
    assert (item.pbx, item.connection, item.seq) == (PBX, GAP_CONNECTION, 1)
    assert item.event.name == gap.EVENT and item.event.get("Outcome") == facts.ABANDONED
    second = await filler.resync(_snapshot())
    assert (second.ended, second.completed) == (0, {})
    assert len(eventlog.appended) == 1
    assert filler.completed_total == {(PBX, facts.FROM_QUEUE_LOG): 1}
    [attempt] = projector.attempts()
    assert (attempt.outcome, attempt.wait_s, attempt.completed_from) == (facts.ABANDONED, 8.0, "queue_log")


async def test_a_call_still_live_is_left_to_ami(tmp_path: Path) -> None:
    capture, projector = _waiting_abandon_call()
    shutil.copy(capture.folder / "queue_log", tmp_path / "queue_log")
    filler, eventlog = _filler(projector, queue_log_path=str(tmp_path / "queue_log"))
    report = await filler.resync(_snapshot("1795514684.0"))
    assert report.ended == 0 and eventlog.appended == []
    assert [a.outcome for a in projector.open_attempts(PBX)] == [facts.WAITING]


async def test_cdr_when_queue_log_has_no_line_of_the_call(tmp_path: Path) -> None:
    capture, projector = _waiting_abandon_call()
    (tmp_path / "queue_log").write_text("1|other.1|q|NONE|ENTERQUEUE||0812|1\n", encoding="utf-8")
    shutil.copy(capture.folder / "cdr.csv", tmp_path / "Master.csv")
    filler, _ = _filler(
        projector, queue_log_path=str(tmp_path / "queue_log"), cdr_csv_path=str(tmp_path / "Master.csv")
    )
    report = await filler.resync(_snapshot())
    assert report.completed == {facts.FROM_CDR: 1}
    assert projector.attempts()[0].completed_from == facts.FROM_CDR


async def test_with_no_file_configured_the_call_is_unresolved_and_counted() -> None:
    _, projector = _waiting_abandon_call()
    filler, eventlog = _filler(projector)
    registry = Registry()
    filler.register_metrics(registry)
    with capture_logs() as logs:
        report = await filler.resync(_snapshot())
    assert (report.completed, report.unresolved) == ({}, ["1795514684.0"])
    assert filler.unresolved(PBX) == 1 and eventlog.appended == []
    assert f'hotline_gap_unresolved{{pbx="{PBX}"}} 1' in registry.render()
    [warning] = [e for e in logs if e["log_level"] == "warning"]
    assert warning["call_ids"] == ["1795514684.0"] and "none" in warning["sources"]
    # Retried quietly: the same unresolved calls are not warned about again.
    with capture_logs() as logs:
        await filler.retry()
    assert filler.unresolved(PBX) == 1 and logs == []
    # Forgotten by the projector (2 h later): no longer unresolved, and said so.
    projector.prune(float("inf"))
    with capture_logs() as logs:
        await filler.retry()
    assert filler.unresolved(PBX) == 0
    assert any("never completed" in e["event"] for e in logs)


async def test_an_unreadable_file_is_reported_and_nothing_is_lost(tmp_path: Path) -> None:
    _, projector = _waiting_abandon_call()
    (tmp_path / "queue_log").mkdir()  # a directory where the file should be
    filler, _ = _filler(projector, queue_log_path=str(tmp_path / "queue_log"))
    with capture_logs() as logs:
        report = await filler.resync(_snapshot())
    assert report.unresolved == ["1795514684.0"]
    assert any("unreadable" in e["event"] and "queue_log" in e["problem"] for e in logs)
    assert projector.open_attempts(PBX) != []


def test_a_time_zone_that_does_not_exist_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cdr_timezone 'Mars/Olympus'"):
        GapSources.of(PbxConfig(name="jkt", site="jakarta", cdr_timezone="Mars/Olympus"))
    sources = GapSources.of(
        PbxConfig(name="jkt", site="jakarta", queue_log_path="/var/log/asterisk/queue_log")
    )
    assert (sources.queue_log, sources.cdr_csv, sources.cdr_zone) == (
        Path("/var/log/asterisk/queue_log"),
        None,
        None,
    )


# --- attempts AMI never saw ----------------------------------------------------------------------


AFTER_THE_GAP = 1_795_515_000.0
"""The link is back a few minutes after the "abandon" capture's call."""


class ListeningLog(ProjectingLog):
    """Like the service's EventLog: a session, and listeners told of each committed batch."""

    session = "this-run"

    def __init__(self, projector: AmiProjector) -> None:
        super().__init__(projector)
        self.listeners: list[Callable[[list[StoredEvent]], Awaitable[None]]] = []

    def add_listener(self, callback: Callable[[list[StoredEvent]], Awaitable[None]]) -> None:
        self.listeners.append(callback)

    async def flush(self) -> None:
        pending = list(self._pending)
        await super().flush()
        batch = [_stored(item, self.session) for item in pending]
        for listener in self.listeners:
            await listener(batch)


def _stored(item: PbxEvent, session: str) -> StoredEvent:
    stamp = item.event.get("Timestamp")
    return StoredEvent(
        0, item.pbx, session, item.connection, item.seq, item.received_at, item.event.name,
        item.event.headers, item.event.get("Uniqueid"), None, float(stamp) if stamp else None,
    )  # fmt: skip


def _heard_before_the_call(eventlog: ProjectingLog, capture: Capture) -> None:
    """The old connection's last event: the caller's first, before it reached the queue."""
    first = next(e for e in capture.events() if e.get("Timestamp"))
    stamp = float(first.get("Timestamp") or 0)
    assert stamp < capture.queue_log()[0].entered_at
    eventlog.append(PbxEvent(PBX, 1, 1, stamp, first))


def _snapshot_of(connection: int) -> ResyncSnapshot:
    return ResyncSnapshot(PBX, connection, [], [], [], [], AFTER_THE_GAP)


async def test_a_call_in_a_queue_only_during_the_gap_is_added_once(tmp_path: Path) -> None:
    capture = Capture("abandon")
    shutil.copy(capture.folder / "queue_log", tmp_path / "queue_log")
    projector = AmiProjector()
    eventlog = ListeningLog(projector)
    pbx = PbxConfig(name=PBX, site="jakarta", queue_log_path=str(tmp_path / "queue_log"))
    filler = GapFiller([pbx], projector, eventlog, clock=lambda: AFTER_THE_GAP)
    registry = Registry()
    filler.register_metrics(registry)
    _heard_before_the_call(eventlog, capture)
    report = await filler.resync(_snapshot_of(2))
    assert (report.ended, report.completed, report.added) == (0, {}, {facts.FROM_QUEUE_LOG: 1})
    [item] = [e for e in eventlog.appended if e.connection == GAP_CONNECTION]
    assert item.event.name == gap.EVENT_ATTEMPT
    [attempt] = projector.attempts()
    logged = capture.queue_log()[0]
    assert (attempt.call_id, attempt.outcome, attempt.wait_s, attempt.entered_at) == (
        logged.call_id,
        facts.ABANDONED,
        8.0,
        logged.entered_at,
    )
    assert (attempt.source, attempt.completed_from) == (facts.SOURCE_AMI, facts.FROM_QUEUE_LOG)
    assert f'hotline_gap_attempts_added_total{{pbx="{PBX}",source="queue_log"}} 1' in registry.render()
    # A retry, and a next reconnect whose gap reaches back as far: nothing is added twice.
    assert await filler.retry() == []
    again = await filler.resync(_snapshot_of(3))
    assert (again.added, len(eventlog.appended)) == ({}, 2)
    assert filler.added_total == {(PBX, facts.FROM_QUEUE_LOG): 1}


async def test_without_an_earlier_connection_there_is_no_gap_to_scan(tmp_path: Path) -> None:
    """The first start ever: the queue_log's calls from before hotline ran are not AMI's to add."""
    capture = Capture("abandon")
    shutil.copy(capture.folder / "queue_log", tmp_path / "queue_log")
    projector = AmiProjector()
    pbx = PbxConfig(name=PBX, site="jakarta", queue_log_path=str(tmp_path / "queue_log"))
    filler = GapFiller([pbx], projector, ListeningLog(projector), clock=lambda: AFTER_THE_GAP)
    report = await filler.resync(_snapshot_of(1))
    assert (report.added, projector.attempts()) == ({}, [])


async def test_a_window_whose_file_is_missing_is_scanned_again(tmp_path: Path) -> None:
    capture = Capture("abandon")
    projector = AmiProjector()
    eventlog = ListeningLog(projector)
    pbx = PbxConfig(name=PBX, site="jakarta", queue_log_path=str(tmp_path / "queue_log"))
    filler = GapFiller([pbx], projector, eventlog, clock=lambda: AFTER_THE_GAP)
    _heard_before_the_call(eventlog, capture)
    assert (await filler.resync(_snapshot_of(2))).added == {}
    shutil.copy(capture.folder / "queue_log", tmp_path / "queue_log")
    [retried] = await filler.retry()
    assert retried.added == {facts.FROM_QUEUE_LOG: 1}
    assert await filler.retry() == []  # the window is closed


async def test_the_store_tells_where_the_gap_began_and_which_calls_it_holds(
    tmp_path: Path, engine: AsyncEngine
) -> None:
    """After a restart only the store knows the old connection; a call it holds is not added."""
    capture = Capture("abandon")
    shutil.copy(capture.folder / "queue_log", tmp_path / "queue_log")
    first = next(e for e in capture.events() if e.get("Timestamp"))
    heard = PbxEvent(PBX, 1, 1, float(first.get("Timestamp") or 0), first)
    async with engine.begin() as connection:
        await insert_rows(connection, [row_from_event(heard, "earlier")])
    logged = capture.queue_log()[0]

    async def resync_after_restart() -> tuple[GapFiller, AmiProjector]:
        projector = AmiProjector()
        pbx = PbxConfig(name=PBX, site="jakarta", queue_log_path=str(tmp_path / "queue_log"))
        filler = GapFiller(
            [pbx], projector, ListeningLog(projector), clock=lambda: AFTER_THE_GAP, engine=engine
        )
        await filler.resync(_snapshot_of(1))
        return filler, projector

    filler, projector = await resync_after_restart()
    assert filler.added_total == {(PBX, facts.FROM_QUEUE_LOG): 1}
    [added] = projector.attempts()
    # Imported by hotline ingest --queue-log: counted from there already, not added as AMI's.
    await upsert_attempts(engine, [dataclasses.replace(logged, source=facts.SOURCE_QUEUE_LOG)])
    filler, projector = await resync_after_restart()
    assert (filler.added_total, projector.attempts()) == ({}, [])
    # Stored as AMI's (the projector forgot it): known, not added again.
    await upsert_attempts(engine, [added])
    filler, projector = await resync_after_restart()
    assert (filler.added_total, projector.attempts()) == ({}, [])
