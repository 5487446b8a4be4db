"""``hotline users`` through hotline.cli.main: add, list, set-password, disable, enable."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.auth import audit_entries, passwords
from hotline.auth.model import User
from hotline.auth.users import get_user
from hotline.cli import main
from hotline.store import create_engine

SITI = ["--username", "1001", "--name", "Siti Rahma", "--role", "agent", "--team", "A"]
SITI += ["--site", "jakarta", "--iface", "PJSIP/1001"]


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite database URL (the CLI migrates it on first use)."""
    return f"sqlite+aiosqlite:///{tmp_path}/cli.db"


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Replace stdin; write the piped password into it before running the command."""
    fake = io.StringIO()
    monkeypatch.setattr("sys.stdin", fake)
    yield fake


def _pipe(stdin: io.StringIO, text: str) -> None:
    stdin.seek(0)
    stdin.truncate()
    stdin.write(text)
    stdin.seek(0)


def _user(db: str, username: str) -> User | None:
    async def read() -> User | None:
        engine = create_engine(db)
        try:
            return await get_user(engine, username)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _audit_actions(db: str) -> list[tuple[str, str]]:
    async def read() -> list[tuple[str, str]]:
        engine = create_engine(db)
        try:
            return [(row.action, row.target) for row in await audit_entries(engine)]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_add_with_password_stdin_then_list(
    db: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    _pipe(stdin, "kata-sandi-siti\n")
    assert main(["users", "add", *SITI, "--password-stdin", "--db", db]) == 0
    assert "user 1001 (agent, team A) created" in capsys.readouterr().out
    user = _user(db, "1001")
    assert user is not None and user.active and user.iface == "PJSIP/1001"
    assert passwords.verify_password("kata-sandi-siti", user.password_hash)
    assert "kata-sandi-siti" not in user.password_hash

    assert main(["users", "list", "--db", db]) == 0
    table = capsys.readouterr().out
    assert "Siti Rahma" in table and "PJSIP/1001" in table and "1 user(s)" in table
    assert "$scrypt$" not in table
    assert main(["users", "list", "--json", "--role", "agent", "--db", db]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["username"], row["team"], row["active"]) == ("1001", "A", True)
    assert "password_hash" not in row


def test_add_asks_the_password_twice_at_a_prompt(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return "typed twice ok"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    args = ["users", "add", "--username", "qc.dewi", "--name", "Dewi", "--role", "qc", "--db", db]
    assert main(args) == 0
    assert prompts == ["New password for qc.dewi: ", "Repeat it: "]
    user = _user(db, "qc.dewi")
    assert user is not None and passwords.verify_password("typed twice ok", user.password_hash)


def test_two_different_passwords_at_the_prompt_change_nothing(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["first password", "second password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "add", *SITI, "--db", db]) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    assert _user(db, "1001") is None


def test_set_password_disable_and_enable(
    db: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    _pipe(stdin, "first password\n")
    assert main(["users", "add", *SITI, "--password-stdin", "--db", db]) == 0
    _pipe(stdin, "second password\n")
    assert main(["users", "set-password", "--username", "1001", "--password-stdin", "--db", db]) == 0
    user = _user(db, "1001")
    assert user is not None
    assert passwords.verify_password("second password", user.password_hash)
    assert not passwords.verify_password("first password", user.password_hash)

    assert main(["users", "disable", "--username", "1001", "--db", db]) == 0
    assert "user 1001 disabled" in capsys.readouterr().out
    assert (user := _user(db, "1001")) is not None and not user.active
    assert main(["users", "list", "--active-only", "--db", db]) == 0
    assert "0 user(s)" in capsys.readouterr().out
    assert main(["users", "enable", "--username", "1001", "--db", db]) == 0
    assert (user := _user(db, "1001")) is not None and user.active

    actions = _audit_actions(db)
    assert actions == [
        ("users.add", "1001"),
        ("users.set_password", "1001"),
        ("users.disable", "1001"),
        ("users.enable", "1001"),
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["users", "add", *SITI[:-2], "--password-stdin"], "phone interface"),
        (["users", "add", *SITI[:6], "--iface", "PJSIP/1001", "--password-stdin"], "needs a team"),
        (["users", "add", *SITI, "--username", "bad name", "--password-stdin"], "username"),
        (["users", "set-password", "--username", "9999", "--password-stdin"], "no user '9999'"),
        (["users", "disable", "--username", "9999"], "no user '9999'"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(
    db: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    _pipe(stdin, "good password\n")
    assert main([*argv, "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hotline: error: ") and message in err and err.count("\n") == 1


def test_a_short_password_or_a_taken_username_is_refused(
    db: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    _pipe(stdin, "short\n")
    assert main(["users", "add", *SITI, "--password-stdin", "--db", db]) == 2
    assert "at least 8" in capsys.readouterr().err
    _pipe(stdin, "good password\n")
    assert main(["users", "add", *SITI, "--password-stdin", "--db", db]) == 0
    _pipe(stdin, "good password\n")
    assert main(["users", "add", *SITI, "--password-stdin", "--db", db]) == 2
    assert "already exists" in capsys.readouterr().err


def test_pbx_and_site_must_exist_when_pbxs_are_configured(
    db: str, stdin: io.StringIO, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hotline.toml"
    config.write_text('[[pbx]]\nname = "jkt"\nsite = "jakarta"\n', encoding="utf-8")
    _pipe(stdin, "good password\n")
    argv = ["users", "add", *SITI, "--pbx", "jkt2", "--password-stdin", "--db", db, "--config", str(config)]
    assert main(argv) == 2
    assert "--pbx 'jkt2' is not a configured [[pbx]] (known: jkt)" in capsys.readouterr().err
    _pipe(stdin, "good password\n")
    argv[argv.index("jkt2")] = "jkt"
    assert main(argv) == 0


def test_the_password_never_reaches_the_command_line() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["users", "add", *SITI, "--password", "x"])
    assert caught.value.code == 2
