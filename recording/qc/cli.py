"""``hotline qc sample|report|calibrate|calibration``: QC from the operator's shell.

The shell is trusted as the host is (whoever runs it can read the database), so no token is
needed. ``sample`` prints a summary of the draw (peak intervals, calls per stratum, agents with
too few calls); ``report`` prints a table, CSV or the SVG chart; ``calibrate`` picks the calls
QC scores again; ``calibration`` prints the deviation report as JSON.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from hotline.config import Config, ConfigError
from hotline.feature import CliCommand
from hotline.store import create_engine, migrate
from recording.qc import calibration, reports
from recording.qc.samples import SampleSummary, draw_sample
from recording.qc.sampling import local_midnight
from recording.qc.settings import QcSettings


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["sample", "report", "calibrate", "calibration"],
        help="sample: draw a working day's sample; report: QM per agent; calibrate: pick team "
        "leaders' scored calls for QC; calibration: deviation report",
    )
    parser.add_argument("--date", help="sample: the working day YYYY-MM-DD (default today)")
    parser.add_argument("--from", dest="first", help="report/calibration: first day YYYY-MM-DD")
    parser.add_argument("--to", dest="last", help="report/calibration: last day YYYY-MM-DD (default today)")
    parser.add_argument("--grain", choices=reports.GRAINS, default="week", help="report: week or month")
    parser.add_argument("--agent", help="report: one agent")
    parser.add_argument("--team", help="report: one team")
    parser.add_argument(
        "--format", choices=["table", "json", "csv", "svg"], default="table", help="report output"
    )
    parser.add_argument("--output", type=Path, help="write the report there instead of printing it")


def _day(text: str | None, settings: QcSettings, flag: str) -> date:
    if not text:
        return datetime.now(settings.timezone).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{flag} must be a date YYYY-MM-DD, not {text!r}") from None


def summary_text(summary: SampleSummary, tz: Any) -> str:
    since = datetime.fromtimestamp(summary.since, tz).strftime("%a %Y-%m-%d %H:%M")
    until = datetime.fromtimestamp(summary.until, tz).strftime("%a %Y-%m-%d %H:%M")
    lines = [
        f"QC sample of {summary.day.isoformat()} (calls from {since} to {until})",
        f"peak intervals: {', '.join(summary.peak_intervals) or 'none (no traffic)'}",
        f"drawn: {summary.drawn} calls for {summary.agents} agents "
        f"({summary.peak_calls} peak, {summary.offpeak_calls} off-peak)",
    ]
    if summary.already_sampled:
        lines.append(f"already sampled that day: {', '.join(summary.already_sampled)}")
    if summary.short:
        lines.append(f"fewer calls than the sample size: {', '.join(summary.short)}")
    return "\n".join(lines)


def report_table(report: reports.Report) -> str:
    header = ("agent", "team", "period", "calls", "QM", "trend", "below target")
    rows = [
        (
            r["agent"],
            r["team"] or "-",
            r["period"],
            str(r["calls"]),
            f"{r['average_qm']:.1f}" if r["average_qm"] is not None else "-",
            f"{r['trend']:+.1f}" if r["trend"] is not None else "-",
            ", ".join(r["below_target"]) or "-",
        )
        for r in report.rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


async def _report(engine: Any, settings: QcSettings, args: argparse.Namespace) -> str:
    last = _day(args.last, settings, "--to")
    first = _day(args.first, settings, "--from") if args.first else last - timedelta(days=55)
    built = await reports.build(
        engine,
        first,
        last,
        settings.timezone,
        settings.form.target,
        grain=args.grain,
        agent=args.agent,
        team=args.team,
    )
    if args.format == "json":
        return json.dumps(built.public(), ensure_ascii=False, indent=1)
    if args.format == "csv":
        return built.csv()
    if args.format == "svg":
        return built.svg()
    return report_table(built)


async def _act(engine: Any, settings: QcSettings, args: argparse.Namespace) -> str:
    tz = settings.timezone
    if args.action == "sample":
        summary = await draw_sample(engine, settings, _day(args.date, settings, "--date"), drawn_by="cli")
        return json.dumps(summary.public()) if args.format == "json" else summary_text(summary, tz)
    if args.action == "report":
        return await _report(engine, settings, args)
    last = _day(args.last, settings, "--to")
    first = _day(args.first, settings, "--from") if args.first else last - timedelta(days=30)
    window = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    if args.action == "calibrate":
        picks = await calibration.select_calls(
            engine, *window, share=settings.calibration_share, seed=settings.seed
        )
        return json.dumps(
            {"from": first.isoformat(), "to": last.isoformat(), "team_leaders": picks}, indent=1
        )
    return json.dumps(await calibration.report(engine, *window), indent=1)


async def _run(config: Config, args: argparse.Namespace) -> int:
    settings = QcSettings.from_config(config)
    engine = create_engine(config.store.url)
    try:
        await migrate(engine)
        text = await _act(engine, settings, args)
    finally:
        await engine.dispose()
    if args.output is not None:
        args.output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(f"written to {args.output}")
    else:
        print(text)
    return 0


COMMANDS: Final = (
    CliCommand(
        name="qc",
        help="QC: draw the daily sample, QM reports, calibration",
        description="Draw a working day's QC sample (reproducible with [qc] seed), report the QM score "
        "per agent and week or month (table, JSON, CSV or SVG), pick team leaders' scored calls for "
        "calibration and report their deviation from QC.",
        add_arguments=_add_arguments,
        run=_run,
    ),
)
