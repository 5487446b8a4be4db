"""Fixtures of the QC tests: databases on both backends with users, and a running hotline with QC.

The databases themselves (``engine``, ``db_url``, ``pg_url``) come from tests/pg_support.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.compose import Runtime
from tests.qc.helpers import add_users, qc_config, qc_runtime


@pytest.fixture
async def engine(engine: AsyncEngine) -> AsyncEngine:
    """The shared migrated engine on each backend, with the test users."""
    await add_users(engine)
    return engine


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """hotline with the recording feature and QC on free ports (SQLite), users created."""
    rt = await qc_runtime(qc_config(tmp_path))
    try:
        yield rt
    finally:
        await rt.stop()
