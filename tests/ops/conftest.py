"""A small reader of Asterisk's config syntax, for checking the shipped PBX files.

Asterisk's format: ``[section]`` or ``[section](!)`` / ``[section](template,...)``,
``key = value`` or ``key => value``, ``;`` comments (``\\;`` is a literal semicolon),
``;-- ... --;`` block comments, ``#include file``. Extensions.conf builds on it with
``exten => ext,priority(label),App(args)`` and ``same => n(label),App(args)``.
The reader is strict where Asterisk would silently misread a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ASTERISK_CONFIG = REPO / "asterisk-config"
DIALPLANS = REPO / "dialplans"

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\](?:\((?P<options>[^)]*)\))?$")
_ASSIGN = re.compile(r"^(?P<key>[^=]+?)\s*=>?\s*(?P<value>.*)$")


class ConfSyntaxError(ValueError):
    """A line Asterisk would not read as meant; the message names file and line."""


@dataclass
class Item:
    key: str
    value: str
    line: int


@dataclass
class Section:
    name: str
    line: int
    is_template: bool = False
    templates: tuple[str, ...] = ()
    items: list[Item] = field(default_factory=list)

    def values(self, key: str) -> list[str]:
        return [i.value for i in self.items if i.key == key]

    def get(self, key: str) -> str | None:
        found = self.values(key)
        return found[-1] if found else None


@dataclass
class ConfFile:
    path: Path
    sections: list[Section]
    includes: list[str]

    def named(self, name: str) -> list[Section]:
        return [s for s in self.sections if s.name == name]

    def concrete(self) -> Iterator[Section]:
        """Sections that are not templates."""
        return (s for s in self.sections if not s.is_template)


def _strip_comment(line: str) -> str:
    """Drop a ';' comment, keeping escaped '\\;' (Asterisk's rule)."""
    out = []
    i = 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if line[i] == ";":
            break
        out.append(line[i])
        i += 1
    return "".join(out).strip()


def parse_conf(path: Path) -> ConfFile:
    """Read one Asterisk config file (includes are recorded, not followed)."""
    sections: list[Section] = []
    includes: list[str] = []
    in_block_comment = False
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path.name}:{number}"
        if in_block_comment:
            if "--;" in raw:
                in_block_comment = False
            continue
        if raw.lstrip().startswith(";--"):
            in_block_comment = "--;" not in raw.lstrip()[3:]
            continue
        line = _strip_comment(raw)
        if not line:
            continue
        if line.startswith("#"):
            directive, _, argument = line.partition(" ")
            if directive not in {"#include", "#tryinclude", "#exec"} or not argument.strip():
                raise ConfSyntaxError(f"{where}: unknown directive {line!r}")
            includes.append(argument.strip().strip('"'))
            continue
        if line.startswith("["):
            match = _SECTION.match(line)
            if not match:
                raise ConfSyntaxError(f"{where}: bad section header {line!r}")
            options = [o.strip() for o in (match["options"] or "").split(",") if o.strip()]
            sections.append(
                Section(
                    name=match["name"].strip(),
                    line=number,
                    is_template="!" in options,
                    templates=tuple(o for o in options if o != "!"),
                )
            )
            continue
        match = _ASSIGN.match(line)
        if not match:
            raise ConfSyntaxError(f"{where}: neither a section nor 'key = value': {line!r}")
        if not sections:
            raise ConfSyntaxError(f"{where}: {line!r} comes before any [section]")
        sections[-1].items.append(Item(match["key"].strip(), match["value"].strip(), number))
    return ConfFile(path, sections, includes)


def resolved(conf: ConfFile, section: Section, key: str) -> str | None:
    """A key's value, looking through the section's templates as Asterisk does."""
    own = section.get(key)
    if own is not None:
        return own
    for name in reversed(section.templates):
        for template in conf.named(name):
            value = resolved(conf, template, key)
            if value is not None:
                return value
    return None


@dataclass(frozen=True)
class Step:
    """One dialplan priority: context, extension, label, application and its argument text."""

    context: str
    exten: str
    label: str | None
    app: str
    args: str
    line: int


_PRIORITY = re.compile(r"^(?P<prio>n|\d+|[a-z]+)(?:\((?P<label>[\w-]+)\))?$")
_APP = re.compile(r"^(?P<app>\w+)(?:\((?P<args>.*)\))?$", re.DOTALL)


def dialplan_steps(conf: ConfFile) -> list[Step]:
    """Every priority of every context, with same => lines attached to their extension."""
    steps: list[Step] = []
    for section in conf.sections:
        exten: str | None = None
        for item in section.items:
            if item.key not in {"exten", "same"}:
                continue
            where = f"{conf.path.name}:{item.line}"
            if item.key == "exten":
                exten, _, rest = item.value.partition(",")
                exten = exten.strip()
            elif exten is None:
                raise ConfSyntaxError(f"{where}: 'same' with no extension before it")
            else:
                rest = item.value
            priority, _, application = rest.partition(",")
            prio = _PRIORITY.match(priority.strip())
            app = _APP.match(application.strip())
            if not prio or not app:
                raise ConfSyntaxError(f"{where}: bad extension line {item.value!r}")
            if application.count("(") != application.count(")"):
                raise ConfSyntaxError(f"{where}: unbalanced parentheses in {application!r}")
            steps.append(Step(section.name, exten, prio["label"], app["app"], app["args"] or "", item.line))
    return steps


@pytest.fixture(scope="session")
def asterisk_confs() -> dict[str, ConfFile]:
    """Every shipped file of asterisk-config/, parsed, by file name."""
    return {p.name: parse_conf(p) for p in sorted(ASTERISK_CONFIG.glob("*.conf"))}


@pytest.fixture(scope="session")
def dialplan_files() -> list[ConfFile]:
    """Every dialplans/*.conf, parsed."""
    files = [parse_conf(p) for p in sorted(DIALPLANS.glob("*.conf"))]
    assert files, f"no dialplan in {DIALPLANS}"
    return files


@pytest.fixture(scope="session")
def steps(dialplan_files: list[ConfFile]) -> list[Step]:
    """Every dialplan priority of every shipped dialplan file."""
    return [step for conf in dialplan_files for step in dialplan_steps(conf)]
