"""A text progress bar on stderr for the reports of long ranges (a month of a big centre)."""

from __future__ import annotations

import sys
from typing import TextIO

_WIDTH = 30


class Progress:
    """``label [#######.......] 12/31``, redrawn in place on a terminal.

    On a pipe or a log file it prints a plain line at each quarter instead, so a cron job's
    mail holds four lines, not thousands of carriage returns.
    """

    def __init__(self, label: str, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._quarter = -1
        self._done = 0

    def update(self, done: int) -> None:
        """Show that ``done`` of ``total`` steps are finished."""
        if not self.enabled:
            return
        self._done = min(max(done, 0), self.total)
        if self.tty:
            filled = _WIDTH * self._done // self.total
            bar = "#" * filled + "." * (_WIDTH - filled)
            self.stream.write(f"\r{self.label} [{bar}] {self._done}/{self.total}")
            self.stream.flush()
            return
        quarter = 4 * self._done // self.total
        if quarter != self._quarter:
            self._quarter = quarter
            self.stream.write(f"{self.label}: {self._done}/{self.total} ({25 * quarter} %)\n")
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line (a terminal's cursor goes back to column 0)."""
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
