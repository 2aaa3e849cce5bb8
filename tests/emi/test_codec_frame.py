"""Frame structure: encoding, and a typed error for every kind of bad input."""

from typing import Any

import pytest

from msghub.connectors.emi import (
    ChecksumError,
    FieldError,
    Frame,
    FrameSyntaxError,
    LengthError,
    SubmitSM,
    UcpError,
    UnknownOperationError,
    checksum,
    decode_frame,
    decode_message,
    encode_frame,
    nack_for_error,
    unwrap,
    wrap,
)
from msghub.errors import CodecError

ALERT = "02/00035/O/31/0234765439845/0139/A0"


def framed(body: str) -> str:
    """body is 'TRN/LEN/...' up to the last '/' with LEN as 'xxxxx';
    fill in the real LEN and checksum."""
    text = body.replace("xxxxx", f"{len(body) + 2:05d}")
    return text + checksum(text.encode("utf-8"))


def test_checksum_is_low_byte_of_sum_in_upper_hex() -> None:
    data = b"02/00035/O/31/0234765439845/0139/"
    assert checksum(data) == f"{sum(data) % 256:02X}" == "A0"


def test_encode_computes_len_and_checksum() -> None:
    frame = Frame(trn=2, kind="O", ot="31", fields=("0234765439845", "0139"))
    assert encode_frame(frame) == ALERT.encode("ascii")


def test_decode_accepts_stx_etx_bytes_and_str() -> None:
    expected = decode_frame(ALERT)
    assert decode_frame(ALERT.encode("ascii")) == expected
    assert decode_frame(wrap(ALERT.encode("ascii"))) == expected
    assert decode_frame("\x02" + ALERT + "\x03") == expected
    assert expected == Frame(trn=2, kind="O", ot="31", fields=("0234765439845", "0139"))


def test_lower_case_checksum_is_accepted() -> None:
    assert ALERT.endswith("A0")
    assert decode_frame(ALERT[:-2] + "a0") == decode_frame(ALERT)


def test_extra_fields_are_kept() -> None:
    text = framed("05/xxxxx/O/31/123/0539/surplus/")
    assert decode_frame(text).fields == ("123", "0539", "surplus")
    alert = decode_message(text)
    assert alert.extra == ("surplus",)
    assert encode_frame(alert.to_frame()).decode() == text


def test_wrong_checksum() -> None:
    with pytest.raises(ChecksumError) as info:
        decode_frame(ALERT[:-2] + "A1")
    assert (info.value.ec, info.value.trn, info.value.ot, info.value.kind) == ("01", 2, "31", "O")
    assert isinstance(info.value, CodecError)


def test_non_hex_checksum_is_a_checksum_error() -> None:
    with pytest.raises(ChecksumError):
        decode_frame(ALERT[:-2] + "ZZ")


@pytest.mark.parametrize(
    "text",
    [
        ALERT.replace("00035", "00036"),  # LEN says more than there is
        ALERT[:20] + ALERT[-3:],  # truncated in the middle
        ALERT[:-1],  # last checksum digit lost: LEN still disagrees
    ],
)
def test_wrong_length_or_truncation(text: str) -> None:
    with pytest.raises(LengthError) as info:
        decode_frame(text)
    assert info.value.trn == 2


def test_stx_without_etx_is_truncation() -> None:
    with pytest.raises(LengthError):
        decode_frame(b"\x02" + ALERT.encode("ascii"))
    with pytest.raises(FrameSyntaxError):
        unwrap(ALERT.encode("ascii") + b"\x03")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("2/00034/O/31/0234765439845/0139/", "TRN"),
        ("AB/00035/O/31/0234765439845/0139/", "TRN"),
        ("02/0035/O/31/0234765439845/0139/", "LEN"),
        ("02/00035/X/31/0234765439845/0139/", "O/R"),
        ("02/00035/O/3A/0234765439845/0139/", "OT"),
    ],
)
def test_bad_header_field_is_named(text: str, field: str) -> None:
    with pytest.raises(FieldError) as info:
        decode_frame(text + "00")
    assert info.value.field == field


def test_unknown_operation() -> None:
    text = framed("07/xxxxx/O/02/123/")
    with pytest.raises(UnknownOperationError) as info:
        decode_frame(text)
    assert (info.value.ec, info.value.trn, info.value.ot) == ("03", 7, "02")
    nack = nack_for_error(info.value)
    assert nack == Frame(trn=7, kind="R", ot="02", fields=("N", "03", ""))


def test_too_few_fields() -> None:
    with pytest.raises(FrameSyntaxError, match="needs 33 fields"):
        decode_frame(framed("01/xxxxx/O/51/123/456/"))
    with pytest.raises(FrameSyntaxError, match="needs 3 fields"):
        decode_frame(framed("01/xxxxx/R/51/N/02/"))


def test_result_must_start_with_a_or_n() -> None:
    with pytest.raises(FieldError) as info:
        decode_frame(framed("01/xxxxx/R/31/X//"))
    assert info.value.field == "ACK"
    assert nack_for_error(info.value) is None  # results are never answered


@pytest.mark.parametrize("bad", ["\u00e9", "\x01", "\x7f", "\x02"])
def test_non_ascii_or_control_characters(bad: str) -> None:
    text = framed(f"02/xxxxx/O/31/02347{bad}/0139/")
    with pytest.raises(FrameSyntaxError):
        decode_frame(text)
    with pytest.raises(FrameSyntaxError):
        decode_frame(text.encode("utf-8"))


@pytest.mark.parametrize("text", ["", "\x02\x03", "00/00016/O/31", "/////", "00"])
def test_garbage_is_a_syntax_or_length_error(text: str) -> None:
    with pytest.raises(UcpError):
        decode_frame(text)


def test_non_hex_where_hex_belongs_names_the_field() -> None:
    amsg = framed("00/xxxxx/O/51/123/456/////////////////3//4G4F/////////////")
    with pytest.raises(FieldError) as info:
        decode_message(amsg)
    assert (info.value.field, info.value.trn, info.value.ot) == ("AMsg", 0, "51")
    xser = framed("00/xxxxx/O/51/123/456/////////////////3//41//////////0201///")
    with pytest.raises(FieldError, match="claims 1 octets") as info:
        decode_message(xser)
    assert info.value.field == "XSer"
    pwd = framed("00/xxxxx/O/60/user/6/5/1/XYZ//0100//////")
    with pytest.raises(FieldError) as info:
        decode_message(pwd)
    assert info.value.field == "PWD"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"mt": "X", "msg": "41"}, "MT"),
        ({"mt": "3", "msg": "41", "vp": "1234"}, "VP"),
        ({"mt": "3", "msg": "41", "scts": "1234567890"}, "SCTS"),
        ({"mt": "4", "nb": "99", "msg": "41"}, "NB"),
        ({"mt": "4", "nb": "1234567890", "msg": "41"}, "NB"),
        ({"mt": "2", "msg": "12A"}, "NMsg"),
        ({"mt": "4", "msg": "4"}, "TMsg"),
        ({"oadc": "0441", "otoa": "5039"}, "OAdC"),
        ({"oadc": "1G", "otoa": "5039"}, "OAdC"),
        ({"nt": "x"}, "NT"),
    ],
)
def test_field_format_errors(values: dict[str, Any], field: str) -> None:
    text = encode_frame(SubmitSM(trn=3, adc="123", **values).to_frame())
    with pytest.raises(FieldError) as info:
        decode_message(text)
    assert (info.value.field, info.value.trn, info.value.ot) == (field, 3, "51")


def test_nack_ec_must_be_two_digits() -> None:
    with pytest.raises(FieldError) as info:
        decode_message(framed("00/xxxxx/R/51/N/2//"))
    assert info.value.field == "EC"


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        (Frame(trn=100, kind="O", ot="31", fields=("1", "2")), "TRN"),
        (Frame(trn=1, kind="O", ot="5", fields=("1", "2")), "OT"),
        (Frame(trn=1, kind="O", ot="31", fields=("1/2", "2")), "field 1"),
        (Frame(trn=1, kind="O", ot="31", fields=("1", "\u00e9")), "field 2"),
    ],
)
def test_encode_refuses_what_cannot_be_sent(frame: Frame, field: str) -> None:
    with pytest.raises(FieldError) as info:
        encode_frame(frame)
    assert info.value.field == field


def test_encode_refuses_a_frame_longer_than_len_allows() -> None:
    with pytest.raises(LengthError):
        encode_frame(Frame(trn=1, kind="O", ot="31", fields=("1" * 100_000, "")))


def test_error_messages_stay_short_for_huge_values() -> None:
    text = encode_frame(SubmitSM(adc="1", vp="9" * 5000).to_frame())
    with pytest.raises(FieldError) as info:
        decode_message(text)
    assert info.value.field == "VP" and len(str(info.value)) < 100
