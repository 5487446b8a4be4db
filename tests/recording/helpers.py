"""Seeding recordings (rows and archived files) and talking to a running hotline over HTTP."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.compose import Runtime
from recording.tables import recording
from recording.wav import write_tone

TEAMS = {"1001": "alpha", "1002": "beta"}


def wav_bytes(seconds: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    write_tone(buffer, seconds)
    return buffer.getvalue()


async def seed(
    engine: AsyncEngine,
    archive: Path | None,
    n: int,
    *,
    agent: str = "1001",
    write_file: bool = True,
    **values: Any,
) -> int:
    """One recording row numbered ``n`` (and its file in ``archive``); returns its id."""
    data = wav_bytes(1.0 + n % 3)
    relpath = f"jakarta/2026/11/24/call{n}/call{n}.wav"
    if archive is not None and write_file:
        target = archive / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    row = {
        "pbx": "jkt",
        "site": "jakarta",
        "call_id": f"call{n}",
        "uniqueid": f"call{n}",
        "channel": f"PJSIP/provider-{n:08x}",
        "direction": "inbound",
        "queue": "cc-informasi",
        "agent": agent,
        "agent_name": "Siti Rahma",
        "team": TEAMS.get(agent),
        "caller_number": f"0812345678{n:02d}",
        "started_at": 1_795_500_000.0 + n * 60,
        "ended_at": 1_795_500_000.0 + n * 60 + 30,
        "duration_s": 1.0 + n % 3,
        "status": "archived",
        "file_path": relpath,
        "format": "wav",
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "updated_at": time.time(),
    }
    row.update(values)
    async with engine.begin() as connection:
        result = await connection.execute(sa.insert(recording).values(row).returning(recording.c.id))
        return int(result.scalar_one())


def token(runtime: Runtime, username: str, role: str, team: str | None = None) -> str:
    assert runtime.signer is not None
    return runtime.signer.issue(username, role, extra={"team": team} if team else None)


class Client:
    """GET/POST to the runtime with one user's bearer token; returns (status, headers, body bytes)."""

    def __init__(self, runtime: Runtime, bearer: str | None) -> None:
        self.base = f"http://127.0.0.1:{runtime.http_port}"
        self.headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}

    async def get(self, path: str, **headers: str) -> tuple[int, Any, bytes]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(self.base + path, headers={**self.headers, **headers}) as response,
        ):
            return response.status, response.headers, await response.read()

    async def post(self, path: str, body: Any) -> tuple[int, Any, bytes]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.base + path, json=body, headers=self.headers) as response,
        ):
            return response.status, response.headers, await response.read()
