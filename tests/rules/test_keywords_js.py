"""The rule API's keyword functions (JavaScript) agree with msghub.rules.keywords.

Polls are counted in Python, the same keywords are tested by rules in
JavaScript: a message must mean the same keyword to both.

Characters are drawn only from those Python's unicodedata knows (Unicode 14.0
in Python 3.11). QuickJS has newer Unicode tables: a letter added since (say
U+1E4D0, Nag Mundari) is a letter to JavaScript and a word break to Python,
and no prelude code can know which version a character came in.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msghub.rules.api import PRELUDE
from msghub.rules.engine import MIB, Limits, run_once
from msghub.rules.keywords import match_keyword, normalize_keyword
from tests.rules import test_keywords

# Generous: one run may normalize every character Unicode has.
BIG = Limits(memory_bytes=1024 * MIB, cpu_seconds=30, stack_bytes=1 * MIB)

# Characters where the two halves once differed or easily could: final sigma,
# Cherokee (casefold goes to capitals), sharp s, marks without a combining
# class (Devanagari vowel signs), iota subscript, ligatures, full-width forms.
TRICKY = (
    "aAbBzZ09 .,!?'-#\n\tΣσςΟΔΆΐᾳͅᏸꭰᎠßẞſﬁﬀＡ１İıØøÆæŒœŁłĐđÐðÞþĦħŦŧé\u0301\u0308\u0323"  # noqa: RUF001 - confusables on purpose
    "कि\u093f\u0947\u094d\u0903한글我投µǰŉ\u200d\u00ad\u2028"
)
known_char = st.characters(exclude_categories=("Cn",))
# A list, not st.text: st.text merges the alphabets and loses the weighting.
text = st.lists(st.one_of(st.sampled_from(TRICKY), known_char), max_size=24).map("".join)


def js(expression: str, **values: Any) -> Any:
    """What `expression` gives in the prelude, with `values` in input.v."""
    finish = f"JSON.stringify({{out: ({expression})}})"
    run_input = {"event": {}, "message": None, "rule": {}, "v": values}
    return run_once(PRELUDE, "", run_input, finish, BIG)["out"]


def js_normalize(texts: list[str]) -> list[str]:
    return list(js("input.v.texts.map((t) => keywords.normalize(t))", texts=texts))


def js_match(cases: list[tuple[str, list[str]]]) -> list[str | None]:
    return list(js("input.v.cases.map(([t, k]) => keywords.match(t, k))", cases=cases))


def _params(test: Any) -> list[Any]:
    """The argument values of a parametrized test in test_keywords.py."""
    return list(test.pytestmark[0].args[1])


HAND_TEXTS = (
    _params(test_keywords.test_noise_around_the_keyword_is_ignored)
    + _params(test_keywords.test_keyword_inside_another_word_does_not_match)
    + [t for pair in _params(test_keywords.test_accents_and_case_are_ignored_both_ways) for t in pair]
    + [t for t, _ in _params(test_keywords.test_normalize_keyword)]
    + ["我投A", "ΟΔΟΣ", "ὈΔΥΣΣΕΎΣ", "ᾼ", "Ꮳ ꮳ", "ẞ", "नमस्ते", "क\u0903", "a\ud800b"]
)

HAND_MATCHES: list[tuple[str, list[str]]] = [
    *((t, test_keywords.POLL) for t in HAND_TEXTS),
    *((t, [k]) for t, k in _params(test_keywords.test_accents_and_case_are_ignored_both_ways)),
    *((k, [t]) for t, k in _params(test_keywords.test_accents_and_case_are_ignored_both_ways)),
    ("ab", ["a", "ab"]),
    ("a b", ["a", "ab"]),
    ("a or b", test_keywords.POLL),
    ("b, definitely b", test_keywords.POLL),
    ("STOP ALL please", ["stop", "stop all"]),
    ("stop", ["stop", "stop all"]),
    ("all stop", ["stop", "stop all"]),
    ("yes", ["Oui", "YES", "yes"]),
    ("!!!", ["", "!!!", "  "]),
    ("a", ["", "a"]),
    ("Option 2!", ["1", "2", "3"]),
    ("12", ["1", "2"]),
    ("info please", ["more info", "info please"]),
    ("please info", ["info please"]),
    ("我投 A", test_keywords.POLL),
    ("ΟΔΟΣ", ["οδοσ"]),
    ("ꮳ", ["Ꮳ"]),
]


def test_hand_written_texts_normalize_alike() -> None:
    assert js_normalize(HAND_TEXTS) == [normalize_keyword(t) for t in HAND_TEXTS]


def test_hand_written_polls_match_alike() -> None:
    assert js_match(HAND_MATCHES) == [match_keyword(t, k) for t, k in HAND_MATCHES]


def test_every_known_character_normalizes_alike() -> None:
    # Between letters, so a character that breaks words, joins them or
    # vanishes shows it; Σ at the end catches a final sigma.
    chars = [chr(i) for i in range(1, 0x110000) if unicodedata.category(chr(i)) not in ("Cn", "Cs")]
    samples = [f"x{c}yΣ" for c in chars]
    found = js_normalize(samples)
    differ = [f"U+{ord(c):04X}" for c, s, j in zip(chars, samples, found, strict=True) if normalize_keyword(s) != j]
    assert differ == []


@settings(max_examples=200, deadline=None)
@given(text)
def test_normalize_agrees(t: str) -> None:
    assert js_normalize([t]) == [normalize_keyword(t)]


@st.composite
def poll(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A message and a keyword list, often made of the message's own words."""
    message = draw(text)
    # Raw words, and the words Python sees: a keyword made of those misses
    # in JavaScript wherever the two split or fold differently.
    words = message.split() + normalize_keyword(message).split() or [message]
    own = st.lists(st.sampled_from(words), min_size=1, max_size=3).map(" ".join)
    keywords = draw(st.lists(st.one_of(own, text), max_size=5))
    return message, keywords


@settings(max_examples=200, deadline=None)
@given(poll())
def test_match_agrees(case: tuple[str, list[str]]) -> None:
    message, keywords = case
    assert js_match([case]) == [match_keyword(message, keywords)]


def _contains(message: str, keyword: str, *, at_start: bool) -> bool:
    words, wanted = normalize_keyword(message).split(), normalize_keyword(keyword).split()
    if not wanted:
        return False
    starts = [0] if at_start else range(len(words))
    return any(words[i : i + len(wanted)] == wanted for i in starts)


@settings(max_examples=100, deadline=None)
@given(poll())
def test_contains_and_starts_with_agree(case: tuple[str, list[str]]) -> None:
    message, keywords = case
    found = js(
        "input.v.keywords.map((k) => [keywords.contains(input.v.message, k), keywords.startsWith(input.v.message, k)])",
        message=message,
        keywords=keywords,
    )
    expected = [[_contains(message, k, at_start=False), _contains(message, k, at_start=True)] for k in keywords]
    assert found == expected


@pytest.mark.parametrize("char", ["\U0001e4d0", "\U00011f04"])
def test_letters_newer_than_python_unicode_are_the_known_difference(char: str) -> None:
    # Documents why the alphabet above is restricted; if Python's tables catch
    # up this fails, and the restriction can go.
    assert unicodedata.category(char) == "Cn"
    assert js_normalize([f"a{char}b"]) != [normalize_keyword(f"a{char}b")]
