"""``hotline report``: the daily, weekly or monthly report as HTML and CSV files."""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.config import Config, ConfigError
from hotline.kpi.definitions import BY_AGENT, GROUPINGS
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import zone
from hotline.reports.csvfiles import write_csv
from hotline.reports.html import render
from hotline.reports.model import DAILY, PERIODS, Report, Targets, build_report, period_of
from hotline.reports.progress import Progress
from hotline.wfm.forecast import day_bounds

FORMATS = ("html", "csv")


def add_arguments(report: argparse.ArgumentParser) -> None:
    """Options of ``hotline report`` (the common --config/--db/... are added by hotline.cli)."""
    report.add_argument("--period", required=True, choices=PERIODS, help="day, ISO week or calendar month")
    report.add_argument(
        "--date", required=True, metavar="YYYY-MM-DD", help="a day in the period (local time)"
    )
    report.add_argument("--by", choices=GROUPINGS, help="also per site, queue or agent")
    report.add_argument("--out", required=True, metavar="DIR", help="folder for the files (created)")
    report.add_argument("--interval", type=int, default=30, help="minutes per interval of a day report (30)")
    report.add_argument("--pbx", metavar="NAME", help="only this PBX")
    report.add_argument("--format", default="html,csv", help="comma-separated: html, csv (default both)")
    report.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _formats(text: str) -> set[str]:
    chosen = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = chosen - set(FORMATS)
    if not chosen or unknown:
        raise ConfigError(f"--format: choose from {', '.join(FORMATS)}, not {text!r}")
    return chosen


async def run(cfg: Config, args: argparse.Namespace) -> int:
    """Write the report files and print their paths; returns the exit code."""
    from hotline.reports.facts import load_facts
    from hotline.reports.kpis import with_period_agent_time
    from hotline.store import db

    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        raise ConfigError(f"--date: not a date (YYYY-MM-DD): {args.date!r}") from None
    try:
        period = period_of(args.period, day, args.interval)
    except ValueError as exc:
        raise ConfigError(f"--interval: {exc}") from None
    formats = _formats(args.format)
    tz = zone(cfg.kpi.timezone)
    out = Path(args.out)
    await asyncio.to_thread(_check_folder, out)
    # A long range shows its progress; one day is over before a bar would mean anything.
    show = not args.no_progress and args.period != DAILY
    days = period.days
    attempts: list[QueueAttempt] = []
    engine = db.create_engine(cfg.store.url)
    loading = Progress(f"loading {period.label}", len(days), enabled=show)
    try:
        await db.migrate(engine)
        # One query per day keeps memory flat and lets the bar move on a month of a big centre.
        for number, one_day in enumerate(days, start=1):
            since, until = day_bounds(one_day, tz)
            attempts.extend(await load_facts(engine, since, until, pbx=args.pbx))
            loading.update(number)
    finally:
        loading.close()
        await engine.dispose()
    sites = {pbx.name: pbx.site for pbx in cfg.pbx}
    targets = Targets(
        scr=cfg.kpi.scr_target,
        aht=cfg.kpi.aht_target,
        service_level_s=cfg.kpi.service_level_seconds,
        short_abandon_s=cfg.kpi.short_abandon_seconds,
    )
    grouping = Progress(f"computing per {args.by}", 1, enabled=show and args.by is not None)
    report = build_report(
        attempts,
        period,
        tz,
        timezone=cfg.kpi.timezone,
        targets=targets,
        by=args.by,
        site_of=lambda pbx: sites.get(pbx, pbx),
        progress=lambda done, total: _advance(grouping, done, total),
    )
    grouping.close()
    if args.by == BY_AGENT:
        engine = db.create_engine(cfg.store.url)
        try:
            await with_period_agent_time(engine, report, tz, pbx=args.pbx)
        finally:
            await engine.dispose()
    written = await asyncio.to_thread(write_files, report, out, formats, tz)
    for path in written:
        print(path)
    return 0


def _check_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out: not a folder: {out}")


def write_files(report: Report, out: Path, formats: set[str], tz: ZoneInfo) -> list[Path]:
    """Write the report's HTML page and/or CSV files into ``out`` (created); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{report.period.kind}-{report.period.label}"
    written: list[Path] = []
    if "html" in formats:
        page = out / (f"{stem}-by-{report.by}.html" if report.by else f"{stem}.html")
        page.write_text(render(report, time.time(), tz), encoding="utf-8")
        written.append(page)
    if "csv" in formats:
        written.extend(write_csv(report, out, stem, tz))
    return written


def _advance(progress: Progress, done: int, total: int) -> None:
    progress.total = max(total, 1)
    progress.update(done)
