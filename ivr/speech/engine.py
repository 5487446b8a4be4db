"""The recognizer behind the menu: vosk, loaded once, one recognizer per listening turn.

Everything here blocks (model loading takes about a second, recognition is CPU work);
the server calls it from worker threads, never on the event loop.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final, Protocol

from ivr.speech.grammar import MenuGrammar

SUPPORTED_RATES: Final = (8000, 16000)
_SAMPLE_FREQUENCY = re.compile(r"^--sample-frequency=(\d+)", re.MULTILINE)


class SpeechUnavailable(RuntimeError):
    """No recognizer can run (vosk missing, no model, a model we cannot use); the menu uses DTMF."""


class Utterance(Protocol):
    """One listening turn: audio in, vosk's JSON results out."""

    def accept(self, pcm: bytes) -> bool:
        """Feed samples at the engine's rate; True when vosk saw the end of an utterance."""

    def result(self) -> str:
        """The utterance that just ended (after ``accept`` answered True)."""

    def final_result(self) -> str:
        """Whatever was heard so far, when the turn ends without an endpoint."""


class Engine(Protocol):
    @property
    def sample_rate(self) -> int: ...

    def utterance(self, grammar: MenuGrammar) -> Utterance: ...


def model_sample_rate(model_dir: Path) -> int:
    """The rate the model was trained on (conf/mfcc.conf; Kaldi's default is 16 kHz)."""
    try:
        text = (model_dir / "conf" / "mfcc.conf").read_text(encoding="utf-8")
    except OSError:
        return 16000
    found = _SAMPLE_FREQUENCY.search(text)
    return int(found.group(1)) if found else 16000


class _VoskUtterance:
    def __init__(self, recognizer: object) -> None:
        self._recognizer = recognizer

    def accept(self, pcm: bytes) -> bool:
        return bool(self._recognizer.AcceptWaveform(pcm))  # type: ignore[attr-defined]

    def result(self) -> str:
        return str(self._recognizer.Result())  # type: ignore[attr-defined]

    def final_result(self) -> str:
        return str(self._recognizer.FinalResult())  # type: ignore[attr-defined]


class VoskEngine:
    """A vosk model on disk; ``load()`` once (blocking), then ``utterance()`` per turn."""

    def __init__(self, model_path: str | Path) -> None:
        self.model_path = Path(model_path)
        self._model: object | None = None
        self._rate = 16000

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the model; raises :class:`SpeechUnavailable` with the reason when it cannot."""
        if self._model is not None:
            return
        if not self.model_path.is_dir():
            raise SpeechUnavailable(f"speech model folder not found: {self.model_path}")
        rate = model_sample_rate(self.model_path)
        if rate not in SUPPORTED_RATES:
            raise SpeechUnavailable(f"speech model at {self.model_path} is for {rate} Hz; need 8 or 16 kHz")
        try:
            import vosk
        except ImportError:
            raise SpeechUnavailable("vosk is not installed (pip install 'hotline[speech]')") from None
        vosk.SetLogLevel(-1)  # Kaldi's progress lines on stderr; its warnings still show
        try:
            self._model = vosk.Model(str(self.model_path))
        except Exception as exc:  # vosk raises a bare Exception for a bad model folder
            raise SpeechUnavailable(f"cannot load speech model {self.model_path}: {exc}") from None
        self._rate = rate

    def utterance(self, grammar: MenuGrammar) -> Utterance:
        if self._model is None:
            raise SpeechUnavailable("speech model not loaded")
        import vosk

        recognizer = vosk.KaldiRecognizer(self._model, self._rate, grammar.vosk_grammar())
        recognizer.SetWords(True)  # per-word confidence, the only confidence vosk gives
        return _VoskUtterance(recognizer)
