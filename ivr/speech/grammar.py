"""Menu words in, a vosk grammar out; a vosk result in, the menu key out.

Pure functions: no model needed to test how a result is read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

UNKNOWN_WORD = "[unk]"
"""vosk's garbage word: lets "something else" win over a wrong menu word (models that lack it
ignore it with a warning)."""


@dataclass(frozen=True)
class Recognition:
    """What the caller chose while the menu listened."""

    key: str
    """The menu key of the phrase heard, or the DTMF digit pressed."""
    phrase: str
    """The phrase as recognized (normalized), or the digit."""
    confidence: float
    """vosk's word confidence (the lowest over the phrase's words), 1.0 for a key press."""
    source: Literal["speech", "dtmf"]


def normalize(phrase: str) -> str:
    """Lower case, single spaces: how vosk writes its words back."""
    return " ".join(phrase.lower().split())


class MenuGrammar:
    """The phrases one menu listens for, each with the menu key it stands for."""

    def __init__(self, words: Mapping[str, str]) -> None:
        phrases: dict[tuple[str, ...], tuple[str, str]] = {}
        for phrase, key in words.items():
            text = normalize(phrase)
            if not text or UNKNOWN_WORD in text.split():
                raise ValueError(f"menu phrase {phrase!r} is empty or reserved")
            if not key:
                raise ValueError(f"menu phrase {phrase!r} has no key")
            phrases[tuple(text.split())] = (text, key)
        if not phrases:
            raise ValueError("a menu grammar needs at least one phrase")
        self._phrases = phrases

    def vosk_grammar(self) -> str:
        """The JSON list KaldiRecognizer takes as its grammar."""
        return json.dumps([text for text, _ in self._phrases.values()] + [UNKNOWN_WORD], ensure_ascii=False)

    def match(self, result: str | Mapping[str, Any], min_confidence: float) -> Recognition | None:
        """The best phrase found in a vosk result (JSON text or parsed), if confident enough.

        Confidence of a phrase is its least confident word: one doubtful word makes the
        phrase doubtful. With ``SetWords(True)`` vosk lists each word with ``conf``; a
        result without that list cannot be trusted and matches nothing.
        """
        best = self.best(result)
        if best is None or best.confidence < min_confidence:
            return None
        return best

    def best(self, result: str | Mapping[str, Any]) -> Recognition | None:
        """The best phrase found whatever its confidence (for logging a near miss)."""
        words = _scored_words(result)
        best: Recognition | None = None
        for tokens, (text, key) in self._phrases.items():
            for start in range(len(words) - len(tokens) + 1):
                window = words[start : start + len(tokens)]
                if tuple(w for w, _ in window) == tokens:
                    confidence = min(c for _, c in window)
                    if best is None or confidence > best.confidence:
                        best = Recognition(key, text, confidence, "speech")
        return best


def heard_anything(result: str | Mapping[str, Any]) -> bool:
    """True when the result holds a word at all (``[unk]`` counts: the caller spoke)."""
    return bool(_scored_words(result))


def _scored_words(result: str | Mapping[str, Any]) -> list[tuple[str, float]]:
    data = json.loads(result) if isinstance(result, str) else result
    if not isinstance(data, Mapping):
        raise ValueError("a vosk result is a JSON object")
    items = data.get("result")
    if not isinstance(items, list):
        return []
    words: list[tuple[str, float]] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        word, conf = item.get("word"), item.get("conf")
        if not isinstance(word, str) or not isinstance(conf, int | float):
            continue
        # [unk] stays in the list as a gap, so no phrase matches across it.
        words.append((normalize(word), float(conf)))
    return words
