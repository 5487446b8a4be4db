"""The SAPA outlet directory: import from CSV (``hotline outlets import FILE.csv``).

CSV columns (header row required, order free, extra columns ignored)::

    code,name,region,phones,pin
    12001,CP Kramat Jakarta,Jakarta,021-3901234;081311112222,482913

- ``code``: the outlet code staff key in when their phone is not recognised (digits, 3-12);
- ``phones``: the numbers the outlet calls from, separated by ``;``, in any usual
  form (``021 390 1234``, ``+62 21 3901234``); they are stored in national form (``0213901234``);
- ``pin``: 4 to 8 digits, stored only as a salted hash; leave it empty to keep the stored PIN.

An import is one transaction: a file with any bad row changes nothing and names the line.
Rows upsert by code (the outlet's phone list is replaced); ``--replace`` also removes every
outlet the file does not list.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.config import Config, ConfigError
from hotline.feature import CliCommand
from hotline.logs import get_logger, mask_number
from hotline.store import create_engine, migrate
from ivr.outlet_pins import hash_pin
from ivr.records import OUTLET, OUTLET_PHONE, dialect_insert

log = get_logger(__name__)

_CODE: Final = re.compile(r"[0-9]{3,12}")
_PIN: Final = re.compile(r"[0-9]{4,8}")
REQUIRED_COLUMNS: Final = ("code", "name", "phones")


def normalize_phone(number: str | None) -> str:
    """A calling number in national form: '+62 21-390 1234' and '62213901234' -> '0213901234'."""
    digits = re.sub(r"[^0-9]", "", number or "")
    if digits.startswith("62") and len(digits) > 8:
        digits = "0" + digits[2:]
    return digits


@dataclass(frozen=True)
class OutletEntry:
    code: str
    name: str
    region: str
    phones: tuple[str, ...]
    pin: str


def parse_csv(path: Path) -> list[OutletEntry]:
    """The file's rows, checked; raises ConfigError naming the first bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ConfigError(
            f"{path}: missing column(s) {', '.join(missing)} (need {', '.join(REQUIRED_COLUMNS)})"
        )
    entries: list[OutletEntry] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        code, pin = row.get("code", ""), row.get("pin", "")
        if not _CODE.fullmatch(code):
            raise ConfigError(f"{path}:{line}: outlet code must be 3 to 12 digits, got {code[:20]!r}")
        if code in seen:
            raise ConfigError(f"{path}:{line}: outlet {code} already on line {seen[code]}")
        seen[code] = line
        if not row.get("name"):
            raise ConfigError(f"{path}:{line}: outlet {code} has no name")
        if pin and not _PIN.fullmatch(pin):
            raise ConfigError(f"{path}:{line}: outlet {code}: the PIN must be 4 to 8 digits")
        phones = tuple(p for p in (normalize_phone(x) for x in row["phones"].split(";")) if p)
        bad = [p for p in phones if not 5 <= len(p) <= 15]
        if bad:
            raise ConfigError(f"{path}:{line}: outlet {code}: not a phone number: {bad[0][:20]!r}")
        entries.append(OutletEntry(code, row["name"], row.get("region", ""), phones, pin))
    return entries


async def import_outlets(engine: AsyncEngine, entries: list[OutletEntry], *, replace: bool) -> int:
    """Upsert ``entries`` in one transaction; returns how many outlets were written."""
    owners: dict[str, str] = {}
    for entry in entries:
        for phone in entry.phones:
            if owners.setdefault(phone, entry.code) != entry.code:
                raise ConfigError(f"phone {mask_number(phone)} is listed for two outlets")
    hashes = await asyncio.to_thread(lambda: {e.code: hash_pin(e.pin) for e in entries if e.pin})
    now = time.time()
    async with engine.begin() as connection:
        if replace:
            await connection.execute(sa.delete(OUTLET_PHONE))
            await connection.execute(sa.delete(OUTLET).where(OUTLET.c.code.not_in([e.code for e in entries])))
        for entry in entries:
            values = {"code": entry.code, "name": entry.name, "region": entry.region, "updated_at": now}
            update = dict(values)
            if entry.code in hashes:
                update["pin_hash"] = hashes[entry.code]
            statement = dialect_insert(connection, OUTLET)
            await connection.execute(
                statement.on_conflict_do_update(index_elements=["code"], set_=update),
                {**values, "pin_hash": hashes.get(entry.code, "")},
            )
        codes = [e.code for e in entries]
        await connection.execute(
            sa.delete(OUTLET_PHONE).where(
                OUTLET_PHONE.c.outlet_code.in_(codes) | OUTLET_PHONE.c.phone.in_(list(owners))
            )
        )
        if owners:
            await connection.execute(
                sa.insert(OUTLET_PHONE), [{"phone": p, "outlet_code": c} for p, c in owners.items()]
            )
    return len(entries)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    # One parser level (not sub-subcommands), so the common options (--db, --config) go anywhere.
    parser.add_argument("action", choices=["import"], help="import: load outlets from a CSV file")
    parser.add_argument("file", type=Path, help="CSV file with a header row: code,name,region,phones,pin")
    parser.add_argument("--replace", action="store_true", help="remove outlets the file does not list")


async def _run(config: Config, args: argparse.Namespace) -> int:
    entries = parse_csv(args.file)
    engine = create_engine(config.store.url)
    try:
        await migrate(engine)
        count = await import_outlets(engine, entries, replace=args.replace)
    finally:
        await engine.dispose()
    phones = sum(len(e.phones) for e in entries)
    print(f"imported {count} outlets with {phones} phone numbers")
    log.info("outlets imported", outlets=count, phones=phones, replace=args.replace)
    return 0


OUTLETS_COMMAND: Final = CliCommand(
    name="outlets",
    help="manage the SAPA outlet directory",
    description="Import the outlet directory the SAPA line identifies callers with.",
    add_arguments=_add_arguments,
    run=_run,
)
