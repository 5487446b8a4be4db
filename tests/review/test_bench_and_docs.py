"""The issue's benchmarks run and print a ratio against their peer; README and CI agree.

The benchmarks run here on a tiny input (their figures mean nothing at that size): the point is that
``./run bench`` cannot rot unnoticed. The real figures come from ``./run bench``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
RATIO = re.compile(r"(\d+(?:\.\d+)?)x\b|x(\d+(?:\.\d+)?)\b")


@pytest.mark.parametrize(
    ("script", "args", "peer"),
    [
        ("bench/bench_ami.py", ["--events", "3000", "--rounds", "1"], "panoramisk"),
        ("bench/bench_agi.py", ["--sessions", "20", "--commands", "3", "--rounds", "1"], "panoramisk"),
    ],
)
def test_benchmark_runs_and_prints_a_ratio_against_its_peer(script: str, args: list[str], peer: str) -> None:
    done = subprocess.run(  # noqa: S603 - a script of this repository with fixed arguments
        [sys.executable, str(ROOT / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert peer in done.stdout
    ratios = [float(a or b) for a, b in RATIO.findall(done.stdout)]
    assert ratios and all(r > 0 for r in ratios), done.stdout


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _quick_start_commands() -> list[str]:
    section = _readme().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def test_quick_start_is_two_commands_demo_and_the_test_suite() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2, commands
    demo, tests = commands
    assert demo.split()[-1] == "demo" and tests.split()[-1] == "test"
    # Both go through ./run, which installs what it needs: nothing else to type on a fresh machine.
    assert all(c.startswith("./run ") for c in commands)
    assert (ROOT / "run").stat().st_mode & 0o111


def test_ci_runs_the_readme_test_command_and_nothing_less() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111
    runs = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert runs[-1] == f"exec {_quick_start_commands()[1]}", runs
    # ... and that command runs the static checks and the whole suite, with no test selection.
    run = (ROOT / "run").read_text(encoding="utf-8")
    body = run.split("run_test() {", 1)[1].split("\n}", 1)[0]
    for step in (
        '"$VENV/bin/ruff" check .',
        '"$VENV/bin/mypy"',
        '"$VENV/bin/lint-imports"',
        '"$VENV/bin/pytest" -q',
    ):
        assert step in body, step
    assert " -m " not in body and " -k " not in body and "--deselect" not in body


def test_every_command_the_readme_names_exists() -> None:
    choices = set()
    for action in build_parser()._actions:
        choices.update(getattr(action, "choices", None) or {})
    named = set(re.findall(r"`hotline ([a-z-]+)", _readme()))
    assert named and named <= choices, named - choices


def test_readme_performance_gives_the_issue_s_two_figures_with_their_ratios() -> None:
    section = _readme().split("## Performance", 1)[1].split("\n## ", 1)[0]
    assert "BENCH_" not in section, "a benchmark placeholder was never filled in"
    for script in ("bench/bench_ami.py", "bench/bench_agi.py"):
        [row] = [line for line in section.splitlines() if script in line]
        assert "panoramisk" in row and re.search(r"×\s?\d", row), row
