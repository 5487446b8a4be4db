"""Bad input at the service's doors never costs another call or a stored event."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from hotline.config import AgiConfig, Config, EmulatorConfig, HttpConfig, StoreConfig
from hotline.demo import start_demo
from hotline.emulator import CallScript


def _config(tmp_path: Path) -> Config:
    return Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "spool")
        ),
        emulator=EmulatorConfig(agents=2, speed=10.0, seed=3),
    )


async def _send_and_close(port: int, payload: bytes) -> bytes:
    """Play a broken Asterisk: send ``payload``, then read what hotline answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(5):
            return await reader.read()
    except ConnectionResetError:
        return b""  # hotline hung up on a peer still sending garbage: that is the point
    finally:
        writer.close()


async def _connected(runtime: Any) -> None:
    async with asyncio.timeout(5):
        while not all(c.status.state == "connected" for c in runtime.ami_clients.values()):
            await asyncio.sleep(0.01)


async def test_garbage_on_the_agi_port_does_not_disturb_calls(tmp_path: Path) -> None:
    emulator, runtime = await start_demo(_config(tmp_path))
    try:
        await _connected(runtime)
        port = runtime.agi_port
        call = emulator.start_call(
            CallScript("081234567890", "Śantoso Wibowo", digits="1", caller_hangs_up_after_s=6.0)
        )
        abusers = await asyncio.gather(
            _send_and_close(
                port, b"agi_network: yes\nagi_network_script: ivr/main\n"
            ),  # closes before blank line
            _send_and_close(port, b"\xff\xfe\x00garbage\n\n"),
            _send_and_close(port, b"agi_request: " + b"x" * 1_000_000 + b"\n\n"),
            _send_and_close(port, b"agi_network_script: no/such/script\nagi_uniqueid: 1.1\n\n"),
        )
        result = await call
        assert result.outcome == "answered"
        # The unknown script was told so, as the dialplan expects (and nothing else was sent to garbage).
        assert b"SET VARIABLE HOTLINE_STATUS NOROUTE" in abusers[3]
        assert runtime.agi_server is not None
        errors = runtime.agi_server.stats.errors_total
        assert sum(errors.values()) >= 3, errors
        assert runtime.eventlog is not None
        appended = runtime.eventlog.stats()["appended_total"]
        await runtime.eventlog.flush()
        # Everything appended before the flush is committed (events may still arrive meanwhile).
        assert runtime.eventlog.stats()["written_total"] >= appended > 0
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{runtime.http_port}/health") as response:
                health = await response.json()
            async with http.get(f"http://127.0.0.1:{runtime.http_port}/metrics") as response:
                metrics = await response.text()
        assert health["status"] == "ok", health
        assert 'hotline_ami_link_state{pbx="demo-jakarta",state="connected"} 1' in metrics
        assert "hotline_agi_errors_total" in metrics
    finally:
        await emulator.stop()
        await runtime.stop()
