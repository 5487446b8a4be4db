#!/usr/bin/env python3
"""Placeholder audio for every custom prompt, so a fresh install plays something meaningful.

Reads the IVR's prompt catalogue (ivr/prompts.py) plus the prompts the dialplan's
fallback plays, speaks each text with espeak-ng (voice ``id`` for Indonesian, ``en``
for English) and converts it with sox to what Asterisk's format_wav reads: 8 kHz,
mono, 16-bit PCM. The files land in Asterisk's sounds layout::

    <out>/id/hotline/menu-utama.wav
    <out>/en/hotline/menu-utama.wav

so ``<out>`` is copied or mounted as /var/lib/asterisk/sounds (next to the core
sounds). English prompts Asterisk already ships (``core_en``) are not generated.

    scripts/make_prompts.py --out sounds                 # everything
    scripts/make_prompts.py --out /tmp/s --only hotline/menu-utama --lang id
    scripts/make_prompts.py --docs docs/running-with-asterisk.md   # refresh the prompt table

Record the real prompts in a studio under the same names to replace them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ivr.prompts import CATALOGUE

LANGUAGES = ("id", "en")
DOCS_BEGIN = "<!-- prompts:begin (scripts/make_prompts.py --docs) -->"
DOCS_END = "<!-- prompts:end -->"


@dataclass(frozen=True)
class PromptText:
    """One prompt file: its name under sounds/<lang>/ and its text per language."""

    name: str
    texts: dict[str, str]
    core_en: bool = False


DIALPLAN_PROMPTS = (
    PromptText(
        "hotline/maaf-gangguan",
        {
            "id": "Mohon maaf, sistem kami sedang mengalami gangguan. "
            "Anda akan kami hubungkan dengan agen kami.",
            "en": "We are sorry, our system is having a problem. We will connect you to one of our agents.",
        },
    ),
)
"""Played by scripts/hotline-fallback.agi when hotline cannot take the call."""


def all_prompts() -> list[PromptText]:
    """The IVR's catalogue, then the dialplan's own prompts."""
    ivr = [PromptText(p.name, {"id": p.id, "en": p.en}, p.core_en) for p in CATALOGUE]
    return ivr + list(DIALPLAN_PROMPTS)


def _tools() -> tuple[str, str]:
    """Full paths of espeak-ng and sox, or a clear error naming what to install."""
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if espeak is None or sox is None:
        missing = " and ".join(name for name, path in (("espeak-ng", espeak), ("sox", sox)) if path is None)
        raise SystemExit(f"make_prompts: install {missing} (Debian: apt-get install espeak-ng sox)")
    return espeak, sox


def synthesize(text: str, language: str, target: Path) -> None:
    """Speak ``text`` in ``language`` into ``target`` as 8 kHz mono 16-bit PCM WAV."""
    espeak, sox = _tools()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        spoken = Path(work) / "spoken.wav"
        # -s 150: a little slower than the default, as IVR prompts are spoken. The
        # text is one argument (no shell), so nothing in it is ever interpreted.
        subprocess.run([espeak, "-v", language, "-s", "150", "-w", str(spoken), text], check=True)  # noqa: S603
        resample = [
            sox,
            str(spoken),
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(target),
        ]
        subprocess.run(resample, check=True)  # noqa: S603


def jobs(prompts: Iterable[PromptText], languages: Sequence[str], out: Path) -> list[tuple[str, str, Path]]:
    """(text, language, file) for every prompt file to make."""
    work = []
    for prompt in prompts:
        for language in languages:
            if language == "en" and prompt.core_en:
                continue
            work.append((prompt.texts[language], language, out / language / f"{prompt.name}.wav"))
    return work


def make(out: Path, only: Sequence[str] = (), languages: Sequence[str] = LANGUAGES) -> list[Path]:
    """Generate the files (all, or the prompts named in ``only``); returns their paths."""
    _tools()
    prompts = all_prompts()
    if only:
        unknown = set(only) - {p.name for p in prompts}
        if unknown:
            raise SystemExit(f"make_prompts: no prompt named {', '.join(sorted(unknown))}")
        prompts = [p for p in prompts if p.name in only]
    work = jobs(prompts, languages, out)
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda job: synthesize(*job), work))
    return [path for _, _, path in work]


def markdown_table() -> str:
    """The prompt list for the docs: file name and its Indonesian and English text."""
    lines = ["| file (sounds/&lt;lang&gt;/…) | Bahasa Indonesia | English |", "|---|---|---|"]
    for prompt in all_prompts():
        english = "(Asterisk core sound)" if prompt.core_en else _cell(prompt.texts["en"])
        lines.append(f"| `{prompt.name}` | {_cell(prompt.texts['id'])} | {english} |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def refresh_docs(path: Path) -> None:
    """Rewrite the block between DOCS_BEGIN and DOCS_END of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    if DOCS_BEGIN not in text or DOCS_END not in text:
        raise SystemExit(f"make_prompts: {path} has no {DOCS_BEGIN} ... {DOCS_END} block")
    head, _, rest = text.partition(DOCS_BEGIN)
    _, _, tail = rest.partition(DOCS_END)
    path.write_text(f"{head}{DOCS_BEGIN}\n{markdown_table()}\n{DOCS_END}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, help="sounds folder to write <lang>/<name>.wav into")
    parser.add_argument("--only", nargs="+", default=(), metavar="NAME", help="only these prompts")
    parser.add_argument("--lang", nargs="+", default=LANGUAGES, choices=LANGUAGES, help="languages to make")
    parser.add_argument("--docs", type=Path, help="refresh the prompt table of this Markdown file")
    args = parser.parse_args(argv)
    if args.out is None and args.docs is None:
        parser.error("give --out DIR, --docs FILE, or both")
    if args.docs is not None:
        refresh_docs(args.docs)
    if args.out is not None:
        made = make(args.out, args.only, args.lang)
        print(f"{len(made)} prompt files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
