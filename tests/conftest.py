"""Suite-wide fixtures."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

# The database fixtures every folder shares (pg_server, pg_url, sqlite_url, db_url, engine).
pytest_plugins = ["tests.pg_support"]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Put structlog and the stdlib root logger back as they were (the CLI reconfigures both)."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
