"""``hotline wfm forecast`` and ``hotline wfm compare``: traffic forecast, staffing, accuracy.

The math is in :mod:`hotline.wfm.forecast`, :mod:`hotline.wfm.staffing` and
:mod:`hotline.wfm.compare`; this module reads the store and prints (table, ``--json`` or ``--csv``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.config import Config, ConfigError
from hotline.kpi.intervals import MINUTE, IntervalSpec, parse_interval, zone
from hotline.wfm.compare import compare
from hotline.wfm.forecast import DEFAULT_WEEKS, day_bounds, exponential_weights, forecast_days, linear_weights
from hotline.wfm.history import history_window, load_history
from hotline.wfm.output import Header, comparison_text, forecast_text
from hotline.wfm.staffing import StaffingTarget, plan


def add_arguments(
    wfm: argparse.ArgumentParser, common: Callable[[argparse.ArgumentParser], None] | None = None
) -> None:
    """The ``forecast`` and ``compare`` subcommands; ``common`` adds --config/--db/... to each."""
    sub = wfm.add_subparsers(dest="wfm_command", metavar="ACTION", parser_class=type(wfm))
    sub.required = True
    forecast = sub.add_parser(
        "forecast",
        help="offered calls, AHT and agents needed per interval for a coming day or week",
        description="Forecast each interval from the same weekday and interval of the recent weeks "
        "(weighted toward recent), and the agents Erlang C needs for the service level target. "
        "See docs/wfm.md.",
    )
    forecast.add_argument("--days", type=int, default=1, help="days to forecast from --date (7: a week)")
    compared = sub.add_parser(
        "compare",
        help="forecast vs actual per interval, intraday (up to now) or for a past day",
        description="The forecast of --date against the calls that came, per interval, with the error "
        "(absolute, percent), MAPE and WAPE over the intervals that have ended, and the day's projected "
        "total. See docs/wfm.md.",
    )
    compared.add_argument("--now", metavar="ISO", help="compare as of this moment (default: now)")
    for parser in (forecast, compared):
        if common is not None:
            common(parser)
        _options(parser)


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the (first) day, local time")
    parser.add_argument("--weeks", type=int, default=DEFAULT_WEEKS, help="past weeks sampled (default 6)")
    parser.add_argument("--interval", default="30", help="interval minutes: 15, 30 or 60 (default 30)")
    parser.add_argument(
        "--weighting",
        choices=["linear", "exponential"],
        default="linear",
        help="weights of the sampled weeks: linear 6,5..1 (default) or exponential 1, 1/2, 1/4 ...",
    )
    parser.add_argument("--service-level", type=float, default=80.0, help="target %% answered in time (80)")
    parser.add_argument("--answer-seconds", type=float, help="target answer time (default [kpi] 20 s)")
    parser.add_argument("--max-occupancy", type=float, default=85.0, help="maximum occupancy %% (85)")
    parser.add_argument("--shrinkage", type=float, default=0.0, help="shrinkage %% for the roster (0)")
    parser.add_argument("--queue", metavar="NAME", help="only this queue")
    parser.add_argument("--pbx", metavar="NAME", help="only this PBX")
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print one JSON object")
    formats.add_argument("--csv", action="store_true", help="print CSV, one row per interval")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--date: not a date (YYYY-MM-DD): {text!r}") from None


def _moment(text: str | None, tz: ZoneInfo) -> float:
    if text is None:
        return time.time()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--now: not an ISO 8601 date/time: {text!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).timestamp()


def _spec(text: str) -> IntervalSpec:
    spec = parse_interval(text)
    if spec.kind != MINUTE:
        raise ConfigError(f"--interval: forecasts are per 15, 30 or 60 minutes, not {text!r}")
    return spec


def _target(cfg: Config, args: argparse.Namespace) -> StaffingTarget:
    answer_s = args.answer_seconds if args.answer_seconds is not None else cfg.kpi.service_level_seconds
    try:
        return StaffingTarget(
            service_level=args.service_level / 100,
            answer_s=answer_s,
            max_occupancy=args.max_occupancy / 100,
            shrinkage=args.shrinkage / 100,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


async def run(cfg: Config, args: argparse.Namespace) -> int:
    """Run ``hotline wfm forecast|compare``; prints to stdout, returns the exit code."""
    from hotline.store import db

    tz = zone(cfg.kpi.timezone)
    spec = _spec(args.interval)
    first_day = _day(args.date)
    days = getattr(args, "days", 1)
    if days < 1 or days > 31:
        raise ConfigError(f"--days must be 1..31, not {days}")
    if args.weeks < 1 or args.weeks > 52:
        raise ConfigError(f"--weeks must be 1..52, not {args.weeks}")
    target = _target(cfg, args)
    weights = linear_weights(args.weeks) if args.weighting == "linear" else exponential_weights(args.weeks)
    interval_s = spec.minutes * 60
    now = _moment(getattr(args, "now", None), tz)
    since, until = history_window(first_day, days, args.weeks, tz)
    engine = db.create_engine(cfg.store.url)
    try:
        await db.migrate(engine)
        history = await load_history(engine, since, until, spec, tz, pbx=args.pbx, queue=args.queue)
        actual = []
        if args.wfm_command == "compare":
            day_start, day_end = day_bounds(first_day, tz)
            actual = await load_history(
                engine, day_start, min(day_end, now), spec, tz, pbx=args.pbx, queue=args.queue
            )
    finally:
        await engine.dispose()
    forecasts = forecast_days(history, first_day, spec, tz, days=days, weeks=args.weeks, weights=weights)
    header = Header(
        first_day=first_day,
        last_day=first_day + timedelta(days=days - 1),
        interval_minutes=spec.minutes,
        weeks=args.weeks,
        weighting=args.weighting,
        target=target,
        queue=args.queue,
        pbx=args.pbx,
    )
    if args.wfm_command == "forecast":
        text = forecast_text(header, plan(forecasts, interval_s, target), tz, args.json, args.csv)
    else:
        result = compare(forecasts, actual, interval_s, now, target)
        text = comparison_text(header, result, tz, now, args.json, args.csv)
    sys.stdout.write(text)
    return 0
