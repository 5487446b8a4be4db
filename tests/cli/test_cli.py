"""The ``hotline`` command: help on every subcommand, one-line errors, ingest idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
SUBCOMMANDS = ["serve", "demo", "ingest", "kpi", "migrate", "cti-token", "report", "wfm"]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_explains_itself(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: hotline " + command)
    assert len(out.splitlines()) > 5


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("hotline: error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ingest", "--ami-trace", "no/such/file.raw", "--pbx", "jkt"], "file not found"),
        (["kpi", "--from", "yesterday"], "not an ISO 8601"),
        (["kpi", "--config", "no/such/hotline.toml"], "config file not found"),
        (["kpi", "--db", "mysql+nothing://x@127.0.0.1/db"], "database"),
        (["serve"], "no [[pbx]] configured"),
        (["cti-token", "--agent", "1001", "--iface", "PJSIP/1001"], "token_secret"),
    ],
)
def test_user_errors_are_one_clear_line(
    argv: list[str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the default SQLite file lands in tmp_path/var
    monkeypatch.delenv("HOTLINE_CTI_TOKEN_SECRET", raising=False)
    code = main(argv)
    assert code == 2
    assert expected.lower() in _one_line_error(capsys).lower()


def test_bad_option_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["kpi", "--no-such-option"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no-such-option" in _one_line_error(capsys)


def test_bad_toml_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "hotline.toml"
    bad.write_text("[log\nformat = 'json'\n", encoding="utf-8")
    assert main(["kpi", "--config", str(bad)]) == 2
    assert "not valid TOML" in _one_line_error(capsys)


def test_ingest_twice_stores_nothing_new_and_kpis_match_the_capture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/h.db"
    trace = str(FIXTURES / "answered-hold" / "ami.raw")
    args = ["ingest", "--ami-trace", trace, "--pbx", "ref", "--db", db, "--log-level", "error"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "ingested 141 events" in first and "141 new" in first
    assert main(args) == 0
    assert "0 new, 141 already stored" in capsys.readouterr().out
    assert main(["kpi", "--json", "--db", db, "--log-level", "error"]) == 0
    kpis = json.loads(capsys.readouterr().out)
    assert (kpis["offered"], kpis["answered"], kpis["abandoned"], kpis["scr"], kpis["aht"]) == (
        1,
        1,
        0,
        100.0,
        11.0,
    )


def test_ingest_of_a_file_without_ami_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.raw"
    junk.write_bytes(b"\x00\xffnot ami at all\r\n")
    code = main(
        ["ingest", "--ami-trace", str(junk), "--pbx", "x", "--db", f"sqlite+aiosqlite:///{tmp_path}/h.db"]
    )
    assert code == 2
    assert "no AMI event" in _one_line_error(capsys)
