"""GSM 7-bit alphabet, septet packing and their edge cases (TS 23.038)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msghub.errors import CodecError
from msghub.sms.errors import SmsDecodeError, SmsEncodingError
from msghub.sms.gsm7 import (
    BASIC,
    ESC,
    decode_gsm7,
    encode_gsm7,
    fill_bits_for_udh,
    is_gsm7,
    pack_septets,
    septet_length,
    unpack_septets,
)

from .helpers import EXT_CHARS, PROPERTY, gsm_text


def test_tables_have_the_spec_shape() -> None:
    assert len(BASIC) == 128
    assert BASIC[0x00] == "@"
    assert BASIC[0x09] == "Ç"
    assert BASIC[0x1E] == "ß"
    assert BASIC[0x7F] == "à"
    assert sorted(EXT_CHARS) == sorted("\f^{}\\[~]|€")


def test_encode_basic_and_extension() -> None:
    assert encode_gsm7("A@") == bytes((0x41, 0x00))
    assert encode_gsm7("€") == bytes((ESC, 0x65))
    assert encode_gsm7("a{b") == bytes((0x61, ESC, 0x28, 0x62))
    assert encode_gsm7("") == b""


def test_extension_characters_cost_two_septets() -> None:
    for ch in EXT_CHARS:
        assert septet_length(ch) == 2, ch
    assert septet_length("{x}") == 5
    assert septet_length("héllo") == 5


def test_escape_control_char_is_not_a_character() -> None:
    assert not is_gsm7("\x1b")
    with pytest.raises(SmsEncodingError):
        encode_gsm7("\x1b")


def test_encode_error_names_character_and_position() -> None:
    with pytest.raises(SmsEncodingError) as info:
        encode_gsm7("abc€ł")
    message = str(info.value)
    assert "'ł'" in message
    assert "U+0142" in message
    assert "position 4" in message
    assert isinstance(info.value, CodecError)


def test_septet_length_rejects_like_encode() -> None:
    with pytest.raises(SmsEncodingError, match="position 1"):
        septet_length("a😀")


def test_small_c_cedilla_is_not_gsm() -> None:
    # 0x09 is the capital (Unicode mapping); ç needs transliteration.
    assert is_gsm7("Ç")
    assert not is_gsm7("ç")


def test_decode_unknown_extension_falls_back_to_basic() -> None:
    # TS 23.038 6.2.1.1: show the main-table character for an undefined code.
    assert decode_gsm7(bytes((ESC, 0x41))) == "A"
    assert decode_gsm7(bytes((ESC, 0x00))) == "@"


def test_decode_double_escape_is_space() -> None:
    assert decode_gsm7(bytes((0x61, ESC, ESC, 0x62))) == "a b"


def test_decode_trailing_escape_is_dropped() -> None:
    assert decode_gsm7(bytes((0x61, ESC))) == "a"
    assert decode_gsm7(bytes((ESC,))) == ""


def test_decode_rejects_octets_above_0x7f() -> None:
    with pytest.raises(SmsDecodeError, match=r"0x80 at position 1"):
        decode_gsm7(bytes((0x41, 0x80)))


def test_pack_known_vector() -> None:
    # The classic worked example: "hellohello" packs to E8329BFD4697D9EC37.
    assert pack_septets(encode_gsm7("hellohello")).hex().upper() == "E8329BFD4697D9EC37"


def test_pack_with_one_fill_bit_shifts_left() -> None:
    # 'h' = 0x68 after one zero fill bit: 0x68 << 1 = 0xD0.
    assert pack_septets(encode_gsm7("h"), fill_bits=1) == bytes((0xD0,))


def test_seven_septets_leave_seven_spare_bits() -> None:
    # 49 bits in 7 octets: the spare bits would read as '@' without the count.
    packed = pack_septets(encode_gsm7("abcdefg"))
    assert len(packed) == 7
    assert decode_gsm7(unpack_septets(packed, 7)) == "abcdefg"
    assert decode_gsm7(unpack_septets(packed, 8)) == "abcdefg@"


def test_unpack_rejects_short_data() -> None:
    with pytest.raises(SmsDecodeError, match="need 2 octets, got 1"):
        unpack_septets(b"\x00", 2)


def test_fill_bits_validation() -> None:
    with pytest.raises(ValueError):
        pack_septets(b"a", fill_bits=7)
    with pytest.raises(ValueError):
        unpack_septets(b"a", 1, fill_bits=-1)


def test_pack_rejects_non_septets() -> None:
    with pytest.raises(SmsEncodingError, match="0xFF at position 0"):
        pack_septets(b"\xff")


def test_fill_bits_for_concat_headers() -> None:
    assert fill_bits_for_udh(0) == 0
    assert fill_bits_for_udh(6) == 1  # 48 bits -> 7 septets
    assert fill_bits_for_udh(7) == 0  # 56 bits = 8 septets exactly


@PROPERTY
@given(gsm_text)
def test_roundtrip_and_length(text: str) -> None:
    septets = encode_gsm7(text)
    assert is_gsm7(text)
    assert decode_gsm7(septets) == text
    assert septet_length(text) == len(septets)
    assert all(s <= 0x7F for s in septets)


@PROPERTY
@given(st.binary(max_size=200).map(lambda b: bytes(x & 0x7F for x in b)), st.integers(0, 6))
def test_pack_unpack_roundtrip(septets: bytes, fill: int) -> None:
    packed = pack_septets(septets, fill)
    assert len(packed) == (fill + 7 * len(septets) + 7) // 8
    assert unpack_septets(packed, len(septets), fill) == septets
    if fill:
        assert packed == b"" or packed[0] & ((1 << fill) - 1) == 0  # fill bits are zero
