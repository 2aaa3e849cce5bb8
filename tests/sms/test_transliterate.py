"""Transliteration policy: GSM characters stay, others map to look-alikes.

Confusable characters (dashes, dotless i, Greek) are written as escapes.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msghub.sms.gsm7 import is_gsm7
from msghub.sms.transliterate import transliterate, transliterate_char

from .helpers import GSM_CHARS, PROPERTY, any_char, gsm_text, ucs2_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zażółć gęślą jaźń", "Zazolc gesla jazn"),
        ("\u011f\u0131\u015f", "gis"),  # Turkish ğış
        ("\u011e\u0130\u015e", "GIS"),  # Turkish ĞİŞ
        ("Çiçek", "Çicek"),  # Ç is GSM 0x09, ç is not
        ("Příliš žluťoučký kůň úpěl ďábelské ódy", "Prilis zlutoucky kun upel dabelské ody"),
        ("\u0218\u021b\u0103\u00ee\u00e2 \u015f\u0163", "Staia st"),  # Romanian, both cedilla forms
        ("Straße \u1e9e", "Straße SS"),  # ß is GSM 0x1E; capital sharp s is not
        ("Ærø Ålesund Þórður", "Ærø Ålesund Thordur"),
        ("Árvíztűrő tükörfúrógép", "Arviztürö tükörfurogép"),  # Hungarian ő/ű -> ö/ü
        ("\u2018single\u2019 “double” „low” «guill»", "'single' \"double\" \"low\" \"guill\""),
        ("a\u2013b\u2014c\u2212d", "a-b-c-d"),  # en dash, em dash, minus
        ("wait\u2026", "wait..."),
        ("a\u00a0b\u202fc\u2009d", "a b c d"),  # NBSP, narrow NBSP, thin space
        ("zero\u200bwidth\u200d\ufeff\u00adjoin", "zerowidthjoin"),
        ("\ufb01le \uff21 \u00bd", "file A 1/2"),  # ligature, fullwidth, vulgar fraction
        ("\u03b1\u03b2\u03b3\u03b4 \u03c2 \u03ac", "ABΓΔ Σ A"),  # Greek to capitals
        ("\u01d8", "ü"),  # u with diaeresis and acute keeps the GSM umlaut
        ("tab\there", "tab here"),
    ],
)
def test_named_cases(text: str, expected: str) -> None:
    assert transliterate(text) == expected
    assert is_gsm7(expected)


def test_gsm_letters_are_kept() -> None:
    kept = "éèùìòÇØøÅåÆæßÉÄÖÑÜäöñüàΔΦΓΛΩΠΨΣΘΞ¡¿§¤£¥€{}[]~\\|^\f"
    assert transliterate(kept) == kept


@pytest.mark.parametrize("text", ["😀", "Привет", "日本語", "\u0627\u0644\u0639"])
def test_no_sensible_equivalent_stays(text: str) -> None:
    assert transliterate(text) == text
    assert not is_gsm7(transliterate(text))


@PROPERTY
@given(gsm_text)
def test_gsm_text_is_unchanged(text: str) -> None:
    assert transliterate(text) == text


@PROPERTY
@given(ucs2_text)
def test_idempotent(text: str) -> None:
    once = transliterate(text)
    assert transliterate(once) == once


@PROPERTY
@given(any_char)
def test_each_char_maps_to_gsm_or_itself(ch: str) -> None:
    out = transliterate_char(ch)
    assert out == ch or is_gsm7(out)
    if ch in GSM_CHARS:
        assert out == ch


@PROPERTY
@given(st.text(alphabet=st.characters(min_codepoint=0xC0, max_codepoint=0x17F)))
def test_latin_extended_a_always_becomes_gsm(text: str) -> None:
    # Latin-1 letters and Latin Extended-A (the European accents) all have a
    # GSM rendering; the division sign is the one exception in the range.
    text = text.replace("\u00f7", "")
    assert is_gsm7(transliterate(text))
