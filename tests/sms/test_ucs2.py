"""UCS-2 / UTF-16-BE user data (TS 23.038 6.2.3)."""

import pytest
from hypothesis import given

from msghub.sms.errors import SmsDecodeError, SmsEncodingError
from msghub.sms.ucs2 import decode_ucs2, encode_ucs2, ucs2_units

from .helpers import PROPERTY, ucs2_text


def test_bmp_and_surrogate_pair() -> None:
    assert encode_ucs2("Ać") == bytes.fromhex("00410107")
    assert encode_ucs2("😀") == bytes.fromhex("D83DDE00")
    assert ucs2_units("a😀ć") == 4


def test_decode_odd_trailing_octet_is_replaced() -> None:
    assert decode_ucs2(bytes.fromhex("004100")) == "A\ufffd"


def test_decode_lone_surrogate_is_replaced() -> None:
    assert decode_ucs2(bytes.fromhex("D83D0041")) == "\ufffdA"


def test_decode_strict_raises_with_offset() -> None:
    with pytest.raises(SmsDecodeError, match="octet 2"):
        decode_ucs2(bytes.fromhex("004100"), strict=True)


def test_encode_lone_surrogate_raises() -> None:
    with pytest.raises(SmsEncodingError, match=r"U\+D800 at position 1"):
        encode_ucs2("a\ud800")


@PROPERTY
@given(ucs2_text)
def test_roundtrip_and_units(text: str) -> None:
    data = encode_ucs2(text)
    assert len(data) == 2 * ucs2_units(text)
    assert decode_ucs2(data, strict=True) == text
