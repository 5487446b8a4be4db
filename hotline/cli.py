"""The ``hotline`` command.

Every subcommand says what it does with ``--help``. Errors a user can cause (a
missing file, a bad URL, a bad option) print one line, ``hotline: error: ...``, and
exit 2; never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from hotline import __version__, logs
from hotline import config as configmod
from hotline.auth import cli as users_cli
from hotline.feature import CliCommand
from hotline.kpi import cli as kpi_cli
from hotline.reports import cli as report_cli
from hotline.wfm import cli as wfm_cli


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's default prints usage and exits 2; keep the exit code, make it one clear line.
        self.exit(2, f"hotline: error: {message} (see '{self.prog} --help')\n")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file (see hotline.example.toml)")
    parser.add_argument(
        "--db", metavar="URL", help="database URL (default sqlite+aiosqlite:///var/hotline.db)"
    )
    parser.add_argument("--log-format", choices=["auto", "json", "console"], help="log format")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="log level")


def _network(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http-host", help="HTTP listen address (default 127.0.0.1)")
    parser.add_argument("--http-port", type=int, help="HTTP port (default 8080)")
    parser.add_argument("--agi-host", help="FastAGI listen address (default 127.0.0.1)")
    parser.add_argument("--agi-port", type=int, help="FastAGI port (default 4573)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hotline",
        description="Telephony backend of the Pegadaian contact center (hotline 1500569) beside Asterisk 22.",
    )
    parser.add_argument("--version", action="version", version=f"hotline {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    serve = sub.add_parser(
        "serve",
        help="run the FastAGI server, the AMI clients, the store and the HTTP API",
        description="Run hotline against the PBXs of the configuration ([[pbx]] entries): "
        "FastAGI server, one AMI client per PBX, the store, and the HTTP API "
        "(/health, /metrics, /openapi.json, the CTI websocket).",
    )
    _common(serve)
    _network(serve)

    demo = sub.add_parser(
        "demo",
        help="run hotline against the built-in Asterisk 22 emulator, with calls flowing",
        description="Start an Asterisk 22 emulator (AMI server + FastAGI client) that places "
        "calls continuously, and run hotline against it: watch the log and the KPIs move.",
    )
    _common(demo)
    _network(demo)
    demo.add_argument("--calls-per-second", type=float, help="calls per emulated second (default 0.5)")
    demo.add_argument("--agents", type=int, help="emulated agents (default 67)")
    demo.add_argument("--speed", type=float, help="emulated seconds per real second (default 4)")
    demo.add_argument("--seed", type=int, help="random seed for reproducible traffic")
    demo.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    demo.add_argument("--kpi-every", type=float, default=5.0, help="seconds between KPI log lines")

    ingest = sub.add_parser(
        "ingest",
        help="load a raw AMI capture or an Asterisk queue_log into the store",
        description="--ami-trace: read a raw AMI capture (the bytes Asterisk sent, banner first) and "
        "store every event through the same path as live traffic. --queue-log: import Asterisk's "
        "queue_log as queue attempts (to backfill a gap or load history; a call AMI saw counts once). "
        "Ingesting the same file twice stores nothing new.",
    )
    _common(ingest)
    source = ingest.add_mutually_exclusive_group(required=True)
    source.add_argument("--ami-trace", metavar="FILE", help="raw AMI bytes (e.g. ami.raw)")
    source.add_argument("--queue-log", metavar="FILE", help="an Asterisk queue_log file")
    ingest.add_argument("--pbx", metavar="NAME", required=True, help="name of the PBX the file comes from")

    rebuild = sub.add_parser(
        "rebuild",
        help="rebuild the queue attempts and the KPI rollups from the event log",
        description="Replay the durable AMI event log into the queue attempts and the KPI rollups "
        "(queue_log imports are kept). Idempotent; stop 'hotline serve' first.",
    )
    _common(rebuild)
    rebuild.add_argument("--pbx", metavar="NAME", help="only this PBX (default: every PBX)")

    kpi = sub.add_parser(
        "kpi",
        help="print SCR, AHT, ASA and call counts for a time window",
        description="KPIs of the calls in the store that entered a queue in [--from, --to). "
        "SCR = answered / offered x 100; AHT = (talk + hold) / ACD calls answered; "
        "ASA = average queue wait of answered calls. See docs/kpi.md.",
    )
    _common(kpi)
    kpi_cli.add_arguments(kpi)

    report = sub.add_parser(
        "report",
        help="write the daily, weekly or monthly report (HTML with charts, CSV)",
        description="KPIs of a day (per interval), an ISO week or a month (per day), overall and "
        "optionally per site, queue or agent, against the SCR and AHT targets: one self-contained "
        "HTML page and CSV files in --out. See docs/reports.md.",
    )
    _common(report)
    report_cli.add_arguments(report)

    wfm = sub.add_parser(
        "wfm",
        help="forecast traffic and staffing per interval (Erlang C), and forecast vs actual",
        description="Workforce management: 'forecast' the offered calls, AHT and agents needed per "
        "interval from recent weeks; 'compare' a day's forecast with what happened. See docs/wfm.md.",
    )
    wfm_cli.add_arguments(wfm, _common)

    users = sub.add_parser(
        "users",
        help="manage the people who log in: agents, team leaders, QC, QA, admins",
        description="Add users (the password is asked at a prompt, or read with --password-stdin), "
        "list them, set a new password, disable or enable them. See docs/security.md.",
    )
    users_cli.add_arguments(users, _common)

    migrate = sub.add_parser(
        "migrate",
        help="create or upgrade the database schema",
        description="Apply every database migration (serve and demo do it at start).",
    )
    _common(migrate)

    token = sub.add_parser(
        "cti-token",
        help="issue a CTI websocket token for an agent",
        description="Print a signed token that lets an agent's console connect to the CTI "
        "websocket. Needs [cti] token_secret (or HOTLINE_CTI_TOKEN_SECRET) shared with serve.",
    )
    _common(token)
    token.add_argument("--agent", required=True, help="agent id, e.g. 1001")
    token.add_argument("--iface", required=True, help="the agent's phone interface, e.g. PJSIP/1001")
    token.add_argument("--pbx", help="only this PBX's calls (both sites may have the same extension)")
    token.add_argument("--ttl", type=int, help="seconds the token lives (default [cti] token_ttl)")
    for command in feature_commands():
        extra = sub.add_parser(command.name, help=command.help, description=command.description)
        _common(extra)
        command.add_arguments(extra)
    return parser


def feature_commands() -> list[CliCommand]:
    """Subcommands contributed by the feature packages (wired by the composition root)."""
    from hotline.compose import default_features

    return [command for feature in default_features() for command in feature.cli_commands()]


def load_config(args: argparse.Namespace) -> configmod.Config:
    overrides: dict[str, Any] = {
        "log.format": getattr(args, "log_format", None),
        "log.level": getattr(args, "log_level", None),
        "http.host": getattr(args, "http_host", None),
        "http.port": getattr(args, "http_port", None),
        "agi.host": getattr(args, "agi_host", None),
        "agi.port": getattr(args, "agi_port", None),
        "store.url": getattr(args, "db", None),
        "emulator.calls_per_second": getattr(args, "calls_per_second", None),
        "emulator.seed": getattr(args, "seed", None),
        "emulator.agents": getattr(args, "agents", None),
        "emulator.speed": getattr(args, "speed", None),
    }
    return configmod.load(getattr(args, "config", None), overrides=overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args)
        logs.configure(cfg.log.level, cfg.log.format)
        from hotline import commands

        contributed = {c.name: c.run for c in feature_commands()}
        handler = contributed.get(args.command) or getattr(commands, "cmd_" + args.command.replace("-", "_"))
        result: int = (
            asyncio.run(handler(cfg, args)) if asyncio.iscoroutinefunction(handler) else handler(cfg, args)
        )
        return result
    except KeyboardInterrupt:
        return 130
    except (CliError, configmod.ConfigError) as exc:
        print(f"hotline: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from hotline.commands import user_error

        message = user_error(exc)
        if message is None:
            raise
        print(f"hotline: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
