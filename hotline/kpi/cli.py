"""``hotline kpi``: the contact center's KPIs for a time window, from the store or a queue_log.

Definitions live in :mod:`hotline.kpi.definitions`, intervals in :mod:`hotline.kpi.intervals`;
this module reads the options, computes the report (from the store, or from an Asterisk
queue_log file alone), and prints a table, CSV or one JSON object. ``--by agent`` adds each
agent's login, pause and occupancy figures (:mod:`hotline.kpi.agent_report`). ``--reconcile``
compares the store with a queue_log (:mod:`hotline.kpi.reconcile` for the calls,
:mod:`hotline.kpi.agent_reconcile` for the agents) and exits 1 when they differ.

From the store, the KPI rollups answer when they can (a window on 15-minute boundaries, intervals
made of 15 minutes: see :mod:`hotline.reports.kpis`), which takes milliseconds for a month; the
raw attempts answer otherwise, or with ``--raw``. The output is the same either way.
See docs/kpi.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.config import Config, ConfigError
from hotline.kpi import agent_reconcile, render
from hotline.kpi import reconcile as reconciliation
from hotline.kpi.agent_queue_log import sessions_from_queue_log
from hotline.kpi.agent_report import add_agent_times
from hotline.kpi.definitions import BY_AGENT, GROUPINGS
from hotline.kpi.facts import SOURCE_AMI, QueueAttempt
from hotline.kpi.from_queue_log import QueueLogError, QueueLogResult, parse_queue_log
from hotline.kpi.intervals import iso, parse_interval, zone
from hotline.kpi.report import KpiReport, ReportOptions, build_report, within
from hotline.reports.kpis import normalized, store_kpis

DEFAULT_QUEUE_LOG_PBX = "queue_log"


def add_arguments(kpi: argparse.ArgumentParser) -> None:
    """Add the ``hotline kpi`` options (an option the parser already has is left as it is)."""
    _add(kpi, "--from", dest="since", metavar="ISO", help="window start, ISO 8601; bare = local time")
    _add(kpi, "--to", dest="until", metavar="ISO", help="window end, ISO 8601, exclusive (default: no end)")
    _add(
        kpi,
        "--pbx",
        metavar="NAME",
        help="only this PBX; with --queue-log the name its calls get (default 'queue_log')",
    )
    _add(kpi, "--json", action="store_true", help="print one JSON object")
    _add(kpi, "--csv", action="store_true", help="print CSV: a header row, then one row per interval/group")
    _add(
        kpi,
        "--interval",
        metavar="SPAN",
        help="per-interval breakdown on the local clock: 15, 30, 60 (minutes), 15m, 1h, day, week, month",
    )
    _add(kpi, "--by", choices=GROUPINGS, help="one set of KPIs per queue, agent or site")
    _add(
        kpi,
        "--queue-log",
        metavar="FILE",
        help="compute the KPIs from this Asterisk queue_log file alone (no database)",
    )
    _add(
        kpi,
        "--raw",
        action="store_true",
        help="compute from the raw queue attempts even when the KPI rollups could answer",
    )
    _add(
        kpi,
        "--reconcile",
        action="store_true",
        help="compare the store (AMI) with --queue-log FILE; exit 1 when any call differs",
    )


def _add(parser: argparse.ArgumentParser, *flags: str, **options: Any) -> None:
    # An option the command line parser defined itself keeps that definition.
    with contextlib.suppress(argparse.ArgumentError):
        parser.add_argument(*flags, **options)


def parse_time(text: str | None, tz: ZoneInfo, what: str) -> float | None:
    """Epoch seconds of an ISO 8601 date/time (bare = local ``tz``); ConfigError naming ``what``."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{what}: not an ISO 8601 date/time: {text!r}") from None
    if moment.tzinfo is None:
        # A bare date/time means the contact center's local time (Asia/Jakarta by default).
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def _check_combinations(args: argparse.Namespace) -> None:
    if args.json and args.csv:
        raise ConfigError("--json and --csv: choose one output format")
    if args.reconcile and not args.queue_log:
        raise ConfigError("--reconcile needs --queue-log FILE (the log to compare the store with)")
    if args.reconcile and (args.interval or args.by or args.csv):
        raise ConfigError("--reconcile compares whole-window KPIs: it takes no --interval, --by or --csv")
    if getattr(args, "raw", False) and args.queue_log:
        raise ConfigError("--raw chooses between the store's rollups and attempts: it takes no --queue-log")


async def run_kpi(cfg: Config, args: argparse.Namespace) -> int:
    """Run ``hotline kpi``; 0 on success, 1 when ``--reconcile`` finds a difference."""
    _check_combinations(args)
    tz = zone(cfg.kpi.timezone)
    since = parse_time(args.since, tz, "--from")
    until = parse_time(args.until, tz, "--to")
    if since is not None and until is not None and until <= since:
        raise ConfigError("--to must be after --from")
    interval = parse_interval(args.interval) if args.interval is not None else None
    if args.reconcile:
        return await _reconcile(cfg, args, since, until)
    sites = {pbx.name: pbx.site for pbx in cfg.pbx}
    options = ReportOptions(
        tz=tz,
        service_level_s=cfg.kpi.service_level_seconds,
        short_abandon_s=cfg.kpi.short_abandon_seconds,
        since=since,
        until=until,
        interval=interval,
        by=args.by,
        site_of=lambda pbx: sites.get(pbx, pbx),
    )
    extra: dict[str, Any] = {"source": "queue_log" if args.queue_log else "ami", "timezone": cfg.kpi.timezone}
    if args.queue_log:
        pbx = args.pbx or DEFAULT_QUEUE_LOG_PBX
        parsed = await _read_queue_log(Path(args.queue_log), pbx)
        extra["queue_log_errors"] = len(parsed.errors)
        report = build_report(within(parsed.attempts, since, until), options)
        if options.by == BY_AGENT:
            sessions = sessions_from_queue_log(parsed, pbx=pbx)
            _warn_ambiguous(Path(args.queue_log), sessions.ambiguous)
            # The log's spans end at its last line: it tells nothing after.
            report = add_agent_times(report, sessions.spans, options, until=parsed.last_at or 0.0)
        report = normalized(report)
    else:
        report = await _from_store_kpis(cfg, options, args.pbx, raw=bool(getattr(args, "raw", False)))
    if interval is not None:
        extra["interval"] = interval.label
    if args.json:
        _print_json({**report.as_json(), **extra})
    elif args.csv:
        sys.stdout.write(render.to_csv(report, args.by))
    else:
        source = f"queue_log {args.queue_log}" if args.queue_log else "the store"
        window = f"{args.since or 'beginning'} .. {args.until or 'end'}"
        where = f" (pbx {args.pbx})" if args.pbx else ""
        title = f"KPIs {window}{where}, from {source}, {cfg.kpi.timezone}"
        text = render.to_text(
            report, title, scr_target=cfg.kpi.scr_target, aht_target=cfg.kpi.aht_target, by=args.by
        )
        print(text)
    return 0


async def _from_store_kpis(cfg: Config, options: ReportOptions, pbx: str | None, *, raw: bool) -> KpiReport:
    from hotline.store import db

    engine = db.create_engine(cfg.store.url)
    try:
        await db.migrate(engine)
        return (await store_kpis(engine, options, pbx=pbx, raw=raw)).report
    finally:
        await engine.dispose()


async def _from_store(
    cfg: Config, since: float | None, until: float | None, pbx: str | None
) -> list[QueueAttempt]:
    """The AMI attempts alone (what ``--reconcile`` compares with the queue_log)."""
    from hotline.store import db, repo

    engine = db.create_engine(cfg.store.url)
    try:
        await db.migrate(engine)
        rows = await repo.load_attempts(engine, since=since, until=until, pbx=pbx, source="ami")
    finally:
        await engine.dispose()
    return [QueueAttempt(**row) for row in rows]


async def _read_queue_log(path: Path, pbx: str) -> QueueLogResult:
    """A queue_log file read (attempts, member verbs, unreadable lines, each one warned of)."""
    try:
        result = await asyncio.to_thread(_parse_file, path, pbx)
    except FileNotFoundError:
        raise ConfigError(f"--queue-log: file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"--queue-log: is a directory: {path}") from None
    except OSError as exc:
        raise ConfigError(f"--queue-log: cannot read {path}: {exc.strerror or exc}") from None
    _warn(path, result.errors)
    return result


def _parse_file(path: Path, pbx: str) -> QueueLogResult:
    # A stray non-UTF-8 byte in a caller name must not cost the rest of the log.
    with path.open(encoding="utf-8", errors="replace", newline="") as lines:
        return parse_queue_log(lines, pbx=pbx)


def _warn(path: Path, errors: list[QueueLogError]) -> None:
    for error in errors:
        print(f"hotline: warning: {path}: {error}", file=sys.stderr)
    if errors:
        print(f"hotline: warning: {path}: {len(errors)} malformed line(s) skipped", file=sys.stderr)


def _warn_ambiguous(path: Path, names: list[str]) -> None:
    if names:
        print(
            f"hotline: warning: {path}: ADDMEMBER/REMOVEMEMBER name interfaces and these members fit "
            f"several: {', '.join(names)}; their logins stay under the interface "
            "(set log_membername_as_agent = yes in queues.conf)",
            file=sys.stderr,
        )


async def _reconcile(cfg: Config, args: argparse.Namespace, since: float | None, until: float | None) -> int:
    from_ami = await _from_store(cfg, since, until, args.pbx)
    pbxs = sorted({a.pbx for a in from_ami})
    if args.pbx is None and len(pbxs) > 1:
        raise ConfigError(
            f"--reconcile: the store holds calls of several PBXs ({', '.join(pbxs)}); "
            "name the one the queue_log comes from with --pbx"
        )
    # The queue_log's calls take the store's PBX name, so that both sides count the same calls.
    pbx = args.pbx or (pbxs[0] if pbxs else DEFAULT_QUEUE_LOG_PBX)
    parsed = await _read_queue_log(Path(args.queue_log), pbx)
    from_log = within(parsed.attempts, since, until)
    result = reconciliation.reconcile(
        from_ami,
        from_log,
        service_level_s=cfg.kpi.service_level_seconds,
        short_abandon_s=cfg.kpi.short_abandon_seconds,
    )
    agents = await _reconcile_agents(cfg, parsed, pbx, since, until)
    if args.json:
        _print_json({**result.as_dict(), "agents": agents.as_dict()})
    else:
        print(
            reconciliation.to_text(result, ami_label="AMI (store)", log_label=f"queue_log {args.queue_log}")
        )
        tz = zone(cfg.kpi.timezone)
        window = f"{iso(agents.since, tz)} .. {iso(agents.until, tz)}" if agents.until > agents.since else "-"
        print()
        print(agent_reconcile.to_text(agents, window=window))
    return 0 if result.agree and agents.agree else 1


async def _reconcile_agents(
    cfg: Config, parsed: QueueLogResult, pbx: str, since: float | None, until: float | None
) -> agent_reconcile.AgentReconciliation:
    """The agents' figures of the store (AMI) and of the log over the window, or the time both cover."""
    from hotline.rollup import agent_store
    from hotline.store import db

    engine = db.create_engine(cfg.store.url)
    try:
        await db.migrate(engine)
        covered = await agent_store.event_span(engine, pbx)
        names = await agent_store.interface_names(engine, pbx)
        starts = [t for t in (covered[0] if covered else None, parsed.first_at) if t is not None]
        ends = [t for t in (covered[1] if covered else None, parsed.last_at) if t is not None]
        # Whole seconds both sources cover: queue_log's clock has no fractions.
        begin = since if since is not None else float(math.ceil(max(starts))) if starts else 0.0
        end = until if until is not None else float(math.floor(min(ends))) if ends else begin
        ami = await agent_store.load_spans(engine, begin, end, pbx=pbx, source=SOURCE_AMI)
    finally:
        await engine.dispose()
    log_spans = sessions_from_queue_log(parsed, pbx=pbx, names=names).spans
    return agent_reconcile.reconcile_agents(ami, log_spans, begin, end)


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
