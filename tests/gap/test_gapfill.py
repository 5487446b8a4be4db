"""GapFiller's passes over one PBX, with a capture's calls and an event log that projects on flush."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import shutil
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from structlog.testing import capture_logs

from hotline.ami.actions import ResyncSnapshot
from hotline.ami.dispatch import PbxEvent
from hotline.ami.protocol import Event
from hotline.config import ConfigError, PbxConfig
from hotline.gap_window import StoreWitness
from hotline.gapfill import GAP_CONNECTION, GapFiller, GapSources
from hotline.kpi import facts, gap
from hotline.kpi.from_ami import AmiProjector
from hotline.metrics import Registry
from hotline.store import upsert_attempts
from hotline.store.events import StoredEvent, insert_rows, row_from_event

from .conftest import MASTER_CSV_ORDER, PBX, Capture, master_csv_line


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


# --- the CDR window, a store that is down, a flush that times out --------------------------------


def _started_earlier(cdr_csv: Path, first_line_by_s: int) -> str:
    """The capture's CDR with the caller channel's first record started earlier (an IVR before the queue)."""
    lines = cdr_csv.read_text(encoding="utf-8").splitlines()
    row = dict(zip(MASTER_CSV_ORDER, next(csv.reader([lines[0]])), strict=True))
    start = datetime.strptime(row["StartTime"], "%Y-%m-%d %H:%M:%S") - timedelta(seconds=first_line_by_s)
    row["StartTime"] = start.strftime("%Y-%m-%d %H:%M:%S")
    return "\n".join([master_csv_line(row), *lines[1:]]) + "\n"


@pytest.mark.parametrize("ivr_s", [0, 10])
async def test_a_call_ami_saw_whole_is_not_added_again_from_the_cdr(tmp_path: Path, ivr_s: int) -> None:
    """The link dropped just after the caller hung up: the CDR's stay ends up to ~2 s before the gap."""
    capture = Capture("answered-hold")
    (tmp_path / "Master.csv").write_text(
        _started_earlier(capture.folder / "cdr.csv", ivr_s), encoding="utf-8"
    )
    events = capture.events()
    last = max(float(e.get("Timestamp") or 0) for e in events)
    [record] = [r for r in capture.cdr().records if r.queue is not None]
    assert last - gap.ENTRY_SLACK_S <= record.end < last  # whole seconds, before the gap began
    projector = AmiProjector()
    eventlog = ListeningLog(projector)
    pbx = PbxConfig(name=PBX, site="jakarta", cdr_csv_path=str(tmp_path / "Master.csv"), cdr_timezone="UTC")
    filler = GapFiller([pbx], projector, eventlog, clock=lambda: last + 300)
    for seq, event in enumerate(events, 1):  # the old connection saw the whole call
        eventlog.append(PbxEvent(PBX, 1, seq, last, event))
    await eventlog.flush()
    before = projector.attempts()
    report = await filler.resync(ResyncSnapshot(PBX, 2, [], [], [], [], last + 300))
    assert (report.ended, report.added) == (0, {})
    assert [e for e in eventlog.appended if e.connection == GAP_CONNECTION] == []
    assert projector.attempts() == before and len(before) == 1
    assert await filler.retry() == []  # the window was read whole and closed


async def test_a_store_down_at_the_reconnect_does_not_stop_the_completion(tmp_path: Path) -> None:
    capture = Capture("abandon")
    projector = AmiProjector()
    shutil.copy(capture.folder / "queue_log", tmp_path / "queue_log")
    eventlog = ListeningLog(projector)
    unreachable = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/no-such-folder/hotline.db")
    pbx = PbxConfig(name=PBX, site="jakarta", queue_log_path=str(tmp_path / "queue_log"))
    filler = GapFiller([pbx], projector, eventlog, clock=lambda: AFTER_THE_GAP, engine=unreachable)
    heard = capture.events()[: capture.index_after("QueueCallerJoin")]  # this run's old connection
    for seq, event in enumerate(heard, 1):
        eventlog.append(PbxEvent(PBX, 1, seq, float(event.get("Timestamp") or 0), event))
    with capture_logs() as logs:
        report = await filler.resync(_snapshot_of(2))
    assert (report.ended, report.completed, report.unresolved) == (1, {facts.FROM_QUEUE_LOG: 1}, [])
    assert projector.open_attempts(PBX) == []
    assert any("where the gap ended" in e["event"] for e in logs)
    # The window stays pending (the store could not say which calls it holds): scanned on retry.
    [retried] = await filler.retry()
    assert (retried.ended, retried.added) == (0, {})
    await unreachable.dispose()


async def test_a_gap_nobody_could_place_is_asked_for_again_on_retry(
    tmp_path: Path, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a restart only the store knows the old connection; it is down at the reconnect."""
    capture = Capture("abandon")
    shutil.copy(capture.folder / "queue_log", tmp_path / "queue_log")
    first = next(e for e in capture.events() if e.get("Timestamp"))
    heard = PbxEvent(PBX, 1, 1, float(first.get("Timestamp") or 0), first)
    async with engine.begin() as connection:
        await insert_rows(connection, [row_from_event(heard, "earlier")])

    async def refused(*_: object) -> None:
        raise ConnectionRefusedError("the database is down")

    monkeypatch.setattr(StoreWitness, "last_heard", refused)
    projector = AmiProjector()
    pbx = PbxConfig(name=PBX, site="jakarta", queue_log_path=str(tmp_path / "queue_log"))
    filler = GapFiller([pbx], projector, ListeningLog(projector), clock=lambda: AFTER_THE_GAP, engine=engine)
    with capture_logs() as logs:
        report = await filler.resync(_snapshot_of(1))
    assert (report.added, projector.attempts()) == ({}, [])
    assert any("where the gap began" in e["event"] for e in logs)
    assert await filler.retry() == []  # still down
    monkeypatch.undo()
    [retried] = await filler.retry()
    assert retried.added == {facts.FROM_QUEUE_LOG: 1}
    assert [a.call_id for a in projector.attempts()] == [capture.queue_log()[0].call_id]
    assert await filler.retry() == []


class StuckLog(ListeningLog):
    """An event log whose flushes stop finishing once ``stuck`` is set (the database is slow)."""

    stuck = False

    async def flush(self) -> None:
        if self.stuck:
            await asyncio.Event().wait()
        await super().flush()


async def test_a_pending_window_does_not_write_its_attempts_twice(tmp_path: Path) -> None:
    """The flush after a scan timed out: the next scan of the still pending window meets the
    attempt it wrote as unknown."""
    capture = Capture("abandon")
    still_waiting = (
        f"{int(capture.queue_log()[0].entered_at) + 1}|other.1|cc-informasi|NONE|ENTERQUEUE||0812|1"
    )
    (tmp_path / "queue_log").write_text(
        "\n".join([*capture.queue_log_lines(), still_waiting]) + "\n", encoding="utf-8"
    )
    projector = AmiProjector()
    eventlog = StuckLog(projector)
    pbx = PbxConfig(name=PBX, site="jakarta", queue_log_path=str(tmp_path / "queue_log"))
    filler = GapFiller([pbx], projector, eventlog, clock=lambda: AFTER_THE_GAP, settle_timeout=0.01)
    _heard_before_the_call(eventlog, capture)
    await eventlog.flush()
    eventlog.stuck = True
    report = await filler.resync(_snapshot_of(2))
    assert report.added == {facts.FROM_QUEUE_LOG: 1}
    [retried] = await filler.retry()  # pending: other.1 has no end although its caller is gone
    assert retried.added == {}
    written = [e for e in eventlog.appended if e.connection == GAP_CONNECTION]
    assert [e.event.get("Uniqueid") for e in written] == [capture.queue_log()[0].call_id]
    assert filler.added_total == {(PBX, facts.FROM_QUEUE_LOG): 1}


async def test_a_closed_filler_lets_the_pass_in_progress_finish_and_takes_no_more(tmp_path: Path) -> None:
    """The service closes the filler before it stops the AMI links: a resync reading the store
    is never cut off by the cancellation of its link's task."""
    capture, projector = _waiting_abandon_call()
    shutil.copy(capture.folder / "queue_log", tmp_path / "queue_log")
    filler, eventlog = _filler(projector, queue_log_path=str(tmp_path / "queue_log"))
    passing = asyncio.create_task(filler.resync(_snapshot()))
    await asyncio.sleep(0)  # the pass holds the filler's lock
    await filler.close()
    assert passing.done() and (await passing).completed == {facts.FROM_QUEUE_LOG: 1}
    late = await filler.resync(_snapshot())
    assert (late.ended, late.completed) == (0, {}) and await filler.retry() == []
    assert len(eventlog.appended) == 1
    filler.reopen()
    assert (await filler.resync(_snapshot())).ended == 0  # open again (nothing left to do)
