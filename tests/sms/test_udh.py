"""User Data Header build and parse (TS 23.040 9.2.3.24)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msghub.sms.errors import SmsDecodeError, SmsEncodingError
from msghub.sms.udh import Concat, InformationElement, Ports, concat_udh, parse_udh

from .helpers import PROPERTY


def test_concat_udh_8bit_bytes() -> None:
    assert concat_udh(0x42, 3, 2) == bytes.fromhex("050003420302")


def test_concat_udh_16bit_bytes() -> None:
    assert concat_udh(0x1234, 3, 2, ref16=True) == bytes.fromhex("0608041234" "0302")


@pytest.mark.parametrize(
    ("ref", "total", "seq", "ref16", "message"),
    [
        (256, 2, 1, False, "does not fit in 8 bits"),
        (-1, 2, 1, False, "does not fit in 8 bits"),
        (65536, 2, 1, True, "does not fit in 16 bits"),
        (1, 0, 1, False, "1..255 parts, not 0"),
        (1, 256, 1, False, "1..255 parts, not 256"),
        (1, 3, 4, False, "part number 4 is outside 1..3"),
        (1, 3, 0, False, "part number 0 is outside 1..3"),
    ],
)
def test_concat_udh_rejects(ref: int, total: int, seq: int, ref16: bool, message: str) -> None:
    with pytest.raises(SmsEncodingError, match=message):
        concat_udh(ref, total, seq, ref16)


def test_parse_with_payload_after_header() -> None:
    udh = parse_udh(bytes.fromhex("050003420302") + b"payload")
    assert udh.concat == Concat(ref=0x42, total=3, seq=2)
    assert udh.ports is None
    assert udh.length == 6
    assert udh.elements == (InformationElement(0x00, bytes((0x42, 3, 2))),)


def test_parse_ports_and_concat16_together() -> None:
    data = bytes.fromhex("0C" "0504 0B84 23F0" "0804 ABCD 0201".replace(" ", ""))
    udh = parse_udh(data)
    assert udh.ports == Ports(dst=0x0B84, src=0x23F0)  # WAP push
    assert udh.concat == Concat(0xABCD, 2, 1)
    assert [ie.iei for ie in udh.elements] == [0x05, 0x08]


def test_parse_8bit_ports() -> None:
    assert parse_udh(bytes.fromhex("0404021020")).ports == Ports(0x10, 0x20)


def test_unknown_elements_are_kept_raw() -> None:
    udh = parse_udh(bytes.fromhex("0470021234"))
    assert udh.concat is None and udh.ports is None
    assert udh.elements == (InformationElement(0x70, b"\x12\x34"),)


def test_last_occurrence_wins() -> None:
    udh = parse_udh(bytes.fromhex("0A" "0003010201" "0003070302"))
    assert udh.concat == Concat(7, 3, 2)


@pytest.mark.parametrize("data", ["050003010001", "050003010002", "050003010203"])
def test_invalid_concat_values_are_ignored(data: str) -> None:
    # 9.2.3.24.1: total 0, seq 0 or seq > total -> ignore the element.
    udh = parse_udh(bytes.fromhex(data))
    assert udh.concat is None
    assert len(udh.elements) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "UDH is empty"),
        ("0500030102", "UDHL says 5 header octets but only 4 follow it"),
        ("0400050102", "element 0x00 at offset 1 claims 5 octets but only 2 remain"),
        ("0100", "element at offset 1 is cut off"),
        ("0400020102", "concatenation element 0x00 has 2 octets, expected 3"),
        ("050803010201", "concatenation element 0x08 has 3 octets, expected 4"),
        ("030401FF", "port element 0x04 has 1 octets, expected 2"),
    ],
)
def test_malformed_udh_raises_precisely(data: str, message: str) -> None:
    with pytest.raises(SmsDecodeError, match=message):
        parse_udh(bytes.fromhex(data))


@PROPERTY
@given(st.booleans(), st.integers(1, 255), st.data())
def test_build_parse_roundtrip(ref16: bool, total: int, data: st.DataObject) -> None:
    ref = data.draw(st.integers(0, 0xFFFF if ref16 else 0xFF))
    seq = data.draw(st.integers(1, total))
    raw = concat_udh(ref, total, seq, ref16)
    assert len(raw) == (7 if ref16 else 6)
    udh = parse_udh(raw)
    assert udh.concat == Concat(ref, total, seq)
    assert udh.length == len(raw)


@PROPERTY
@given(st.binary(max_size=40))
def test_parse_never_raises_anything_but_decode_error(data: bytes) -> None:
    try:
        udh = parse_udh(data)
    except SmsDecodeError:
        return
    assert udh.length == 1 + data[0] <= len(data)
