"""Recognizer doubles for the server and listener tests (the real vosk path has its own tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ivr.speech.grammar import MenuGrammar


def vosk_json(*words: tuple[str, float]) -> str:
    return json.dumps(
        {"result": [{"word": w, "conf": c} for w, c in words], "text": " ".join(w for w, _ in words)}
    )


@dataclass
class ScriptedUtterance:
    """Says ``endpoint_result`` once ``endpoint_after`` bytes have come in; ``final`` at the end."""

    endpoint_after: int | None
    endpoint_result: str
    final: str
    received: int = 0
    fed: list[int] = field(default_factory=list)

    def accept(self, pcm: bytes) -> bool:
        self.received += len(pcm)
        self.fed.append(len(pcm))
        return self.endpoint_after is not None and self.received >= self.endpoint_after

    def result(self) -> str:
        return self.endpoint_result

    def final_result(self) -> str:
        return self.final


@dataclass
class ScriptedEngine:
    endpoint_after: int | None = None
    endpoint_result: str = '{"text": ""}'
    final: str = '{"text": ""}'
    sample_rate: int = 16000
    utterances: list[ScriptedUtterance] = field(default_factory=list)
    grammars: list[MenuGrammar] = field(default_factory=list)

    def utterance(self, grammar: MenuGrammar) -> ScriptedUtterance:
        self.grammars.append(grammar)
        u = ScriptedUtterance(self.endpoint_after, self.endpoint_result, self.final)
        self.utterances.append(u)
        return u


class RaisingUtterance:
    def accept(self, pcm: bytes) -> bool:
        raise RuntimeError("kaldi exploded")

    def result(self) -> str:
        raise AssertionError("not reached")

    def final_result(self) -> str:
        raise AssertionError("not reached")


@dataclass
class RaisingEngine:
    """``at='create'``: the recognizer cannot be built; ``at='accept'``: it fails on audio."""

    at: str = "accept"
    sample_rate: int = 16000

    def utterance(self, grammar: MenuGrammar) -> RaisingUtterance:
        if self.at == "create":
            raise RuntimeError("bad grammar for this model")
        return RaisingUtterance()
