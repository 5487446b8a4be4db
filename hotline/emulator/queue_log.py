"""queue_log writer: the same ``epoch|callid|queue|agent|event|data...`` lines app_queue writes.

Lines are kept in memory (``lines``) and, if a path is given, appended to a file so
that KPI reconciliation can read the emulator's queue_log like a real one.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from hotline.logs import get_logger

_log = get_logger(__name__)


class QueueLog:
    def __init__(self, path: str | None = None, keep: int = 200_000) -> None:
        self.lines: deque[str] = deque(maxlen=keep)
        """The last ``keep`` lines (a demo runs for days; the file, if any, has them all)."""
        self._path = Path(path) if path else None
        self._failed = False

    def write(self, instant: float, callid: str, queue: str, agent: str, event: str, *data: object) -> str:
        line = f"{int(instant)}|{callid}|{queue}|{agent}|{event}|{'|'.join(str(d) for d in data)}"
        self.lines.append(line)
        if self._path is not None and not self._failed:
            try:
                with self._path.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
            except OSError as exc:
                # One clear line, then memory only: a full disk must not stop the emulated calls.
                self._failed = True
                _log.error("emulator.queue_log_write_failed", path=str(self._path), error=exc.strerror)
        return line

    def for_call(self, callid: str) -> list[str]:
        return [line for line in self.lines if line.split("|", 2)[1] == callid]
