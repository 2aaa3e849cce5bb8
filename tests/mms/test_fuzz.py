"""Nothing but MmsError escapes the MMS decoders, whatever the bytes."""

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from msghub.errors import HubError
from msghub.mms import MmsError, decode_multipart, decode_pdu, encode_pdu
from msghub.mms.content import read_content_type
from msghub.mms.wsp import Reader, read_encoded_string
from tests.mms.vectors import mms_vectors

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Small samples keep mutation quick; the big ones add nothing the small ones lack.
SEEDS = [p.read_bytes() for p in mms_vectors() if p.stat().st_size < 30_000]


def only_codec_errors(decode: Callable[[bytes], Any], data: bytes) -> None:
    try:
        decode(data)
    except MmsError as exc:
        assert isinstance(exc, HubError)
        assert str(exc)
        event(str(exc).split(" at offset")[0][:40])
    else:
        event("decoded")


def test_codec_error_is_a_hub_error() -> None:
    assert issubclass(MmsError, HubError)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_as_pdu(data: bytes) -> None:
    only_codec_errors(decode_pdu, data)


@FUZZ
@given(st.sampled_from([b"\x8c\x80", b"\x8c\x84", b"\x8c\x82", b"\x8c\x86", b"\x8c\x88"]), st.binary(max_size=300))
def test_plausible_header_then_random_bytes(prefix: bytes, data: bytes) -> None:
    only_codec_errors(decode_pdu, prefix + data)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_as_multipart(data: bytes) -> None:
    only_codec_errors(decode_multipart, data)


@FUZZ
@given(st.binary(max_size=60))
def test_random_bytes_as_values(data: bytes) -> None:
    only_codec_errors(lambda d: read_content_type(Reader(d)), data)
    only_codec_errors(lambda d: read_encoded_string(Reader(d)), data)


@pytest.mark.skipif(not SEEDS, reason="no MMS vectors")
@FUZZ
@given(st.data())
def test_mutated_vectors(data: st.DataObject) -> None:
    sample = bytearray(data.draw(st.sampled_from(SEEDS)))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(sample) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            sample[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del sample[at : at + data.draw(st.integers(1, 8))]
        elif action == "insert":
            sample[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del sample[at:]
        if not sample:
            sample = bytearray(b"\x8c")
    only_codec_errors(decode_pdu, bytes(sample))


@pytest.mark.skipif(not SEEDS, reason="no MMS vectors")
@FUZZ
@given(st.data())
def test_whatever_decodes_also_encodes_or_says_why(data: st.DataObject) -> None:
    sample = bytearray(data.draw(st.sampled_from(SEEDS)))
    at = data.draw(st.integers(0, len(sample) - 1))
    sample[at] = data.draw(st.integers(0, 255))
    try:
        pdu = decode_pdu(bytes(sample))
    except MmsError:
        return
    only_codec_errors(lambda _: encode_pdu(pdu), b"")


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_as_wap_push(data: bytes) -> None:
    from msghub.mms.push import decode_push

    only_codec_errors(decode_push, data)
