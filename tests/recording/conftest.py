"""Fixtures of the recording tests: settings, users, a running hotline.

The databases on both backends (``engine``, ``db_url``, ``pg_url``) come from tests/pg_support.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import zoneinfo
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.model import NewUser
from hotline.auth.passwords import hash_password
from hotline.auth.users import create_user
from hotline.compose import Runtime
from hotline.config import AgiConfig, Config, HttpConfig, RecordingConfig, StoreConfig
from recording import RecordingFeature
from recording.settings import RecordingSettings

PASSWORD = "correct horse battery"
USERS = (
    NewUser("1001", "Siti Rahma", "agent", team="alpha", iface="PJSIP/1001"),
    NewUser("1002", "Budi Santoso", "agent", team="beta", iface="PJSIP/1002"),
    NewUser("tl.alpha", "Ani Suryani", "team_leader", team="alpha"),
    NewUser("tl.beta", "Joko Susilo", "team_leader", team="beta"),
    NewUser("qc.dewi", "Dewi Anggraini", "qc"),
    NewUser("qa.eko", "Eko Saputra", "qa"),
    NewUser("admin", "Admin", "admin"),
)


def recording_config(tmp_path: Path, **changes: Any) -> RecordingConfig:
    """[recording] with every folder in the test's temporary folder and quick timings."""
    values: dict[str, Any] = {
        "spool_dirs": str(tmp_path / "spool"),
        "archive_dir": str(tmp_path / "archive"),
        "cache_dir": str(tmp_path / "cache"),
        "settle_s": 0.05,
        "missing_grace_s": 1.0,
        "scan_interval_s": 0.02,
    }
    values.update(changes)
    return RecordingConfig(**values)


@pytest.fixture
def settings(tmp_path: Path) -> RecordingSettings:
    """Settings for one PBX 'jakarta' (site jakarta), folders under tmp_path."""
    return RecordingSettings(
        spool_dirs={"jakarta": tmp_path / "spool"},
        sites={"jakarta": "jakarta"},
        archive_dir=tmp_path / "archive",
        cache_dir=tmp_path / "cache",
        timezone=zoneinfo.ZoneInfo("Asia/Jakarta"),
        retention_per_queue={"cc-pengaduan": 730},
        settle_s=0.05,
        missing_grace_s=1.0,
    )


async def add_users(engine: AsyncEngine) -> None:
    password_hash = await asyncio.to_thread(hash_password, PASSWORD)
    for user in USERS:
        await create_user(engine, user, password_hash)


def base_config(tmp_path: Path, db_url: str | None = None, **recording: Any) -> Config:
    return Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=db_url or f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "evspool")
        ),
        recording=recording_config(tmp_path, **recording),
    )


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """hotline with only the recording feature, on free ports, users created (no PBX)."""
    rt = Runtime(base_config(tmp_path), features=[RecordingFeature()])
    await rt.start()
    await add_users(rt.engine)
    try:
        yield rt
    finally:
        await rt.stop()


def with_recording(config: Config, **changes: Any) -> Config:
    return dataclasses.replace(config, recording=dataclasses.replace(config.recording, **changes))
