"""What each ``hotline`` subcommand does (argument parsing lives in :mod:`hotline.cli`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from pathlib import Path

from hotline.ami.dispatch import PbxEvent
from hotline.ami.protocol import AmiParser, Event, Garbage
from hotline.config import Config, ConfigError
from hotline.logs import get_logger
from hotline.store.events import capture_session_id

log = get_logger("hotline.cli")


def user_error(exc: BaseException) -> str | None:
    """The one-line message for an exception a user caused, or None for a real bug."""
    from hotline.store.db import StoreError

    if isinstance(exc, StoreError | ConfigError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename}"
    if isinstance(exc, IsADirectoryError):
        return f"is a directory: {exc.filename}"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{exc.strerror}: {exc.filename or ''}".rstrip(": ")
    return None


def _install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


# -- serve ------------------------------------------------------------------------------------------


async def cmd_serve(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.compose import Runtime

    if not cfg.pbx:
        raise ConfigError(
            "no [[pbx]] configured: give --config with at least one PBX (or run 'hotline demo')"
        )
    stop = asyncio.Event()
    _install_stop_signals(stop)
    runtime = Runtime(cfg)
    await runtime.start()
    try:
        await stop.wait()
    finally:
        await runtime.stop()
    return 0


# -- demo -------------------------------------------------------------------------------------------


async def cmd_demo(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.demo import run_demo

    stop = asyncio.Event()
    _install_stop_signals(stop)
    return await run_demo(cfg, stop, duration=args.duration, kpi_every=args.kpi_every)


# -- ingest -----------------------------------------------------------------------------------------


def read_trace(data: bytes, pbx: str, fallback_time: float) -> tuple[list[PbxEvent], int]:
    """Parse a raw AMI capture into the events live traffic would have produced, and count garbage.

    Each event's receive time is its ``Timestamp:`` header (captures are made with
    timestampevents=yes). Action responses (QueueStatus's QueueParams, QueueMember, QueueEntry,
    FullyBooted ...) carry none: they get the capture's own time around them (see
    :func:`capture_times`), so a snapshot lands where it was taken, not at the ingest's time.
    ``fallback_time`` serves only a capture without any Timestamp.
    """
    parser = AmiParser()
    messages: list[Event] = []
    garbage = 0
    for message in parser.messages(data):
        if isinstance(message, Garbage):
            garbage += 1
            continue
        if isinstance(message, Event):
            messages.append(message)
    if parser.buffered:
        garbage += 1
    times = capture_times([_timestamp(m) for m in messages], fallback_time)
    events = [
        PbxEvent(pbx, 1, seq, at, m) for seq, (at, m) in enumerate(zip(times, messages, strict=True), 1)
    ]
    return events, garbage


def _timestamp(event: Event) -> float | None:
    stamp = event.get("Timestamp")
    if not stamp:
        return None
    try:
        return float(stamp)
    except ValueError:
        return None


def capture_times(stamps: list[float | None], fallback_time: float) -> list[float]:
    """A time for every event of a capture: its own stamp, else the last stamp seen before it,
    else (at the start of the capture) the first stamp after it, else ``fallback_time``."""
    first_stamp = next((s for s in stamps if s is not None), fallback_time)
    times: list[float] = []
    last = first_stamp
    for stamp in stamps:
        if stamp is not None:
            last = stamp
        times.append(last)
    return times


async def cmd_ingest(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.compose import Runtime

    if args.queue_log:
        from hotline.rollup.cli import run_ingest_queue_log

        return await run_ingest_queue_log(cfg, args)
    path = Path(args.ami_trace)
    data = await asyncio.to_thread(path.read_bytes)
    events, garbage = read_trace(data, args.pbx, time.time())
    if not events:
        raise ConfigError(f"{path}: no AMI event in this file (is it a raw AMI capture?)")
    # The same file always gets the same session id, so ingesting it twice stores nothing new.
    session = capture_session_id(data)
    runtime = Runtime(cfg, features=[])
    await runtime.open_store()
    assert runtime.eventlog is not None
    runtime.eventlog.session = session
    await runtime.eventlog.start()
    try:
        for item in events:
            runtime.eventlog.append(item)
        await runtime.eventlog.flush()
        stats = runtime.eventlog.stats()
    finally:
        await runtime.eventlog.stop()
        await runtime.engine.dispose()
    written = stats.get("written_total", 0)
    print(
        f"ingested {len(events)} events from {path} as pbx {args.pbx}: {written} new, "
        f"{len(events) - written} already stored"
        + (f", {garbage} unreadable frames skipped" if garbage else "")
    )
    return 0


# -- rebuild (hotline.rollup.cli) ---------------------------------------------------------------------


async def cmd_rebuild(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.rollup.cli import run_rebuild

    return await run_rebuild(cfg, args)


# -- kpi (hotline.kpi.cli) ---------------------------------------------------------------------------


async def cmd_kpi(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.kpi.cli import run_kpi

    return await run_kpi(cfg, args)


# -- report (hotline.reports.cli), wfm (hotline.wfm.cli) ------------------------------------------------


async def cmd_report(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.reports.cli import run

    return await run(cfg, args)


async def cmd_wfm(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.wfm.cli import run

    return await run(cfg, args)


# -- users (hotline.auth.cli) -----------------------------------------------------------------------


async def cmd_users(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.auth.cli import run

    return await run(cfg, args)


# -- migrate, cti-token -----------------------------------------------------------------------------


async def cmd_migrate(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.store import db

    engine = db.create_engine(cfg.store.url)
    try:
        await db.migrate(engine)
    finally:
        await engine.dispose()
    print(f"database schema up to date ({db.mask_url(cfg.store.url)})")
    return 0


def cmd_cti_token(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.tokens import TokenSigner, issue_agent_token

    signer = TokenSigner.from_config(cfg)
    if signer.ephemeral:
        # A random per-process key: no running service would ever accept this token.
        raise ConfigError(
            "[cti] token_secret (or HOTLINE_CTI_TOKEN_SECRET) must be set, the same as for serve"
        )
    try:
        token = issue_agent_token(signer, args.agent, args.iface, ttl=args.ttl, pbx=args.pbx)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    print(token)
    return 0
