"""``hotline rebuild`` and ``hotline ingest --queue-log``: the handlers (the parser is hotline.cli's)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hotline.config import Config
from hotline.rollup.ingest import ingest_queue_log
from hotline.rollup.rebuild import describe, rebuild
from hotline.rollup.writer import RollupWriter


class ProgressLine:
    """One line on stderr, rewritten in place at most every ``every`` s (and once at the end)."""

    def __init__(self, label: str, every: float = 0.5) -> None:
        self.label = label
        self.every = every
        self._last = 0.0
        self._shown = False

    def show(self, text: str, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < self.every:
            return
        self._last = now
        self._shown = True
        sys.stderr.write(f"\r{self.label}: {text}\x1b[K")
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()


def rebuild_progress(line: ProgressLine) -> Callable[[int, int, int], None]:
    def progress(done: int, total: int, attempts: int) -> None:
        share = f" ({done / total * 100:.0f} %)" if total else ""
        line.show(f"{done:,} / {total:,} events{share}, {attempts:,} attempt writes", final=done >= total)

    return progress


async def run_rebuild(cfg: Config, args: argparse.Namespace) -> int:
    """Rebuild the AMI queue attempts and the KPI rollups from the event log."""
    from hotline.store import db

    engine = db.create_engine(cfg.store.url)
    try:
        await db.migrate(engine)
        writer = RollupWriter.from_config(cfg.kpi)
        result = await rebuild(
            engine, writer, pbx=args.pbx, progress=rebuild_progress(ProgressLine("rebuild"))
        )
    finally:
        await engine.dispose()
    print(describe(result, args.pbx))
    return 0


async def run_ingest_queue_log(cfg: Config, args: argparse.Namespace) -> int:
    """Import an Asterisk queue_log file as ``source='queue_log'`` attempts of ``--pbx``."""
    from hotline.store import db

    path = Path(args.queue_log)  # a missing file is reported by hotline.commands.user_error
    engine = db.create_engine(cfg.store.url)
    line = ProgressLine("ingest")
    try:
        await db.migrate(engine)
        result = await ingest_queue_log(
            engine,
            RollupWriter.from_config(cfg.kpi),
            path,
            args.pbx,
            progress=lambda done, total: line.show(
                f"{done:,} / {total:,} queue attempts", final=done >= total
            ),
        )
    finally:
        await engine.dispose()
    for error in result.errors:
        print(f"hotline: warning: {path}: {error}", file=sys.stderr)
    print(result.describe(args.pbx))
    return 0
