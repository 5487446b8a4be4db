"""hotline.example.toml and docs/configuration.md document every key of hotline.config, truthfully."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from hotline import config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "hotline.example.toml"
DOC = REPO / "docs" / "configuration.md"
SECTIONS = {f.name: f.default.__class__ for f in dataclasses.fields(config.Config) if f.name != "pbx"}


def _section_text(text: str, header: str) -> str:
    """The lines of one TOML table, up to the next table header."""
    start = text.index(header)
    rest = text[start + len(header) :]
    next_header = re.search(r"^\[", rest, re.MULTILINE)
    return rest[: next_header.start()] if next_header else rest


def test_example_loads_with_the_real_loader() -> None:
    loaded = config.load_file(EXAMPLE)
    assert [p.name for p in loaded.pbx] == ["jakarta", "yogyakarta"]
    assert [p.site for p in loaded.pbx] == ["jakarta", "yogyakarta"]


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_key_of_a_section_is_in_the_example(section: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text).get(section, {})
    body = _section_text(text, f"[{section}]")
    for field in dataclasses.fields(SECTIONS[section]):
        if field.default is None:
            # TOML has no null: an optional key is shown commented out.
            assert re.search(rf"^#\s*{field.name}\s*=", body, re.MULTILINE), f"[{section}] {field.name}"
        else:
            assert field.name in data, f"[{section}] {field.name} is not documented in the example"


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_example_shows_the_defaults(section: str) -> None:
    """The example is a map of the defaults; a changed default must change the example too."""
    loaded = getattr(config.load_file(EXAMPLE), section)
    assert loaded == getattr(config.Config(), section)


def test_every_pbx_key_is_in_each_example_pbx() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    keys = {f.name for f in dataclasses.fields(config.PbxConfig)}
    for pbx in data["pbx"]:
        assert set(pbx) == keys, pbx["name"]


def test_example_pbx_defaults_match_the_dataclass() -> None:
    for pbx in config.load_file(EXAMPLE).pbx:
        default = config.PbxConfig(name=pbx.name, site=pbx.site, ami_secret=pbx.ami_secret)
        assert pbx == default


def test_example_secrets_are_placeholders() -> None:
    for pbx in config.load_file(EXAMPLE).pbx:
        assert pbx.ami_secret.reveal() == "CHANGE-ME"
        assert f"HOTLINE_PBX_{pbx.name.upper()}_AMI_SECRET" in EXAMPLE.read_text(encoding="utf-8")


def test_docs_name_every_environment_variable() -> None:
    doc = DOC.read_text(encoding="utf-8")
    expected = ["HOTLINE_CONFIG", "HOTLINE_DB"]
    for section, cls in SECTIONS.items():
        expected += [f"HOTLINE_{section.upper()}_{f.name.upper()}" for f in dataclasses.fields(cls)]
    expected += [
        f"HOTLINE_PBX_<NAME>_{f.name.upper()}"
        for f in dataclasses.fields(config.PbxConfig)
        if f.name != "name"
    ]
    missing = [name for name in expected if f"`{name}`" not in doc]
    assert missing == []


def test_documented_environment_variables_really_apply() -> None:
    """Each HOTLINE_<SECTION>_<KEY> in the doc is read by apply_env (no invented names)."""
    doc = DOC.read_text(encoding="utf-8")
    known = {
        f"HOTLINE_{section.upper()}_{f.name.upper()}"
        for section, cls in SECTIONS.items()
        for f in dataclasses.fields(cls)
    }
    documented = set(re.findall(r"`(HOTLINE_(?!PBX_|CONFIG`|DB`|TEST_)[A-Z_]+)`", doc))
    assert documented - known == set()
