"""A long stretch of emulated traffic: the KPIs hotline computes from AMI agree with Asterisk's queue_log.

The emulator plays Poisson arrivals with abandons, ring-no-answers, holds, blind transfers and
queue timeouts through hotline's real FastAGI IVR and AMI client; its queue_log is what app_queue
would have written for the same calls. Every attempt must agree field by field, and so must the KPIs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.config import AgiConfig, Config, EmulatorConfig, HttpConfig, StoreConfig
from hotline.demo import start_demo
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.from_queue_log import parse_queue_log
from hotline.kpi.reconcile import reconcile
from hotline.store import repo


@pytest.mark.slow
async def test_two_emulated_hours_reconcile_with_queue_log(tmp_path: Path) -> None:
    cfg = Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "spool")
        ),
        emulator=EmulatorConfig(agents=6, speed=250.0, seed=20261124),
    )
    emulator, runtime = await start_demo(cfg)
    try:
        async with asyncio.timeout(5):
            while not all(c.status.state == "connected" for c in runtime.ami_clients.values()):
                await asyncio.sleep(0.01)
        results = await emulator.run_traffic(calls_per_second=0.04, duration=2 * 3600)
        assert runtime.eventlog is not None
        await asyncio.sleep(0.5)  # the last events (Cdr, member status) after each call's end
        await runtime.eventlog.flush()
        rows = await repo.load_attempts(runtime.engine, source="ami")
    finally:
        await runtime.stop()
        await emulator.stop()
    outcomes = {r.outcome for r in results}
    assert len(results) >= 150, len(results)
    assert {"answered", "abandoned"} <= outcomes, outcomes
    from_ami = [QueueAttempt(**row) for row in rows]
    from_log = parse_queue_log(emulator.queue_log_lines, pbx=from_ami[0].pbx)
    assert from_log.errors == []
    result = reconcile(from_ami, from_log.attempts)
    assert result.agree, result.as_dict()
    summary = result.as_dict()
    assert summary["ami"]["offered"] >= 150
