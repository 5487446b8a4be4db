"""Test data for QC: users, a week of queue traffic with a clear peak, a running hotline, HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import aiohttp
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.model import NewUser
from hotline.auth.passwords import hash_password
from hotline.auth.users import create_user
from hotline.compose import Runtime
from hotline.config import AgiConfig, Config, HttpConfig, QcConfig, RecordingConfig, StoreConfig
from hotline.feature import CliCommand, Services
from hotline.store.repo import upsert_attempts
from recording import RecordingFeature, qc
from recording.qc.settings import QcSettings
from recording.tables import recording
from recording.wav import write_tone

TZ: Final = ZoneInfo("Asia/Jakarta")
PASSWORD: Final = "correct horse battery"
USERS: Final = (
    NewUser("1001", "Siti Rahma", "agent", team="alpha", iface="PJSIP/1001"),
    NewUser("1002", "Budi Santoso", "agent", team="alpha", iface="PJSIP/1002"),
    NewUser("1003", "Citra Lestari", "agent", team="beta", iface="PJSIP/1003"),
    NewUser("tl.alpha", "Ani Suryani", "team_leader", team="alpha"),
    NewUser("tl.beta", "Joko Susilo", "team_leader", team="beta"),
    NewUser("qc.dewi", "Dewi Anggraini", "qc"),
    NewUser("qa.eko", "Eko Saputra", "qa"),
    NewUser("admin", "Admin", "admin"),
)
AGENTS: Final = {"1001": "Siti Rahma", "1002": "Budi Santoso", "1003": "Citra Lestari"}
HOURLY: Final = {9: 8, 10: 9, 11: 7, 14: 6, 15: 3, 8: 2, 13: 2, 16: 2, 19: 1, 21: 1}
"""Calls per hour of each day: 09-12 and 14 carry most of them (the peak)."""
MONDAY: Final = date(2026, 11, 23)
"""A Monday: its sample covers Friday 20 to Sunday 22."""


async def add_users(engine: AsyncEngine) -> None:
    password_hash = await asyncio.to_thread(hash_password, PASSWORD)
    for user in USERS:
        await create_user(engine, user, password_hash)


def attempt(pbx: str, n: int, at: float, agent: str | None, **changes: Any) -> dict[str, Any]:
    """One answered queue attempt (AMI source) of call ``n`` entering at ``at``."""
    row: dict[str, Any] = {
        "pbx": pbx,
        "call_id": f"{pbx}-{n}.1",
        "attempt": 1,
        "source": "ami",
        "queue": "cc-informasi",
        "linkedid": f"{pbx}-{n}.1",
        "caller_number": f"0812{n:08d}",
        "entered_at": at,
        "position": 1,
        "outcome": "answered" if agent else "abandoned",
        "ended_at": at + 200,
        "wait_s": 8.0,
        "agent": AGENTS.get(agent or "", agent),
        "agent_interface": f"PJSIP/{agent}" if agent else None,
        "connected_at": at + 8 if agent else None,
        "handle_s": 180.0 if agent else None,
        "hold_s": 0.0 if agent else None,
        "completed_by": "agent" if agent else None,
        "transfer_target": None,
        "ring_no_answer": 0,
    }
    row.update(changes)
    return row


def traffic(first: date, days: int, pbx: str = "jkt") -> list[dict[str, Any]]:
    """``days`` days of calls from ``first``: HOURLY calls per hour, agents in turn, 1 in 10 abandoned."""
    rows = []
    agents = list(AGENTS)
    n = 0
    for offset in range(days):
        day = first + timedelta(days=offset)
        for hour, count in HOURLY.items():
            for k in range(count):
                n += 1
                at = datetime(day.year, day.month, day.day, hour, (k * 7) % 60, tzinfo=TZ).timestamp()
                agent = None if n % 10 == 0 else agents[n % len(agents)]
                rows.append(attempt(pbx, n, at, agent))
    return rows


async def seed_traffic(engine: AsyncEngine, first: date, days: int) -> list[dict[str, Any]]:
    rows = traffic(first, days)
    await upsert_attempts(engine, rows)
    return rows


def settings(**changes: Any) -> QcSettings:
    base = QcSettings.from_config(Config(qc=QcConfig(auto_sample=False)))
    return dataclasses.replace(base, **changes)


async def seed_recording(engine: AsyncEngine, archive: Path, call_key: str, agent: str, team: str) -> int:
    """An archived recording of ``call_key`` with one second of tone on disk; returns its id."""
    buffer = io.BytesIO()
    write_tone(buffer, 1.0)
    data = buffer.getvalue()
    relpath = f"jakarta/2026/11/20/{call_key}/{call_key}.wav"
    (archive / relpath).parent.mkdir(parents=True, exist_ok=True)
    (archive / relpath).write_bytes(data)
    row = {
        "pbx": "jkt",
        "site": "jakarta",
        "call_id": call_key,
        "uniqueid": call_key,
        "channel": "PJSIP/provider-00000001",
        "direction": "inbound",
        "queue": "cc-informasi",
        "agent": agent,
        "team": team,
        "caller_number": "081234567890",
        "started_at": time.time() - 3600,
        "duration_s": 1.0,
        "status": "archived",
        "file_path": relpath,
        "format": "wav",
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "updated_at": time.time(),
    }
    async with engine.begin() as connection:
        result = await connection.execute(sa.insert(recording).values(row).returning(recording.c.id))
        return int(result.scalar_one())


class QcWiring:
    """A feature that only wires QC (unless the recording feature already did)."""

    name = "qc-test"

    def cli_commands(self) -> list[CliCommand]:
        return []

    def setup(self, services: Services) -> None:
        if "qc-page" not in services.web.router.named_resources():
            qc.setup(services)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def qc_config(tmp_path: Path, **changes: Any) -> Config:
    return Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "evspool")
        ),
        recording=RecordingConfig(
            spool_dirs=str(tmp_path / "spool"),
            archive_dir=str(tmp_path / "archive"),
            cache_dir=str(tmp_path / "cache"),
        ),
        qc=QcConfig(**{"auto_sample": False, **changes}),
    )


async def qc_runtime(config: Config) -> Runtime:
    runtime = Runtime(config, features=[RecordingFeature(ffmpeg=None), QcWiring()])
    await runtime.start()
    await add_users(runtime.engine)
    return runtime


def token(runtime: Runtime, username: str, role: str, team: str | None = None) -> str:
    assert runtime.signer is not None
    return runtime.signer.issue(username, role, extra={"team": team} if team else None)


class Client:
    """Requests to the runtime as one user; returns (status, parsed JSON or text)."""

    def __init__(self, runtime: Runtime, bearer: str | None) -> None:
        self.base = f"http://127.0.0.1:{runtime.http_port}"
        self.headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, self.base + path, json=body, headers=self.headers) as response,
        ):
            if "json" in response.headers.get("Content-Type", ""):
                return response.status, await response.json()
            return response.status, await response.text()

    async def get(self, path: str) -> tuple[int, Any]:
        return await self.call("GET", path)

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        return await self.call("POST", path, body)
