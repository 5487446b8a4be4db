"""Menu phrases to a vosk grammar, and vosk results back to menu keys."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ivr.speech.grammar import MenuGrammar, Recognition, heard_anything

MENU = {"Informasi": "1", "pengaduan": "2", "customer  service": "0"}


def result(*words: tuple[str, float]) -> dict[str, Any]:
    return {"result": [{"word": w, "conf": c, "start": 0.0, "end": 0.1} for w, c in words], "text": ""}


def test_grammar_is_the_normalized_phrases_and_unk() -> None:
    assert json.loads(MenuGrammar(MENU).vosk_grammar()) == [
        "informasi",
        "pengaduan",
        "customer service",
        "[unk]",
    ]


def test_grammar_keeps_non_ascii_words_readable() -> None:
    assert "정보" in MenuGrammar({"정보": "1"}).vosk_grammar()


@pytest.mark.parametrize(
    ("vosk", "expected"),
    [
        (result(("informasi", 0.93)), Recognition("1", "informasi", 0.93, "speech")),
        (result(("[unk]", 1.0), ("pengaduan", 0.8)), Recognition("2", "pengaduan", 0.8, "speech")),
        # A phrase is as sure as its least sure word.
        (result(("customer", 0.9), ("service", 0.7)), Recognition("0", "customer service", 0.7, "speech")),
        # Two phrases: the surer one wins.
        (result(("informasi", 0.65), ("pengaduan", 0.97)), Recognition("2", "pengaduan", 0.97, "speech")),
        # A phrase cut by [unk] is not that phrase.
        (result(("customer", 0.9), ("[unk]", 1.0), ("service", 0.9)), None),
        (result(("[unk]", 1.0)), None),
        ({"text": ""}, None),
        # Without per-word confidence (SetWords off) nothing can be trusted.
        ({"text": "informasi"}, None),
        ({"result": [{"word": "informasi"}], "text": "informasi"}, None),
        ({"result": "garbage"}, None),
    ],
)
def test_match(vosk: dict[str, Any], expected: Recognition | None) -> None:
    grammar = MenuGrammar(MENU)
    assert grammar.match(vosk, min_confidence=0.6) == expected
    assert grammar.match(json.dumps(vosk), min_confidence=0.6) == expected


def test_low_confidence_is_no_match_but_best_still_tells_what_was_near() -> None:
    grammar = MenuGrammar(MENU)
    vosk = result(("pengaduan", 0.45))
    assert grammar.match(vosk, min_confidence=0.6) is None
    assert grammar.best(vosk) == Recognition("2", "pengaduan", 0.45, "speech")


def test_heard_anything() -> None:
    assert heard_anything(result(("[unk]", 1.0)))
    assert not heard_anything({"text": ""})


@pytest.mark.parametrize("words", [{}, {"": "1"}, {"  ": "1"}, {"[unk]": "1"}, {"informasi": ""}])
def test_bad_menu_words_are_refused(words: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"phrase|grammar"):
        MenuGrammar(words)


def test_a_result_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        MenuGrammar(MENU).match("[1, 2]", 0.5)
