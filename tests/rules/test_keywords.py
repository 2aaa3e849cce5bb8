"""Poll keywords: case, accents and noise are ignored, words are never split."""

from __future__ import annotations

import pytest

from msghub.rules.keywords import match_keyword, normalize_keyword

POLL = ["A", "B", "C"]


@pytest.mark.parametrize("text", ["a", "A", "vote a", "A.", "a!", "  a ", "VOTE: A", "#a",
                                  "Á", "à", "(a)", "a\n", "\uff21", "I vote for A, thanks"])  # fmt: skip
def test_noise_around_the_keyword_is_ignored(text: str) -> None:
    assert match_keyword(text, POLL) == "A"


@pytest.mark.parametrize("text", ["banana", "ab", "abc", "a1", "", "   ", "!!!", "vote", "aa"])
def test_keyword_inside_another_word_does_not_match(text: str) -> None:
    assert match_keyword(text, POLL) is None


def test_longer_keyword_matches_only_itself() -> None:
    assert match_keyword("ab", ["a", "ab"]) == "ab"
    assert match_keyword("a b", ["a", "ab"]) == "a"  # "b" is no keyword here


def test_different_keywords_in_one_message_are_ambiguous() -> None:
    assert match_keyword("a or b", POLL) is None
    assert match_keyword("b, definitely b", POLL) == "B"  # the same one twice is fine


def test_longer_phrase_wins_over_its_part() -> None:
    keywords = ["stop", "stop all"]
    assert match_keyword("STOP ALL please", keywords) == "stop all"
    assert match_keyword("stop", keywords) == "stop"
    assert match_keyword("all stop", keywords) == "stop"


@pytest.mark.parametrize(
    ("text", "keyword"),
    [("STRASSE", "Straße"), ("strasse", "straße"), ("Café", "cafe"), ("CAFE", "café"),
     ("Øl", "ol"), ("Ærø", "aero"), ("Łódź", "lodz"), ("ﬁsh", "fish"), ("İzmir", "izmir"),
     ("naïve", "NAIVE"), ("\uff22\uff12", "b2")],
)  # fmt: skip
def test_accents_and_case_are_ignored_both_ways(text: str, keyword: str) -> None:
    assert match_keyword(text, [keyword]) == keyword
    assert match_keyword(keyword, [text]) == text


def test_keyword_is_returned_as_given_first_of_equals() -> None:
    assert match_keyword("yes", ["Oui", "YES", "yes"]) == "YES"


def test_empty_and_noise_only_keywords_never_match() -> None:
    assert match_keyword("!!!", ["", "!!!", "  "]) is None
    assert match_keyword("a", ["", "a"]) == "a"


def test_digits_are_keywords_too() -> None:
    assert match_keyword("Option 2!", ["1", "2", "3"]) == "2"
    assert match_keyword("12", ["1", "2"]) is None


def test_multi_word_keyword_needs_its_words_in_order() -> None:
    assert match_keyword("info please", ["more info", "info please"]) == "info please"
    assert match_keyword("please info", ["info please"]) is None


@pytest.mark.parametrize(
    ("text", "normal"),
    [("  VOTE: Á! ", "vote a"), ("Straße", "strasse"), ("#a", "a"), ("a--b", "a b"),
     ("\uff28\uff45\uff4c\uff4c\uff4f", "hello"), ("e\u0301", "e"), ("don't", "don t"), ("", ""), ("¡¿!?", "")],
)  # fmt: skip
def test_normalize_keyword(text: str, normal: str) -> None:
    assert normalize_keyword(text) == normal


def test_scripts_without_spaces_stay_one_word() -> None:
    assert normalize_keyword("我投A") == "我投a"
    assert match_keyword("我投A", POLL) is None
    assert match_keyword("我投 A", POLL) == "A"
