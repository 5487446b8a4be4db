"""A running ``hotline serve`` (Runtime) with two PBXs: /health, /metrics and /openapi.json as served.

Jakarta is the Asterisk 22 emulator, Yogyakarta an AMI port nobody listens on: /health must show
each link and the database, /metrics the link states, events, AGI sessions and errors, and the
OpenAPI document every route the application really serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hotline import names
from hotline.compose import Runtime, agi_peers
from hotline.config import AgiConfig, Config, HttpConfig, PbxConfig, Secret, StoreConfig
from hotline.demo import retarget_agi
from hotline.emulator import AgentSpec, AsteriskEmulator, CallScript, EmulatorSettings


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Runtime, Any]]:
    monkeypatch.chdir(tmp_path)  # the recording feature's default folders land in tmp_path/var
    secret = "emulated-ami-secret"
    emulator = AsteriskEmulator(
        EmulatorSettings(
            ami_secret=secret,
            speed=10.0,
            seed=11,
            agents=(AgentSpec("1001", "Siti Rahma"),),
            # Both PBXs are on 127.0.0.1 here, so the peer address cannot name the PBX: the dialplan does.
            agi_script=f"{names.AGI_IVR_MAIN}?pbx=jakarta",
        )
    )
    ami_port = await emulator.start()
    cfg = Config(
        pbx=(
            PbxConfig("jakarta", "jakarta", ami_port=ami_port, ami_secret=Secret(secret)),
            PbxConfig("yogyakarta", "yogyakarta", ami_port=_closed_port(), ami_secret=Secret("x")),
        ),
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(url=f"sqlite+aiosqlite:///{tmp_path}/h.db", spool_dir=str(tmp_path / "spool")),
    )
    runtime = Runtime(cfg)
    await runtime.start()
    retarget_agi(emulator, "127.0.0.1", runtime.agi_port)
    try:
        async with asyncio.timeout(5):
            while runtime.ami_clients["jakarta"].status.state != "connected":
                await asyncio.sleep(0.01)
        yield runtime, emulator
    finally:
        await runtime.stop()
        await emulator.stop()


async def _get(runtime: Runtime, path: str) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{runtime.http_port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body = await (response.json() if path != "/metrics" else response.text())
        return response.status, body


async def test_health_reports_each_pbx_link_and_the_database(running: tuple[Runtime, Any]) -> None:
    runtime, _ = running
    code, health = await _get(runtime, "/health")
    assert code == 200 and health["status"] == "degraded"  # one site down is not the service down
    assert set(health["pbx"]) == {"jakarta", "yogyakarta"}
    assert health["pbx"]["jakarta"]["status"] == "ok"
    assert health["pbx"]["jakarta"]["state"] == "connected"
    yogya = health["pbx"]["yogyakarta"]
    assert yogya["status"] == "down" and "refused" in yogya["detail"].lower()
    assert health["database"]["status"] == "ok" and "sqlite ok" in health["database"]["detail"]


async def test_metrics_show_links_events_agi_sessions_and_errors(running: tuple[Runtime, Any]) -> None:
    runtime, emulator = running
    result = await emulator.place_call(
        CallScript("081234567890", "Śantoso Wibowo", digits="1", caller_hangs_up_after_s=14.0)
    )
    assert result.outcome == "answered"
    # What the IVR learned is kept under the PBX name the AMI side (the screen-pop) looks up.
    assert runtime.call_context is not None
    assert runtime.call_context.peek("jakarta", result.uniqueid), "IVR context not under pbx 'jakarta'"
    code, text = await _get(runtime, "/metrics")
    assert code == 200
    samples = dict(
        (line.rsplit(" ", 1)[0], float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line and not line.startswith("#")
    )
    assert samples['hotline_ami_link_state{pbx="jakarta",state="connected"}'] == 1
    assert samples['hotline_ami_link_state{pbx="yogyakarta",state="connected"}'] == 0
    assert samples['hotline_ami_link_state{pbx="yogyakarta",state="down"}'] == 1
    assert samples['hotline_ami_events_total{pbx="jakarta"}'] > 0
    assert samples['hotline_ami_events_total{pbx="yogyakarta"}'] == 0
    assert samples["hotline_agi_sessions_total"] >= 1 and "hotline_agi_sessions_active" in samples
    for family in ("hotline_agi_errors_total", "hotline_eventlog_write_errors_total"):
        assert f"# TYPE {family} counter" in text
    assert samples["hotline_projection_errors_total"] == 0
    assert samples["hotline_projection_dropped_total"] == 0


def _served(runtime: Runtime) -> set[tuple[str, str]]:
    assert runtime.app is not None
    routes = set()
    for route in runtime.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        assert path, f"a route whose path cannot be read: {route!r}"
        routes.add((route.method, str(path)))
    return routes


async def test_openapi_documents_every_route_that_is_served(running: tuple[Runtime, Any]) -> None:
    runtime, _ = running
    code, document = await _get(runtime, "/openapi.json")
    assert code == 200 and document["openapi"].startswith("3.")
    paths = document["paths"]
    missing = []
    for method, path in sorted(_served(runtime)):
        operations = paths.get(path, {})
        # HEAD is GET without a body (RFC 9110): documenting the GET documents it.
        verb = "get" if method == "HEAD" else method.lower()
        if verb not in operations:
            missing.append(f"{method} {path}")
    assert {"GET /health", "GET /metrics", "GET /openapi.json"}.isdisjoint(missing)
    assert missing == [], "served but not in /openapi.json"
    # Nothing documented that is not served either (a renamed route must not leave a stale entry).
    served_paths = {path for _, path in _served(runtime)}
    assert set(paths) <= served_paths


def test_agi_peers_never_gives_a_call_the_wrong_pbx() -> None:
    pbxs = (
        PbxConfig("jakarta", "jakarta", ami_host="10.1.0.5"),
        PbxConfig("yogyakarta", "yogyakarta", ami_host="10.2.0.5"),
        PbxConfig("jakarta-2", "jakarta", ami_host="10.1.0.9"),
        PbxConfig("lab-a", "lab", ami_host="127.0.0.1"),
        PbxConfig("lab-b", "lab", ami_host="127.0.0.1"),
    )
    peers = agi_peers(Config(pbx=pbxs))
    assert peers == {"10.1.0.5": "jakarta", "10.2.0.5": "yogyakarta", "10.1.0.9": "jakarta-2"}
