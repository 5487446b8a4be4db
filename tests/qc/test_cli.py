"""``hotline qc ...`` from the shell, and the daily draw of the running service."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hotline.config import Config, ConfigError, StoreConfig
from hotline.store import create_engine, migrate
from recording.qc import cli_commands
from recording.qc.calls import list_sample
from recording.qc.scheduler import DailySampler
from tests.qc.helpers import MONDAY, TZ, add_users, qc_config, qc_runtime, seed_traffic, settings


def _args(*argv: str) -> argparse.Namespace:
    (command,) = cli_commands()
    parser = argparse.ArgumentParser(prog=f"hotline {command.name}")
    command.add_arguments(parser)
    return parser.parse_args(argv)


async def _run(config: Config, *argv: str) -> int:
    (command,) = cli_commands()
    result: int = await command.run(config, _args(*argv))
    return result


@pytest.fixture
async def config(tmp_path: Path) -> Config:
    url = f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
    engine = create_engine(url)
    await migrate(engine)
    await add_users(engine)
    await seed_traffic(engine, MONDAY - timedelta(days=14), 14)
    await engine.dispose()
    return Config(store=StoreConfig(url=url))


async def test_sample_prints_a_summary_and_report_writes_csv(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _run(config, "sample", "--date", MONDAY.isoformat()) == 0
    out = capsys.readouterr().out
    assert "QC sample of 2026-11-23 (calls from Fri 2026-11-20 00:00 to Mon 2026-11-23 00:00)" in out
    assert "peak intervals: 09:00-10:00, 10:00-11:00, 11:00-12:00" in out
    assert "drawn: 15 calls for 3 agents (9 peak, 6 off-peak)" in out
    assert await _run(config, "sample", "--date", MONDAY.isoformat(), "--format", "json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["drawn"] == 0 and again["already_sampled"] == ["1001", "1002", "1003"]
    target = tmp_path / "qm.csv"
    assert (
        await _run(
            config,
            "report",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "csv",
            "--output",
            str(target),
        )
        == 0
    )
    assert target.read_text().startswith("agent,agent_name,team,period")
    assert await _run(config, "report", "--from", "2026-11-01", "--to", "2026-11-30") == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("agent")  # a header, no scores yet
    assert await _run(config, "calibrate") == 0
    assert json.loads(capsys.readouterr().out)["team_leaders"] == {}
    with pytest.raises(ConfigError, match="--date"):
        await _run(config, "sample", "--date", "23/11/2026")


async def test_the_service_draws_the_day_on_start_when_it_is_past_sample_time(tmp_path: Path) -> None:
    # auto_sample on: the service's own sampler starts and stops with it (today's draw, if any, is
    # idempotent with the one below).
    runtime = await qc_runtime(qc_config(tmp_path, auto_sample=True))
    try:
        await seed_traffic(runtime.engine, MONDAY - timedelta(days=7), 7)
        monday_noon = datetime(2026, 11, 23, 12, 0, tzinfo=TZ).timestamp()
        sampler = DailySampler(runtime.engine, settings(), clock=lambda: monday_noon)
        await sampler.start()
        async with asyncio.timeout(5):
            while not await list_sample(runtime.engine, MONDAY):
                await asyncio.sleep(0.02)
        await sampler.stop()
        assert len(await list_sample(runtime.engine, MONDAY)) == 15
        # Sunday: not a working day, nothing is due until Monday 06:00.
        sunday = DailySampler(runtime.engine, settings(), clock=lambda: monday_noon - 86_400)
        assert not sunday._due_today()
    finally:
        await runtime.stop()
