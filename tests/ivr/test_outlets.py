"""The outlet directory: CSV import (``hotline outlets import``), lookups, PINs only hashed."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.cli import main
from hotline.config import ConfigError
from hotline.store import create_engine
from ivr.outlets import import_outlets, normalize_phone, parse_csv
from ivr.records import OUTLET, IvrStore


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "outlets.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("raw", "national"),
    [
        ("+62 21-390 1234", "0213901234"),
        ("62213901234", "0213901234"),
        ("021 3901234", "0213901234"),
        (None, ""),
    ],
)
def test_phone_numbers_are_stored_in_national_form(raw: str | None, national: str) -> None:
    assert normalize_phone(raw) == national


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,name\n1,x\n", "missing column(s) phones"),
        ("code,name,phones\n12,x,0211234567\n", ":2: outlet code must be 3 to 12 digits"),
        ("code,name,phones\n123,,0211234567\n", ":2: outlet 123 has no name"),
        ("code,name,phones,pin\n123,x,0211234567,12\n", ":2: outlet 123: the PIN must be 4 to 8 digits"),
        ("code,name,phones\n123,x,02112\n124,y,12\n", ":3: outlet 124: not a phone number"),
        ("code,name,phones\n123,x,0211234567\n123,y,0211234568\n", ":3: outlet 123 already on line 2"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_csv(_csv(tmp_path, text))


async def test_import_upserts_and_keeps_pins_hashed(engine: AsyncEngine, tmp_path: Path) -> None:
    first = (
        "code,name,region,phones,pin\n"
        "12001,CP Kramat,Jakarta,0213901234,4829\n"
        "12002,UPC Depok,,0217770001,1111\n"
    )
    await import_outlets(engine, parse_csv(_csv(tmp_path, first)), replace=False)
    store = IvrStore(engine)
    assert (await store.outlet_by_phone("0213901234")) is not None
    assert (await store.outlet_by_code_and_pin("12001", "4829")) is not None
    assert await store.outlet_by_code_and_pin("12001", "4828") is None
    # A new phone and no PIN column value: the stored PIN stays, the old phone goes.
    second = "code,name,region,phones,pin\n12001,CP Kramat Raya,Jakarta,0213905555,\n"
    await import_outlets(engine, parse_csv(_csv(tmp_path, second)), replace=False)
    outlet = await store.outlet_by_code_and_pin("12001", "4829")
    assert outlet is not None and outlet.name == "CP Kramat Raya"
    assert await store.outlet_by_phone("0213901234") is None
    assert await store.outlet_by_phone("0217770001") is not None
    async with engine.connect() as connection:
        hashes = [r.pin_hash for r in await connection.execute(sa.select(OUTLET))]
    assert all(h.startswith("pbkdf2_sha256$") and "4829" not in h for h in hashes)
    await import_outlets(engine, parse_csv(_csv(tmp_path, second)), replace=True)
    assert await store.outlet_by_phone("0217770001") is None


async def test_one_phone_for_two_outlets_is_refused(engine: AsyncEngine, tmp_path: Path) -> None:
    text = "code,name,phones\n12001,a,0213901234\n12002,b,+62213901234\n"
    with pytest.raises(ConfigError, match="listed for two outlets"):
        await import_outlets(engine, parse_csv(_csv(tmp_path, text)), replace=False)


def test_cli_command_imports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, "code,name,phones,pin\n12001,CP Kramat,0213901234;081311112222,4829\n")
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    assert main(["outlets", "import", str(path), "--db", url, "--log-level", "error"]) == 0
    assert "imported 1 outlets with 2 phone numbers" in capsys.readouterr().out

    async def lookup() -> object:
        engine = create_engine(url)
        try:
            return await IvrStore(engine).outlet_by_phone("081311112222")
        finally:
            await engine.dispose()

    assert asyncio.run(lookup()) is not None


def test_cli_bad_file_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, "code,name\n")
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    assert main(["outlets", "import", str(path), "--db", url, "--log-level", "error"]) == 2
    assert "missing column(s) phones" in capsys.readouterr().err
