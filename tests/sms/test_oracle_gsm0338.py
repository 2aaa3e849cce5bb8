"""Differential tests against the gsm0338 package ("gsm03.38" codec).

Where the oracle differs from 3GPP TS 23.038, and why we follow the spec:
- It maps U+001B (ESC) to septet 0x1B as if it were a character; ESC is
  the escape to the extension table, not a character, so we refuse it.
- In strict mode it raises on 0x1B followed by an undefined extension code
  and on 0x1B 0x1B; 23.038 6.2.1.1 says to show the basic-table character,
  and a space for 0x1B 0x1B, which is what decode_gsm7 does.
Everywhere else the two must agree exactly.
"""

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec
import pytest
from hypothesis import given

from msghub.sms.gsm7 import BASIC, ESC, EXTENSION, decode_gsm7, encode_gsm7, is_gsm7

from .helpers import GSM_CHARS, PROPERTY, gsm_text, ucs2_text

CODEC = "gsm03.38"


def oracle_encodable(text: str) -> bool:
    try:
        text.encode(CODEC)
    except UnicodeEncodeError:
        return False
    return True


def test_every_character_encodes_like_the_oracle() -> None:
    for ch in GSM_CHARS:
        assert encode_gsm7(ch) == ch.encode(CODEC), repr(ch)


def test_every_septet_decodes_like_the_oracle() -> None:
    for code in range(128):
        if code != ESC:
            assert decode_gsm7(bytes((code,))) == bytes((code,)).decode(CODEC), hex(code)
    for code in EXTENSION:
        seq = bytes((ESC, code))
        assert decode_gsm7(seq) == seq.decode(CODEC), hex(code)


def test_basic_table_matches_the_oracle_table() -> None:
    assert BASIC.replace("\x1b", "") == bytes(range(128)).replace(b"\x1b", b"").decode(CODEC)


def test_difference_escape_as_character() -> None:
    assert "\x1b".encode(CODEC) == b"\x1b"  # oracle accepts it
    assert not is_gsm7("\x1b")  # we do not


@pytest.mark.parametrize(("septets", "ours"), [(b"\x1b\x41", "A"), (b"\x1b\x1b", " ")])
def test_difference_undefined_extension(septets: bytes, ours: str) -> None:
    with pytest.raises(UnicodeDecodeError):
        septets.decode(CODEC)
    assert decode_gsm7(septets) == ours


def test_agreement_trailing_escape_dropped() -> None:
    assert b"a\x1b".decode(CODEC) == decode_gsm7(b"a\x1b") == "a"


@PROPERTY
@given(gsm_text)
def test_gsm_text_matches_oracle(text: str) -> None:
    septets = encode_gsm7(text)
    assert septets == text.encode(CODEC)
    assert decode_gsm7(septets) == septets.decode(CODEC) == text


@PROPERTY
@given(ucs2_text)
def test_is_gsm7_matches_oracle(text: str) -> None:
    assert is_gsm7(text) == (oracle_encodable(text) and "\x1b" not in text)
