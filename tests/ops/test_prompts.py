"""scripts/make_prompts.py makes WAV files Asterisk plays, for every prompt the IVR and dialplan name."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import wave
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "make_prompts.py"
DOCS = REPO / "docs" / "running-with-asterisk.md"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_prompts", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is made.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


make_prompts = _load()


@pytest.fixture(scope="module")
def tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        reason = f"{' and '.join(missing)} not installed (./run test installs them)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def test_generated_prompts_are_8khz_mono_16bit_in_the_sounds_layout(tools: None, tmp_path: Path) -> None:
    names = ["hotline/menu-utama", "hotline/maaf-gangguan", "digits/1"]
    made = make_prompts.make(tmp_path, only=names)
    # digits/1 exists in Asterisk's English core sounds: only the Indonesian one is made.
    expected = {tmp_path / lang / f"{name}.wav" for name in names for lang in ("id", "en")}
    expected.discard(tmp_path / "en" / "digits/1.wav")
    assert set(made) == expected
    for path in made:
        with wave.open(str(path)) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2), path
            assert wav.getcomptype() == "NONE"
            # Something is said: at least half a second of audio.
            assert wav.getnframes() > 4000, path


def test_unknown_prompt_name_is_a_clear_error(tools: None, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no prompt named hotline/nope"):
        make_prompts.make(tmp_path, only=["hotline/nope"])


def test_every_prompt_the_fallback_plays_is_generated() -> None:
    fallback = (REPO / "scripts" / "hotline-fallback.agi").read_text(encoding="utf-8")
    custom = set(re.findall(r'"((?:hotline|sapa)/[\w-]+)"', fallback))
    assert custom, "the fallback script plays a custom apology"
    assert custom <= {p.name for p in make_prompts.all_prompts()}


def test_prompt_names_are_unique_and_texts_complete() -> None:
    prompts = make_prompts.all_prompts()
    assert len({p.name for p in prompts}) == len(prompts)
    for prompt in prompts:
        assert prompt.texts["id"].strip() and prompt.texts["en"].strip(), prompt.name
        assert re.fullmatch(r"[a-z]+/[\w-]+", prompt.name), prompt.name


def test_docs_list_every_prompt_with_its_text() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    begin, end = docs.index(make_prompts.DOCS_BEGIN), docs.index(make_prompts.DOCS_END)
    listed = docs[begin + len(make_prompts.DOCS_BEGIN) : end].strip()
    assert listed == make_prompts.markdown_table(), (
        "the prompt table in docs/running-with-asterisk.md is out of date: "
        "run .venv/bin/python scripts/make_prompts.py --docs docs/running-with-asterisk.md"
    )
