"""``hotline kpi``: the contact center's KPIs from the store, for a time window.

Definitions live in :mod:`hotline.kpi.definitions`; this module only selects the
rows, runs the math and prints the result (a table, or one JSON object).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.config import Config, ConfigError


def add_arguments(kpi: argparse.ArgumentParser) -> None:
    kpi.add_argument("--from", dest="since", metavar="ISO", help="window start, ISO 8601 (default: all)")
    kpi.add_argument(
        "--to", dest="until", metavar="ISO", help="window end, ISO 8601, exclusive (default: now)"
    )
    kpi.add_argument("--pbx", metavar="NAME", help="only this PBX")
    kpi.add_argument("--json", action="store_true", help="print one JSON object")


def _parse_time(text: str | None, tz: str, what: str) -> float | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{what}: not an ISO 8601 date/time: {text!r}") from None
    if moment.tzinfo is None:
        # A bare date/time means the contact center's local time (Asia/Jakarta by default).
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.timestamp()


# --------------------------------------------------------------------------------------------


def _format_seconds(value: Any) -> str:
    return "-" if value is None else f"{value:.1f} s"


async def run_kpi(cfg: Config, args: argparse.Namespace) -> int:
    from hotline.kpi.definitions import summarize
    from hotline.kpi.facts import QueueAttempt
    from hotline.store import db, repo

    since = _parse_time(args.since, cfg.kpi.timezone, "--from")
    until = _parse_time(args.until, cfg.kpi.timezone, "--to")
    if since is not None and until is not None and until <= since:
        raise ConfigError("--to must be after --from")
    engine = db.create_engine(cfg.store.url)
    try:
        await db.migrate(engine)
        rows = await repo.load_attempts(engine, since=since, until=until, pbx=args.pbx, source="ami")
    finally:
        await engine.dispose()
    attempts = [QueueAttempt(**row) for row in rows]
    summary = summarize(
        attempts, service_level_s=cfg.kpi.service_level_seconds, short_abandon_s=cfg.kpi.short_abandon_seconds
    )
    result = summary.as_dict()
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    window = f"{args.since or 'beginning'} .. {args.until or 'now'}"
    scr = result.get("scr")
    lines = [
        f"KPIs {window}" + (f" (pbx {args.pbx})" if args.pbx else ""),
        f"  offered    {result['offered']}",
        f"  answered   {result['answered']}",
        f"  abandoned  {result['abandoned']}",
        f"  SCR        {'-' if scr is None else f'{scr:.2f} %'}   (target >= {cfg.kpi.scr_target:g} %)",
        f"  AHT        {_format_seconds(result.get('aht'))}   (target <= {cfg.kpi.aht_target:g} s)",
        f"  ASA        {_format_seconds(result.get('asa'))}",
    ]
    print("\n".join(lines))
    return 0
