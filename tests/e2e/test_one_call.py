"""One emulated call end to end: IVR over FastAGI, queue, agent, screen-pop, SCR and AHT.

Everything runs through the code paths a real Asterisk 22 drives: the emulator serves
AMI and connects to hotline's FastAGI server over TCP; the KPIs come from the store
through the ``hotline kpi`` command.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hotline.cli import main
from hotline.config import AgiConfig, Config, EmulatorConfig, HttpConfig, StoreConfig
from hotline.demo import start_demo
from hotline.emulator import CallScript
from hotline.tokens import TokenSigner


def _config(tmp_path: Path, agents: int = 1) -> Config:
    return Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "spool")
        ),
        emulator=EmulatorConfig(agents=agents, speed=10.0, seed=7),
    )


async def _wait_connected(runtime: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not all(c.status.state == "connected" for c in runtime.ami_clients.values()):
            await asyncio.sleep(0.01)


async def _next_of_type(
    ws: aiohttp.ClientWebSocketResponse, wanted: str, timeout: float = 5.0
) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive_json()
            if message.get("type") == wanted:
                return dict(message)


async def _kpi_json(db_url: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["kpi", "--json", "--db", db_url, "--log-level", "error"])
    out = capsys.readouterr().out
    assert code == 0, out
    return dict(json.loads(out))


async def test_one_call_through_ivr_queue_agent_pop_and_kpis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path)
    emulator, runtime = await start_demo(cfg)
    try:
        await _wait_connected(runtime)
        token = TokenSigner.from_config(runtime.config).issue("1001", "agent", iface="PJSIP/1001")
        url = f"http://127.0.0.1:{runtime.http_port}/cti/ws?token={token}"
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            call = emulator.start_call(
                CallScript(
                    "081234567890",
                    "Śantoso Wibowo",
                    digits="1",
                    caller_hangs_up_after_s=14.0,
                    hold_at_s=3.0,
                    hold_len_s=3.0,
                )
            )
            pop = await _next_of_type(ws, "call.ringing")
            result = await call
        assert pop["caller"]["number"] == "081234567890"
        assert pop["caller"]["name"] == "Śantoso Wibowo"
        assert pop["ivr"]["choice"] == "informasi"
        assert pop["queue"] == "cc-informasi"
        assert result.outcome == "answered", result
        assert runtime.eventlog is not None
        await runtime.eventlog.flush()
    finally:
        await emulator.stop()
        await runtime.stop()

    kpis = await _kpi_json(cfg.store.url, capsys)
    assert kpis["offered"] == 1
    assert kpis["answered"] == 1
    assert kpis["abandoned"] == 0
    assert kpis["scr"] == 100.0
    # Asterisk's TalkTime (whole seconds, answer to hangup) already includes the 3 s on hold, and
    # is what app_queue writes as COMPLETECALLER's calltime: AHT must be exactly that, not more.
    [complete] = [line for line in emulator.queue_log_lines if "|COMPLETE" in line]
    assert kpis["aht"] == float(complete.split("|")[6])
    assert kpis["aht"] >= 3.0
    assert 2.5 <= kpis["hold_total"] <= 3.5
    assert kpis["talk_total"] + kpis["hold_total"] == pytest.approx(kpis["aht"], abs=0.11)
    assert kpis["asa"] is not None and kpis["asa"] <= 3.0


async def test_caller_hanging_up_in_the_menu_is_not_offered_and_nothing_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path)
    emulator, runtime = await start_demo(cfg)
    try:
        await _wait_connected(runtime)
        hung = await emulator.place_call(
            CallScript("081200001111", "Rudi Hartono", digits="", hangup_during_ivr_at_s=2.5)
        )
        answered = await emulator.place_call(
            CallScript("081211112222", "Wahyu Nugroho", digits="1", caller_hangs_up_after_s=30.0)
        )
        assert hung.outcome != "answered"
        assert answered.outcome == "answered"
        assert runtime.eventlog is not None
        appended = runtime.eventlog.stats()["appended_total"]
        await runtime.eventlog.flush()
        # Everything appended before the flush is committed (events may still arrive meanwhile).
        assert runtime.eventlog.stats()["written_total"] >= appended > 0
    finally:
        await emulator.stop()
        await runtime.stop()
    kpis = await _kpi_json(cfg.store.url, capsys)
    assert (kpis["offered"], kpis["answered"]) == (1, 1)


async def test_restart_mid_call_still_completes_the_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hotline restarts while an agent talks: the new process replays the recent event log into its
    projector, so the call's AgentComplete still closes the attempt with its handling time."""
    from hotline.compose import Runtime
    from hotline.demo import retarget_agi

    cfg = _config(tmp_path)
    emulator, runtime = await start_demo(cfg)
    second: Runtime | None = None
    try:
        await _wait_connected(runtime)
        call = emulator.start_call(
            CallScript("081234567890", "Śantoso Wibowo", digits="1", caller_hangs_up_after_s=30.0)
        )
        async with asyncio.timeout(10):
            while not any(a.outcome == "answered" for a in runtime.projector.attempts()):
                await asyncio.sleep(0.01)
        await runtime.stop()
        second = Runtime(runtime.config)
        await second.start()
        retarget_agi(emulator, cfg.agi.host, second.agi_port)
        assert any(a.outcome == "answered" for a in second.projector.attempts())
        await _wait_connected(second)
        result = await call
        assert result.outcome == "answered"
        assert second.eventlog is not None
        async with asyncio.timeout(10):
            while not any(a.handle_s for a in second.projector.attempts()):
                await asyncio.sleep(0.01)
        await second.eventlog.flush()
    finally:
        await emulator.stop()
        if second is not None:
            await second.stop()
    kpis = await _kpi_json(cfg.store.url, capsys)
    assert (kpis["offered"], kpis["answered"]) == (1, 1)
    [complete] = [line for line in emulator.queue_log_lines if "|COMPLETE" in line]
    assert kpis["aht"] == float(complete.split("|")[6]) > 0
