"""``hotline users``: create, list, re-password, disable and enable the people who log in.

Passwords never appear on the command line (it is visible in ``ps`` and shell history): they are
typed at a prompt (twice) or piped with ``--password-stdin``. Every change is written to the
audit log as ``cli:<os user>``. The schema is migrated first, so ``users add`` works on a fresh
database before the first ``serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth import passwords
from hotline.auth.auditlog import audit
from hotline.auth.model import ROLES, NewUser, UserError
from hotline.auth.users import UserExists, create_user, get_user, list_users, set_active, set_password_hash
from hotline.config import Config, ConfigError
from hotline.store import db

_COLUMNS = ("username", "display_name", "role", "team", "site", "iface", "pbx", "active")


def add_arguments(
    users: argparse.ArgumentParser, common: Callable[[argparse.ArgumentParser], None] | None = None
) -> None:
    """The ``add``, ``list``, ``set-password``, ``disable`` and ``enable`` actions.

    ``common`` adds the shared options (--config, --db, ...) to each action's parser.
    """
    sub = users.add_subparsers(dest="users_command", metavar="ACTION", parser_class=type(users))
    sub.required = True
    add = sub.add_parser("add", help="create a user", description="Create an active user; asks the password.")
    add.add_argument("--username", required=True, help="login name; an agent's is the agent id, e.g. 1001")
    add.add_argument("--name", required=True, help='display name, e.g. "Siti Rahma"')
    add.add_argument("--role", required=True, choices=ROLES, help="what the user may do (docs/security.md)")
    add.add_argument("--team", help="team the agent belongs to / the team leader leads (required for both)")
    add.add_argument("--site", help="site, e.g. jakarta or yogyakarta")
    add.add_argument("--iface", help="the agent's phone interface, e.g. PJSIP/1001 (required for agents)")
    add.add_argument("--pbx", help="the [[pbx]] the agent's phone is on (both sites may have 1001)")
    listing = sub.add_parser("list", help="list users", description="List users (no password hashes).")
    listing.add_argument("--role", choices=ROLES, help="only this role")
    listing.add_argument("--team", help="only this team")
    listing.add_argument("--site", help="only this site")
    listing.add_argument("--active-only", action="store_true", help="leave out disabled users")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    password = sub.add_parser("set-password", help="set a new password", description="Replace a password.")
    disable = sub.add_parser("disable", help="disable a user (no more logins)", description="Disable a user.")
    enable = sub.add_parser("enable", help="enable a disabled user", description="Enable a user again.")
    for action in (password, disable, enable):
        action.add_argument("--username", required=True, help="the user's login name")
    for action in (add, password):
        action.add_argument(
            "--password-stdin", action="store_true", help="read the password from the first line of stdin"
        )
    if common is not None:
        for action in (add, listing, password, disable, enable):
            common(action)


def read_password(from_stdin: bool, username: str) -> str:
    """The new password, from stdin's first line or typed twice at a hidden prompt."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"New password for {username}: ")
        if getpass.getpass("Repeat it: ") != password:
            raise ConfigError("the two passwords differ; nothing changed")
    try:
        passwords.check_new_password(password)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return password


def _os_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def _check_against_config(cfg: Config, new: NewUser) -> None:
    # With PBXs configured, a typo in --pbx or --site would silently give an agent no screen-pops.
    if not cfg.pbx:
        return
    names = [p.name for p in cfg.pbx]
    if new.pbx is not None and new.pbx not in names:
        raise ConfigError(f"--pbx {new.pbx!r} is not a configured [[pbx]] (known: {', '.join(names)})")
    sites = sorted({p.site for p in cfg.pbx})
    if new.site is not None and new.site.lower() not in {s.lower() for s in sites}:
        raise ConfigError(f"--site {new.site!r} is not a configured site (known: {', '.join(sites)})")


async def _hash(args: argparse.Namespace, username: str) -> str:
    password = await asyncio.to_thread(read_password, args.password_stdin, username)
    return await asyncio.to_thread(passwords.hash_password, password)


async def _add(cfg: Config, engine: AsyncEngine, args: argparse.Namespace) -> int:
    new = NewUser(args.username, args.name, args.role, args.team, args.site, args.iface, args.pbx).checked()
    _check_against_config(cfg, new)
    if await get_user(engine, new.username) is not None:
        # Said before the password prompt, not after the administrator typed it twice.
        raise UserExists(f"user {new.username!r} already exists")
    user = await create_user(engine, new, await _hash(args, new.username))
    await audit(engine, _os_user(), "users.add", user.username, source="cli", detail=user.role)
    team = f", team {user.team}" if user.team else ""
    print(f"user {user.username} ({user.role}{team}) created")
    return 0


async def _list(engine: AsyncEngine, args: argparse.Namespace) -> int:
    found = await list_users(
        engine, role=args.role, team=args.team, site=args.site, active=True if args.active_only else None
    )
    rows = [user.public() for user in found]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(_table(rows))
    return 0


def _table(rows: list[dict[str, Any]]) -> str:
    cells = [list(_COLUMNS)] + [["" if row[c] is None else str(row[c]) for c in _COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    lines = [
        "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)) for line in cells
    ]
    lines.append(f"{len(rows)} user(s)")
    return "\n".join(line.rstrip() for line in lines)


async def _set_password(engine: AsyncEngine, args: argparse.Namespace) -> int:
    user = await get_user(engine, args.username)
    if user is None:
        raise ConfigError(f"no user {args.username!r}")
    await set_password_hash(engine, user.username, await _hash(args, user.username))
    await audit(engine, _os_user(), "users.set_password", user.username, source="cli")
    print(f"password of {user.username} changed")
    return 0


async def _set_active(engine: AsyncEngine, args: argparse.Namespace, active: bool) -> int:
    user = await set_active(engine, args.username, active)
    action = "users.enable" if active else "users.disable"
    await audit(engine, _os_user(), action, user.username, source="cli")
    print(f"user {user.username} {'enabled' if active else 'disabled'}")
    return 0


async def run(cfg: Config, args: argparse.Namespace) -> int:
    """Run one ``hotline users`` action; user mistakes raise :class:`ConfigError` (one line, exit 2)."""
    engine = db.create_engine(cfg.store.url)
    try:
        await db.migrate(engine)
        command = args.users_command
        if command == "add":
            return await _add(cfg, engine, args)
        if command == "list":
            return await _list(engine, args)
        if command == "set-password":
            return await _set_password(engine, args)
        return await _set_active(engine, args, command == "enable")
    except UserError as exc:
        raise ConfigError(str(exc)) from None
    finally:
        await engine.dispose()
