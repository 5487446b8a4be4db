"""GapFiller's passes over one PBX, with a capture's calls and an event log that projects on flush."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from hotline.ami.actions import ResyncSnapshot
from hotline.ami.dispatch import PbxEvent
from hotline.ami.protocol import Event
from hotline.config import ConfigError, PbxConfig
from hotline.gapfill import GAP_CONNECTION, GapFiller, GapSources
from hotline.kpi import facts, gap
from hotline.kpi.from_ami import AmiProjector
from hotline.metrics import Registry

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
