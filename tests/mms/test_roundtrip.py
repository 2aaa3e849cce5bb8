"""encode_pdu then decode_pdu gives back the same dataclass, for every PDU type."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msghub.mms import (
    INSERT_ADDRESS,
    ContentType,
    MmsError,
    Part,
    SendConf,
    SendReq,
    decode_multipart,
    decode_pdu,
    encode_multipart,
    encode_pdu,
)
from msghub.mms.pdu import PDU_CLASSES
from tests.mms.strategies import PARTS, pdus

ROUND = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(PDU_CLASSES))
def test_pdu_round_trip(name: str) -> None:
    @ROUND
    @given(pdus(PDU_CLASSES[name]))
    def check(pdu: object) -> None:
        assert decode_pdu(encode_pdu(pdu)) == pdu  # type: ignore[arg-type]

    check()


@ROUND
@given(st.lists(PARTS, max_size=5))
def test_multipart_round_trip(parts: list[Part]) -> None:
    assert decode_multipart(encode_multipart(parts)) == tuple(parts)


def test_headers_come_in_the_order_the_specification_wants() -> None:
    data = encode_pdu(SendConf(transaction_id="t1", response_status=0x80, message_id="m1"))
    assert data == b"\x8c\x81\x98t1\x00\x8d\x92\x92\x80\x8bm1\x00"


def test_insert_address_and_plmn_address_bytes() -> None:
    pdu = SendReq(transaction_id="x", sender=INSERT_ADDRESS,
                  to=("+4711/TYPE=PLMN",), content_type=ContentType("text/plain"),
                  parts=(Part(ContentType("text/plain"), b"hi"),))  # fmt: skip
    data = encode_pdu(pdu)
    assert b"\x89\x01\x81" in data  # From: value length 1, Insert-address-token
    assert b"\x97+4711/TYPE=PLMN\x00" in data
    assert data.endswith(b"\x84\x83hi")  # Content-Type text/plain (0x03), then the body


def test_non_ascii_subject_travels_as_utf8_with_its_charset() -> None:
    data = encode_pdu(SendReq(transaction_id="x", sender="a", subject="Grüße",
                              content_type=ContentType("text/plain"), parts=(Part(ContentType("text/plain"), b""),)))
    assert b"\x96\x09\xeaGr\xc3\xbc\xc3\x9fe\x00" in data  # length 9: UTF-8 (106 | 0x80), text, NUL


def test_encoding_refuses_what_is_missing_or_impossible() -> None:
    with pytest.raises(MmsError, match="X-Mms-Response-Status"):
        encode_pdu(SendConf(transaction_id="t"))
    with pytest.raises(MmsError, match="one part"):
        encode_pdu(SendReq(transaction_id="t", sender="a", content_type=ContentType("text/plain"), parts=()))
    with pytest.raises(MmsError, match="NUL"):
        encode_pdu(SendConf(transaction_id="a\x00b", response_status=0x80))
    with pytest.raises(MmsError, match="UTF-8"):
        encode_pdu(SendConf(transaction_id="\udc80", response_status=0x80))
