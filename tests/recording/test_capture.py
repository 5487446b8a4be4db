"""Capture end to end: the emulated Asterisk records into a temporary spool, hotline archives and indexes.

The emulator plays the shipped dialplan's MixMonitor rule (``<site>/<YYYY/MM/DD>/<uniqueid>.wav``)
and, like Asterisk 22 without StopMixMonitor, sends no MixMonitorStop at hangup.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from hotline.compose import Runtime
from hotline.config import PbxConfig, Secret
from hotline.demo import retarget_agi
from hotline.emulator import AsteriskEmulator, CallScript, EmulatorSettings
from recording import RecordingFeature, repo
from recording.tables import recording as recording_table
from tests.recording.conftest import add_users, base_config

pytestmark = pytest.mark.timeout(60)


@dataclasses.dataclass
class Stack:
    emulator: AsteriskEmulator
    runtime: Runtime
    spool: Path
    archive: Path


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    spool = tmp_path / "spool"
    emulator = AsteriskEmulator(
        EmulatorSettings(ami_port=0, ami_secret="s3cret", speed=40.0, seed=3, recording_dir=str(spool))
    )
    ami_port = await emulator.start()
    pbx = PbxConfig("jkt", "jakarta", ami_port=ami_port, ami_secret=Secret("s3cret"))
    config = dataclasses.replace(base_config(tmp_path), pbx=(pbx,))
    runtime = Runtime(config, features=[RecordingFeature()])
    await runtime.start()
    await add_users(runtime.engine)
    retarget_agi(emulator, "127.0.0.1", runtime.agi_port)
    async with asyncio.timeout(5):
        while runtime.ami_clients["jkt"].status.state != "connected":
            await asyncio.sleep(0.01)
    try:
        yield Stack(emulator, runtime, spool, tmp_path / "archive")
    finally:
        await emulator.stop()
        await runtime.stop()


async def _rows(runtime: Runtime) -> list[dict[str, Any]]:
    async with runtime.engine.connect() as connection:
        return [dict(r) for r in (await connection.execute(sa.select(recording_table))).mappings()]


async def _settled(runtime: Runtime, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    async with asyncio.timeout(timeout):
        while True:
            rows = await _rows(runtime)
            if len(rows) >= count and all(r["status"] not in ("recording", "ended") for r in rows):
                return rows
            await asyncio.sleep(0.02)


async def test_answered_call_is_archived_with_checksum_duration_agent_and_talk(stack: Stack) -> None:
    result = await stack.emulator.place_call(
        CallScript(
            "081234567890",
            "Śantoso Wibowo",
            digits="1",
            caller_hangs_up_after_s=14,
            hold_at_s=3,
            hold_len_s=3,
        )
    )
    # Only the recording feature runs (no IVR route): the dialplan's fallback queue takes the call.
    assert result.outcome == "answered" and result.queues == ["cc-umum"]
    [row] = await _settled(stack.runtime, 1)
    assert row["status"] == "archived", row["problem"]
    assert (row["call_id"], row["uniqueid"], row["pbx"], row["site"]) == (result.uniqueid,) * 2 + (
        "jkt",
        "jakarta",
    )
    assert (row["queue"], row["agent"], row["agent_name"], row["team"]) == (
        "cc-umum",
        "1001",
        "Siti Rahma",
        "alpha",
    )
    assert row["caller_number"] == "081234567890" and row["direction"] == "inbound"
    assert row["hold_s"] == pytest.approx(3.0, abs=0.5) and row["talk_s"] > 0
    archived = stack.archive / row["file_path"]
    assert row["file_path"].startswith("jakarta/") and row["file_path"].endswith(
        f"/{result.uniqueid}/{result.uniqueid}.wav"
    )
    data = archived.read_bytes()
    assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["size_bytes"] == len(data)
    assert row["duration_s"] == pytest.approx(2.0) and row["format"] == "wav" and row["problem"] is None
    # Moved, not copied: the spool keeps nothing of a finished call.
    assert [p for p in stack.spool.rglob("*") if p.is_file()] == []


async def test_blind_transfer_and_an_abandon_each_stay_one_row(stack: Stack) -> None:
    transferred = stack.emulator.start_call(
        CallScript(
            "081355556666", "Putri Ayu", digits="1", blind_transfer_to_queue="sapa-helpdesk", default_talk_s=8
        )
    )
    abandoned = stack.emulator.start_call(
        CallScript(
            "081266667777",
            "Yusuf Hidayat",
            digits="2",
            patience_s=1.0,
            agent_ring_s={"1001": None, "1002": None, "1003": None},
        )
    )
    first, second = await asyncio.gather(transferred, abandoned)
    assert first.queues == ["cc-umum", "sapa-helpdesk"] and second.outcome == "abandoned"
    rows = {r["call_id"]: r for r in await _settled(stack.runtime, 2)}
    assert len(rows) == 2
    moved = rows[first.uniqueid]
    assert moved["status"] == "archived" and moved["queue"] == "cc-umum"
    # Option b: nobody answered, so no file is expected and the row says so instead of "missing".
    gone = rows[second.uniqueid]
    assert (gone["status"], gone["file_path"], gone["agent"]) == ("unanswered", None, None)


async def test_a_file_that_never_appears_is_flagged_missing_not_dropped(stack: Stack) -> None:
    # The spool of this PBX is somewhere the emulator does not write: every answered call goes missing.
    feature = stack.runtime.features[0]
    assert isinstance(feature, RecordingFeature) and feature.collector is not None
    feature.collector.settings = dataclasses.replace(
        feature.collector.settings, spool_dirs={"jkt": stack.spool.parent / "elsewhere"}
    )
    await stack.emulator.place_call(CallScript("081234567890", digits="1", caller_hangs_up_after_s=6))
    [row] = await _settled(stack.runtime, 1)
    assert row["status"] == "missing" and "no file after" in row["problem"] and row["agent"] == "1001"
    assert feature.collector.flagged == 1


async def test_mute_over_the_api_is_stored_as_an_interval(stack: Stack) -> None:
    runtime = stack.runtime
    call = stack.emulator.start_call(CallScript("081234567890", digits="1", caller_hangs_up_after_s=20))
    async with asyncio.timeout(5):
        while not (rows := await _rows(runtime)) or rows[0]["agent"] is None:
            await asyncio.sleep(0.02)
    rec_id = rows[0]["id"]
    assert runtime.signer is not None
    agent = runtime.signer.issue("1001", "agent", extra={"team": "alpha"}, iface="PJSIP/1001")
    other = runtime.signer.issue("1002", "agent", extra={"team": "beta"}, iface="PJSIP/1002")
    url = f"http://127.0.0.1:{runtime.http_port}/api/recordings/{rec_id}/mute"
    async with aiohttp.ClientSession() as http:
        for token, muted, status in ((other, True, 403), (agent, True, 200), (agent, False, 200)):
            async with http.post(
                url, json={"muted": muted}, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                assert response.status == status, await response.text()
        async with http.post(
            url, json={"muted": "yes"}, headers={"Authorization": f"Bearer {agent}"}
        ) as response:
            assert response.status == 400
    await call
    await _settled(runtime, 1)
    mutes = await repo.mutes(runtime.engine, rec_id)
    # The API's own record and the MixMonitorMute event of the same mute make one interval.
    assert len(mutes) == 1 and mutes[0]["unmuted_at"] >= mutes[0]["muted_at"]
