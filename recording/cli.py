"""``hotline recordings search|show|verify|purge``: the recordings from the operator's shell.

The shell is trusted as the host is (whoever runs it can read the database), so the CLI needs no
token; callers' numbers are still masked in what it prints. ``purge`` and ``verify`` print a
summary and exit 1 when something needs attention (a file missing or changed, a file that could
not be removed), so a cron job or a monitoring check can alert on it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Final

from hotline.config import Config, ConfigError
from hotline.feature import CliCommand
from hotline.store import create_engine, migrate
from recording import repo
from recording.retention import purge, verify
from recording.search import KNOWN_PARAMETERS, FilterError, parse_filters, public, search
from recording.settings import RecordingSettings

_FILTER_FLAGS: Final = sorted(KNOWN_PARAMETERS)
_COLUMNS: Final = (
    "id",
    "started_at",
    "site",
    "queue",
    "agent",
    "team",
    "caller_number",
    "duration_s",
    "status",
)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    # One parser level (not sub-subcommands), so the common options (--db, --config) go anywhere.
    parser.add_argument(
        "action",
        choices=["search", "show", "verify", "purge"],
        help="search: list recordings; show ID: one recording; verify: check every file's checksum; "
        "purge: remove files past retention",
    )
    parser.add_argument("id", nargs="?", type=int, help="the recording id (show)")
    for name in _FILTER_FLAGS:
        flag = "--" + ("since" if name == "from" else "until" if name == "to" else name).replace("_", "-")
        parser.add_argument(flag, dest=f"filter_{name}", metavar=name.upper(), help=f"search filter {name}")
    parser.add_argument(
        "--dry-run", action="store_true", help="purge: report what would be removed, change nothing"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _table(items: list[dict[str, Any]]) -> str:
    rows = [[str(item.get(c) if item.get(c) is not None else "-") for c in _COLUMNS] for item in items]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(_COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(_COLUMNS, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


async def _run(config: Config, args: argparse.Namespace) -> int:
    settings = RecordingSettings.from_config(config)
    engine = create_engine(config.store.url)
    try:
        await migrate(engine)
        return await _act(engine, settings, args)
    finally:
        await engine.dispose()


async def _act(engine: Any, settings: RecordingSettings, args: argparse.Namespace) -> int:
    if args.action == "search":
        params = {name: value for name in _FILTER_FLAGS if (value := getattr(args, f"filter_{name}", None))}
        try:
            filters = parse_filters(params, settings.timezone)
        except FilterError as exc:
            raise ConfigError(str(exc)) from None
        page = await search(engine, filters)
        items = [public(row) for row in page.items]
        if args.json:
            print(json.dumps({"items": items, "has_more": page.has_more}, ensure_ascii=False, indent=1))
        else:
            print(_table(items))
            if page.has_more:
                print(f"... more: --offset {page.offset + page.limit}")
        return 0
    if args.action == "show":
        if args.id is None:
            raise ConfigError("show needs a recording id: hotline recordings show 42")
        row = await repo.get(engine, args.id)
        if row is None:
            raise ConfigError(f"no recording {args.id}")
        item = public(row)
        item["mutes"] = await repo.mutes(engine, args.id)
        print(json.dumps(item, ensure_ascii=False, indent=1))
        return 0
    if args.action == "verify":
        report = await verify(engine, settings)
        print(
            json.dumps(report.as_dict())
            if args.json
            else f"checked {report.checked}: {report.ok} ok, {len(report.missing)} missing {report.missing}, "
            f"{len(report.changed)} changed {report.changed}"
        )
        return 0 if report.clean else 1
    result = await purge(engine, settings, dry_run=args.dry_run)
    verb = "would remove" if result.dry_run else "removed"
    print(
        json.dumps(result.as_dict())
        if args.json
        else f"{verb} {result.files_removed} files ({result.bytes_freed} bytes), {result.rows} rows "
        f"{'to mark' if result.dry_run else 'marked'} purged; {len(result.errors)} errors"
    )
    for error in result.errors:
        print(f"  error: {error}")
    return 1 if result.errors else 0


COMMANDS: Final = (
    CliCommand(
        name="recordings",
        help="search recordings, check their files, apply retention",
        description="Search the call recordings, show one, verify every archived file against its "
        "checksum, or purge the files past their queue's retention (--dry-run to preview).",
        add_arguments=_add_arguments,
        run=_run,
    ),
)
