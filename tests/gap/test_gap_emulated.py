"""Calls that end while hotline's AMI link is down, end to end against the emulated Asterisk 22.

Four calls: A answered and B, C waiting when the link drops; while it is down A hangs up, B
abandons and C times out of the queue; D is answered before the drop and still talking when the
link comes back. After the reconnect A, B and C must be completed from the PBX's queue_log (or
CDR), D by AMI itself; the store's KPIs must equal the queue_log's, a second resync must change
nothing and ``hotline rebuild`` must give the same tables back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline import names
from hotline.cli import main
from hotline.compose import Runtime
from hotline.config import AgiConfig, Config, HttpConfig, StoreConfig
from hotline.demo import demo_agents, demo_config, retarget_agi
from hotline.emulator import AsteriskEmulator, CallScript, EmulatorSettings
from hotline.emulator.script import CallResult
from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt
from hotline.rollup.tables import kpi_rollup
from hotline.store import create_engine
from hotline.store.models import Base, QueueAttemptRow

from .conftest import master_csv_line

pytestmark = pytest.mark.slow

SPEED = 20.0
PBX = "demo-jakarta"
ATTEMPT = Base.metadata.tables[QueueAttemptRow.__tablename__]


@dataclass
class Site:
    """The emulated PBX, where it writes its logs, and the hotline watching it."""

    tmp: Path
    emulator: AsteriskEmulator
    config: Config
    runtime: Runtime
    queue_log: Path
    """The emulated Asterisk's queue_log."""

    @property
    def cdr(self) -> Path:
        return self.tmp / "asterisk" / "cdr-csv" / "Master.csv"

    async def restart(self) -> None:
        self.runtime = Runtime(self.config)
        await self.runtime.start()
        retarget_agi(self.emulator, "127.0.0.1", self.runtime.agi_port)

    async def stop(self) -> None:
        await self.emulator.stop()
        await self.runtime.stop()


async def _until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def _start(tmp_path: Path, *, queue_log_path: str | None = None, cdr: bool = False) -> Site:
    """``queue_log_path``: what hotline is told (None: the emulator's own file; '' for none)."""
    (tmp_path / "asterisk" / "cdr-csv").mkdir(parents=True)
    queue_log = tmp_path / "asterisk" / "queue_log"
    secret = secrets.token_hex(8)
    emulator = AsteriskEmulator(
        EmulatorSettings(
            ami_port=0,
            ami_username="hotline",
            ami_secret=secret,
            speed=SPEED,
            seed=11,
            agents=demo_agents(2),
            queue_log_path=str(queue_log),
        )
    )
    port = await emulator.start()
    base = Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "spool")
        ),
    )
    config = demo_config(base, port, secret)
    pbx = dataclasses.replace(
        config.pbx[0],
        queue_log_path=str(queue_log) if queue_log_path is None else queue_log_path,
        cdr_csv_path=str(tmp_path / "asterisk" / "cdr-csv" / "Master.csv") if cdr else "",
        cdr_timezone="UTC",  # the emulator writes CDR dates in UTC (usegmtime = yes)
    )
    config = dataclasses.replace(config, pbx=(pbx,))
    runtime = Runtime(config)
    await runtime.start()
    retarget_agi(emulator, "127.0.0.1", runtime.agi_port)
    site = Site(tmp_path, emulator, config, runtime, queue_log)
    await _until(lambda: _passes(site) >= 1, "the first resync")
    return site


def _passes(site: Site) -> int:
    assert site.runtime.gapfill is not None
    return site.runtime.gapfill.passes[PBX]


def _attempts(site: Site) -> dict[str, QueueAttempt]:
    return {a.call_id: a for a in site.runtime.projector.attempts()}


@dataclass
class Calls:
    answered: asyncio.Task[CallResult]
    abandoned: asyncio.Task[CallResult]
    timed_out: asyncio.Task[CallResult]
    live: asyncio.Task[CallResult]

    def ended_in_gap(self) -> dict[str, str]:
        """call id -> outcome, of the calls that ended while the link was down."""
        return {
            self.answered.result().uniqueid: facts.ANSWERED,
            self.abandoned.result().uniqueid: facts.ABANDONED,
            self.timed_out.result().uniqueid: facts.TIMEOUT,
        }


async def _calls_in_progress(site: Site) -> Calls:
    """A and D talking to the two agents, B and C waiting behind them."""
    emulator = site.emulator
    answered = emulator.start_call(CallScript("081200000001", "Ani", digits="1", caller_hangs_up_after_s=60))
    live = emulator.start_call(CallScript("081200000004", "Dodi", digits="1", caller_hangs_up_after_s=130))
    await _until(
        lambda: sum(a.outcome == facts.ANSWERED for a in site.runtime.projector.attempts()) == 2,
        "two calls answered",
    )
    abandoned = emulator.start_call(CallScript("081200000002", "Budi", digits="1", patience_s=22))
    timed_out = emulator.start_call(CallScript("081200000003", "Citra", digits="1"))
    await _until(lambda: len(site.runtime.projector.attempts()) == 4, "four calls in the queue")
    return Calls(answered, abandoned, timed_out, live)


async def _drop_link(site: Site) -> None:
    await site.runtime.ami_clients[PBX].stop()


async def _restore_link(site: Site, passes_before: int) -> None:
    await site.runtime.ami_clients[PBX].start()
    await _until(lambda: _passes(site) > passes_before, "the resync after the gap")


def _write_master_csv(site: Site) -> None:
    """What cdr_csv would have appended by now (one line per CDR, at the end of each call)."""
    lines = [master_csv_line(row) for row in site.emulator.cdr_rows]
    site.cdr.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


async def _finish(site: Site, calls: Calls) -> QueueAttempt:
    """D ends after the link is back: AMI itself completes it."""
    live = await calls.live
    await _until(lambda: _attempts(site)[live.uniqueid].ended_at is not None, "the live call's end")
    assert site.runtime.eventlog is not None
    await site.runtime.eventlog.flush()
    return _attempts(site)[live.uniqueid]


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main([*args, "--log-level", "error"])
    return code, capsys.readouterr().out


async def _tables(url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    engine: AsyncEngine = create_engine(url)
    try:
        async with engine.connect() as connection:
            attempts = [
                dict(r)
                for r in (await connection.execute(select(ATTEMPT).order_by(*ATTEMPT.primary_key))).mappings()
            ]
            rollups = [
                dict(r)
                for r in (
                    await connection.execute(select(kpi_rollup).order_by(*kpi_rollup.primary_key))
                ).mappings()
            ]
    finally:
        await engine.dispose()
    return attempts, rollups


async def _pbx_health(site: Site) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{site.runtime.http_port}/health") as response:
            report = await response.json()
        async with http.get(f"http://127.0.0.1:{site.runtime.http_port}/metrics") as response:
            metrics = await response.text()
    return {**report["pbx"][PBX], "metrics": metrics}


async def test_completed_from_queue_log_across_a_rotation_then_resync_again_and_rebuild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = await _start(tmp_path)
    url = site.config.store.url
    try:
        calls = await _calls_in_progress(site)
        await _drop_link(site)
        await calls.abandoned
        # logrotate strategy "rotate" while the link is down: B's end is now in queue_log.0, and a
        # damaged line opens the new file; nothing may be lost for either.
        rotated = site.queue_log.with_name("queue_log.0")
        site.queue_log.rename(rotated)
        site.queue_log.write_text("garbage|line\n", encoding="utf-8")
        await asyncio.gather(calls.answered, calls.timed_out)
        assert "|ABANDON|" in rotated.read_text(encoding="utf-8")
        assert "|EXITWITHTIMEOUT|" in site.queue_log.read_text(encoding="utf-8")
        before = _passes(site)
        await _restore_link(site, before)
        assert site.runtime.gapfill is not None
        report = site.runtime.gapfill.last_report[PBX]
        assert (report.ended, report.completed, report.unresolved) == (3, {facts.FROM_QUEUE_LOG: 3}, [])
        now = _attempts(site)
        for call_id, outcome in calls.ended_in_gap().items():
            assert (now[call_id].outcome, now[call_id].completed_from) == (outcome, facts.FROM_QUEUE_LOG)
        live = now[(await calls.live).uniqueid]
        assert live.outcome == facts.ANSWERED and live.completed_from is None  # still open at the resync
        live = await _finish(site, calls)
        assert live.completed_from is None and live.handle_s is not None and live.handle_s > 100

        # A second gap in which nothing ended: the same completions are not counted again.
        stored = await _tables(url)
        passes = _passes(site)
        await _drop_link(site)
        await _restore_link(site, passes)
        assert site.runtime.gapfill.last_report[PBX].ended == 0
        assert site.runtime.gapfill.completed_total[(PBX, facts.FROM_QUEUE_LOG)] == 3
        assert site.runtime.eventlog is not None
        await site.runtime.eventlog.flush()
        assert await _tables(url) == stored
    finally:
        await site.stop()

    # The store's KPIs and every compared field equal the PBX's whole queue_log.
    whole = tmp_path / "whole_queue_log"
    whole.write_text("".join(line + "\n" for line in site.emulator.queue_log_lines), encoding="utf-8")
    code, out = await asyncio.to_thread(
        _cli, ["kpi", "--reconcile", "--queue-log", str(whole), "--json", "--db", url], capsys
    )
    result = json.loads(out)
    assert (code, result["agree"], result["attempts_compared"]) == (0, True, 4), result
    assert result["ami"]["offered"] == 4 and result["ami"]["abandoned"] == 1

    # hotline rebuild replays the event log, the completions included: the same tables.
    stored = await _tables(url)
    assert sum(row["completed_from"] == facts.FROM_QUEUE_LOG for row in stored[0]) == 3
    code, _ = await asyncio.to_thread(_cli, ["rebuild", "--db", url], capsys)
    assert code == 0
    assert await _tables(url) == stored


async def test_completed_from_cdr_after_a_restart_of_hotline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hotline itself is down during the gap: the new process warms up from the event log, and its
    first resync completes the calls from Master.csv alone (no queue_log configured)."""
    site = await _start(tmp_path, queue_log_path="", cdr=True)
    try:
        calls = await _calls_in_progress(site)
        assert site.runtime.eventlog is not None
        await site.runtime.eventlog.flush()
        await site.runtime.stop()
        await asyncio.gather(calls.answered, calls.abandoned, calls.timed_out)
        _write_master_csv(site)
        await site.restart()
        await _until(lambda: _passes(site) >= 1, "the first resync after the restart")
        assert site.runtime.gapfill is not None
        report = site.runtime.gapfill.last_report[PBX]
        assert (report.ended, report.completed, report.unresolved) == (3, {facts.FROM_CDR: 3}, [])
        live = await _finish(site, calls)
        assert live.completed_from is None
    finally:
        await site.stop()

    whole = tmp_path / "whole_queue_log"
    whole.write_text("".join(line + "\n" for line in site.emulator.queue_log_lines), encoding="utf-8")
    code, out = await asyncio.to_thread(
        _cli,
        ["kpi", "--reconcile", "--queue-log", str(whole), "--json", "--db", site.config.store.url],
        capsys,
    )
    result = json.loads(out)
    # Every KPI agrees; per attempt, CDR cannot say who hung up the answered call, and says so.
    assert result["kpis_differing"] == [], result
    [difference] = result["differences"]
    assert difference["call_id"] == calls.answered.result().uniqueid
    assert difference["completed_from"] == facts.FROM_CDR
    assert difference["fields"] == {"completed_by": {"ami": None, "queue_log": facts.BY_CALLER}}
    assert code == 1


async def test_unresolved_until_the_file_appears(tmp_path: Path) -> None:
    """No readable queue_log (the mount is missing) and no CDR: the calls stay open, /health and
    /metrics show them; once the file is there a retry completes them."""
    mounted = tmp_path / "mount" / "queue_log"
    site = await _start(tmp_path, queue_log_path=str(mounted))
    try:
        calls = await _calls_in_progress(site)
        await _drop_link(site)
        await asyncio.gather(calls.answered, calls.abandoned, calls.timed_out)
        await _restore_link(site, _passes(site))
        assert site.runtime.gapfill is not None
        report = site.runtime.gapfill.last_report[PBX]
        assert (report.ended, report.completed) == (3, {})
        assert report.unresolved == sorted(calls.ended_in_gap())
        now = _attempts(site)
        assert all(now[call_id].outcome in (facts.WAITING, facts.ANSWERED) for call_id in report.unresolved)
        assert all(now[call_id].ended_at is None for call_id in report.unresolved)
        health = await _pbx_health(site)
        assert (health["status"], health["gap_unresolved"]) == ("degraded", 3)
        assert f'hotline_gap_unresolved{{pbx="{PBX}"}} 3' in health["metrics"]

        mounted.parent.mkdir()
        shutil.copy(site.queue_log, mounted)
        [retried] = await site.runtime.gapfill.retry()
        assert (retried.completed, retried.unresolved) == ({facts.FROM_QUEUE_LOG: 3}, [])
        now = _attempts(site)
        for call_id, outcome in calls.ended_in_gap().items():
            assert now[call_id].outcome == outcome
        health = await _pbx_health(site)
        assert (health["status"], health["gap_unresolved"]) == ("ok", 0)
        assert f'hotline_gap_completions_total{{pbx="{PBX}",source="queue_log"}} 3' in health["metrics"]
        await _finish(site, calls)
    finally:
        await site.stop()


async def test_calls_in_a_queue_only_during_the_gap_are_added_and_reconcile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """F is answered, then blind-transferred into sapa-helpdesk while the link is down (its second
    attempt is lost to AMI); E calls, queues and hangs up entirely inside the gap. After the
    reconnect both come from queue_log as AMI attempts, so the store's KPIs equal the queue_log's."""
    site = await _start(tmp_path)
    url = site.config.store.url
    emulator = site.emulator
    try:
        transferred = emulator.start_call(
            CallScript(
                "081200000006", "Fajar", digits="1", blind_transfer_to_queue=names.QUEUE_SAPA_HELPDESK,
                blind_transfer_at_s=15, caller_hangs_up_after_s=60,
            )
        )  # fmt: skip
        await _until(
            lambda: any(a.outcome == facts.ANSWERED for a in site.runtime.projector.attempts()), "F answered"
        )
        await _drop_link(site)
        unseen = emulator.start_call(
            CallScript("081200000005", "Eka", digits="1", caller_hangs_up_after_s=50)
        )
        f, e = await asyncio.gather(transferred, unseen)
        assert f.queues == ["cc-informasi", names.QUEUE_SAPA_HELPDESK] and e.queues
        await _restore_link(site, _passes(site))
        assert site.runtime.gapfill is not None
        report = site.runtime.gapfill.last_report[PBX]
        assert (report.ended, report.completed, report.added) == (
            1,
            {facts.FROM_QUEUE_LOG: 1},
            {facts.FROM_QUEUE_LOG: 2},
        )
        rows = sorted(site.runtime.projector.attempts(), key=lambda a: (a.call_id, a.attempt))
        assert [(a.call_id, a.attempt, a.queue, a.source, a.completed_from) for a in rows] == sorted(
            [
                (f.uniqueid, 1, "cc-informasi", facts.SOURCE_AMI, facts.FROM_QUEUE_LOG),
                (f.uniqueid, 2, names.QUEUE_SAPA_HELPDESK, facts.SOURCE_AMI, facts.FROM_QUEUE_LOG),
                (e.uniqueid, 1, e.queues[0], facts.SOURCE_AMI, facts.FROM_QUEUE_LOG),
            ]
        )
        # Another drop in which nothing happened: the next resync and a retry add nothing.
        assert site.runtime.eventlog is not None
        await site.runtime.eventlog.flush()
        stored = await _tables(url)
        passes = _passes(site)
        await _drop_link(site)
        await _restore_link(site, passes)
        await site.runtime.gapfill.retry()
        assert site.runtime.gapfill.last_report[PBX].added == {}
        assert site.runtime.gapfill.added_total == {(PBX, facts.FROM_QUEUE_LOG): 2}
        await site.runtime.eventlog.flush()
        assert await _tables(url) == stored
    finally:
        await site.stop()

    whole = tmp_path / "whole_queue_log"
    whole.write_text("".join(line + "\n" for line in site.emulator.queue_log_lines), encoding="utf-8")
    code, out = await asyncio.to_thread(
        _cli, ["kpi", "--reconcile", "--queue-log", str(whole), "--json", "--db", url], capsys
    )
    result = json.loads(out)
    assert (code, result["agree"], result["attempts_compared"]) == (0, True, 3), result
    assert result["ami"]["offered"] == 2

    stored = await _tables(url)
    code, _ = await asyncio.to_thread(_cli, ["rebuild", "--db", url], capsys)
    assert code == 0
    assert await _tables(url) == stored
