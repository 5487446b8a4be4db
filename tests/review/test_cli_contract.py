"""The ``hotline`` command's promises, for every subcommand there is (features' included).

Help on each (nested ones too); errors a user can cause are one ``hotline: error:`` line, exit 2,
no traceback, and a database password never shows, whether the URL came by flag or environment.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.cli import build_parser, main

HOTLINE = Path(sys.executable).with_name("hotline")
PASSWORD = "pw-Never-Shown-42"
DEAD_PG = f"postgresql+asyncpg://nobody:{PASSWORD}@127.0.0.1:1/x"


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found.extend(_commands(sub, (*prefix, name)))
    return found


COMMANDS = _commands(build_parser())


def test_the_issue_s_commands_exist() -> None:
    assert {("serve",), ("demo",), ("ingest",), ("kpi",)} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_says_what_each_command_does(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: hotline " + " ".join(command))
    body = out.split("\n\n", 1)[1]  # after the usage block: the description, then the options
    assert len(body.split()) >= 4, f"'hotline {' '.join(command)} --help' explains nothing"


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("hotline: error: ")]
    assert len(errors) == 1, err
    assert PASSWORD not in err
    return errors[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["kpi", "--db", DEAD_PG],
        ["migrate", "--db", DEAD_PG],
        ["ingest", "--ami-trace", "{trace}", "--pbx", "jakarta", "--db", DEAD_PG],
        ["rebuild", "--db", DEAD_PG],
        ["serve", "--config", "{config}", "--db", DEAD_PG, "--agi-port", "0", "--http-port", "0"],
        ["demo", "--db", DEAD_PG, "--agi-port", "0", "--http-port", "0", "--duration", "1"],
    ],
    ids=lambda argv: argv[0],
)
def test_an_unreachable_database_is_one_line_with_its_password_masked(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "hotline.toml"
    config.write_text('[[pbx]]\nname = "jakarta"\nsite = "jakarta"\nami_port = 1\n', encoding="utf-8")
    trace = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22" / "abandon" / "ami.raw"
    argv = [a.format(trace=trace, config=config) for a in argv]
    assert main([*argv, "--log-level", "error"]) == 2
    line = _one_line(capsys)
    assert "nobody:***@127.0.0.1:1/x" in line and "connect" in line.lower()


def test_the_database_url_from_the_environment_is_used_and_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTLINE_DB", DEAD_PG)
    assert main(["kpi"]) == 2
    assert "nobody:***@127.0.0.1:1/x" in _one_line(capsys)


def test_the_config_file_from_the_environment_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "missing.toml"))
    assert main(["kpi"]) == 2
    assert "config file not found" in _one_line(capsys)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["kpi", "--db", DEAD_PG], "nobody:***@"),
        (["ingest", "--ami-trace", "no/such.raw", "--pbx", "jakarta"], "file not found: no/such.raw"),
        (["kpi", "--no-such-flag"], "unrecognized arguments"),
        (["serve", "--http-port", "eighty"], "invalid int value"),
        (["no-such-command"], "invalid choice"),
    ],
)
def test_the_installed_command_prints_one_line_and_exits_2(
    argv: list[str], expected: str, tmp_path: Path
) -> None:
    """The console script itself, as a user runs it: nothing but the one line on stderr."""
    done = subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [str(HOTLINE), *argv], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("hotline: error: "), done.stderr
    assert expected in done.stderr and PASSWORD not in done.stderr
