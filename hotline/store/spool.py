"""The spool: events the database could not take yet, kept as fsynced JSON lines until it can.

One file per spill, named so that sorting the names gives the order they were written; a file is
removed only after every one of its events is committed. A line cut short by a crash while it was
being written is skipped with a warning (its event had not been reported durable).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.logs import get_logger
from hotline.store.events import PendingRow

log = get_logger("hotline.store.spool")

SPOOL_GLOB = "events-*.jsonl"


def _write_lines(path: Path, lines: list[dict[str, Any]]) -> None:
    temporary = path.with_suffix(".partial")
    with temporary.open("w", encoding="utf-8") as file:
        for params in lines:
            # ensure_ascii: a value the database refused as text still round-trips through the file.
            file.write(json.dumps(params) + "\n")
        file.flush()
        os.fsync(file.fileno())
    # The rename makes the file appear whole or not at all; the directory fsync makes the rename durable.
    temporary.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass
class Spool:
    """A folder of spilled events. Blocking file IO: call it through ``asyncio.to_thread``."""

    directory: Path
    _counter: int = field(default=0, init=False)

    def files(self) -> list[Path]:
        """Spilled files, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(SPOOL_GLOB))

    def _next_path(self, prefix: str) -> Path:
        self._counter += 1
        return self.directory / f"{prefix}-{time.time_ns():020d}-{self._counter:06d}.jsonl"

    def spill(self, rows: list[PendingRow]) -> Path:
        """Write ``rows`` durably to a new file and return it (OSError if the disk refuses)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._next_path("events")
        _write_lines(path, [row.params for row in rows])
        return path

    def reject(self, row: PendingRow, reason: str) -> Path:
        """Keep an event the database refuses as data (never replayed automatically)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._next_path("rejected")
        _write_lines(path, [{**row.params, "error": reason}])
        return path

    @staticmethod
    def read(path: Path) -> list[PendingRow]:
        rows: list[PendingRow] = []
        with path.open(encoding="utf-8") as file:
            for number, line in enumerate(file, 1):
                try:
                    rows.append(PendingRow.from_params(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    log.warning("spool line unreadable, skipped", file=str(path), line=number)
        return rows

    @staticmethod
    def count(path: Path) -> int:
        with path.open("rb") as file:
            return sum(1 for _ in file)

    @staticmethod
    def remove(path: Path) -> None:
        path.unlink(missing_ok=True)
