"""The Asterisk 22 emulator is for tests and ``hotline demo`` only: nothing that serves a real PBX
imports it, and ``hotline serve`` without a ``[[pbx]]`` refuses rather than falling back to it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hotline.cli import main

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hotline", "ivr", "cti", "recording")
MAY_IMPORT_IT = {"hotline.demo"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_only_the_demo_imports_the_emulator() -> None:
    importers = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = _module_name(path)
            if module.startswith("hotline.emulator"):
                continue
            if any(
                name == "hotline.emulator" or name.startswith("hotline.emulator.") for name in _imports(path)
            ):
                importers.add(module)
    assert importers == MAY_IMPORT_IT


def test_serve_without_a_pbx_refuses_instead_of_emulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--agi-port", "0", "--http-port", "0"]) == 2
    assert "no [[pbx]] configured" in capsys.readouterr().err
