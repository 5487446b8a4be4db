"""scripts/hotline-fallback.agi, run as Asterisk runs it: a subprocess speaking AGI on stdin/stdout.

The fake Asterisk here writes the agi_* environment block, then answers each
command as Asterisk 22 does (GET VARIABLE: result=1 (value) or result=0;
STREAM FILE of a missing file: result=-1 endpos=0).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from hotline import names

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "hotline-fallback.agi"
CALLER = "081234567890"


@dataclass
class FakeAsterisk:
    """Channel variables and sound files of one call; answers the script's commands."""

    variables: dict[str, str] = field(default_factory=dict)
    sounds: set[str] = field(default_factory=lambda: {"hotline/maaf-gangguan", "pls-hold-while-try"})
    hang_up_during_playback: bool = False
    commands: list[str] = field(default_factory=list)

    def reply(self, command: str) -> str:
        words = command.split()
        verb = " ".join(words[:2]).upper()
        if verb == "GET VARIABLE":
            value = self.variables.get(words[2].strip('"'))
            return "200 result=0" if value is None else f"200 result=1 ({value})"
        if verb == "SET VARIABLE":
            name, value = (w.strip('"') for w in words[2:4])
            self.variables[name] = value
            return "200 result=1"
        if verb == "STREAM FILE":
            if self.hang_up_during_playback or words[2] not in self.sounds:
                return "200 result=-1 endpos=0"
            return "200 result=0 endpos=12000"
        if words[0].upper() == "VERBOSE":
            return "200 result=1"
        return "510 Invalid or unknown command"


def _environment(line: str) -> str:
    env = {
        "agi_request": "hotline-fallback.agi",
        "agi_channel": "PJSIP/provider-00000001",
        "agi_language": "id",
        "agi_type": "PJSIP",
        "agi_uniqueid": "1732430000.1",
        "agi_version": "22.10.1",
        "agi_callerid": CALLER,
        "agi_calleridname": "unknown",
        "agi_dnid": "1500569",
        "agi_context": "hotline-ivr-result",
        "agi_extension": "s",
        "agi_priority": "8",
        "agi_enhanced": "0.0",
        "agi_arg_1": line,
    }
    return "".join(f"{key}: {value}\n" for key, value in env.items()) + "\n"


def run_script(asterisk: FakeAsterisk, line: str = "main", stop_after_env: bool = False) -> int:
    with subprocess.Popen(  # noqa: S603 (the script under test, no shell)
        [sys.executable, str(SCRIPT), line],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdin and proc.stdout and proc.stderr
        proc.stdin.write(_environment(line))
        proc.stdin.flush()
        if stop_after_env:
            proc.stdin.close()
        else:
            for command in proc.stdout:
                asterisk.commands.append(command.strip())
                proc.stdin.write(asterisk.reply(command.strip()) + "\n")
                proc.stdin.flush()
        proc.wait(timeout=10)
        errors = proc.stderr.read()
    assert CALLER not in errors, "the caller's number must not reach any log"
    return proc.returncode


def test_hotline_down_routes_to_the_fallback_queue_with_an_apology() -> None:
    asterisk = FakeAsterisk()
    assert run_script(asterisk) == 0
    assert asterisk.variables[names.VAR_QUEUE] == names.FALLBACK_QUEUE
    played = [c.split()[2] for c in asterisk.commands if c.startswith("STREAM FILE")]
    assert played == ["hotline/maaf-gangguan"]
    # The route is set before the apology plays.
    first_set = next(i for i, c in enumerate(asterisk.commands) if c.startswith("SET VARIABLE"))
    first_play = next(i for i, c in enumerate(asterisk.commands) if c.startswith("STREAM FILE"))
    assert first_set < first_play


def test_sapa_line_goes_to_the_helpdesk() -> None:
    asterisk = FakeAsterisk()
    assert run_script(asterisk, line="sapa") == 0
    assert asterisk.variables[names.VAR_QUEUE] == names.QUEUE_SAPA_HELPDESK


def test_a_queue_hotline_already_chose_is_kept() -> None:
    asterisk = FakeAsterisk(variables={names.VAR_QUEUE: names.QUEUE_PEMBAYARAN, names.VAR_STATUS: "FAILED"})
    assert run_script(asterisk) == 0
    assert asterisk.variables[names.VAR_QUEUE] == names.QUEUE_PEMBAYARAN


def test_an_unknown_queue_name_is_not_trusted() -> None:
    asterisk = FakeAsterisk(variables={names.VAR_QUEUE: "no-such-queue"})
    assert run_script(asterisk) == 0
    assert asterisk.variables[names.VAR_QUEUE] == names.FALLBACK_QUEUE


def test_missing_custom_apology_plays_the_core_sound() -> None:
    asterisk = FakeAsterisk(sounds={"pls-hold-while-try"})
    assert run_script(asterisk) == 0
    played = [c.split()[2] for c in asterisk.commands if c.startswith("STREAM FILE")]
    assert played == ["hotline/maaf-gangguan", "pls-hold-while-try"]
    assert asterisk.variables[names.VAR_QUEUE] == names.FALLBACK_QUEUE


def test_caller_hanging_up_during_the_apology_is_still_routed() -> None:
    asterisk = FakeAsterisk(hang_up_during_playback=True)
    assert run_script(asterisk) == 0
    assert asterisk.variables[names.VAR_QUEUE] == names.FALLBACK_QUEUE


def test_asterisk_gone_makes_the_script_fail_so_the_static_route_runs() -> None:
    # A non-zero exit is AGISTATUS=FAILURE: the dialplan's static route takes over.
    assert run_script(FakeAsterisk(), stop_after_env=True) != 0


def _constant(name: str) -> object:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            value = node.value
            if isinstance(value, ast.Call):  # frozenset({...})
                value = value.args[0]
            return ast.literal_eval(value)
    raise AssertionError(f"{name} not in {SCRIPT.name}")


def test_queue_names_agree_with_hotline_names() -> None:
    assert _constant("FALLBACK_QUEUE") == names.FALLBACK_QUEUE
    assert _constant("KNOWN_QUEUES") == set(names.ALL_QUEUES)
    assert _constant("LINE_QUEUES") == {"sapa": names.QUEUE_SAPA_HELPDESK, "payment": names.QUEUE_PEMBAYARAN}
    assert _constant("VAR_QUEUE") == names.VAR_QUEUE


def test_script_is_executable_with_a_python3_shebang() -> None:
    assert SCRIPT.stat().st_mode & 0o100, "Asterisk runs agi-bin scripts directly: chmod +x"
    assert SCRIPT.read_text(encoding="utf-8").startswith("#!/usr/bin/env python3\n")
