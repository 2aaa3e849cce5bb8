"""Fuzzing decode(): whatever arrives from a device, only PduError escapes.
And whatever decode() returns, encode() takes back (or refuses with a
PduError), and decoding that again gives the same message."""

import dataclasses

from hypothesis import example, given, settings
from hypothesis import strategies as st

from msghub.sms.pdu import DIRECTIONS, Message, PduError, decode, encode
from msghub.sms.pdu.jsonform import INFORMATIVE, TYPES, from_json, to_json

from . import pdu_strategies as ps
from .test_pdu_vectors import BAD, GOOD

FUZZ = settings(max_examples=2000, deadline=None)
SEEDS = sorted(GOOD.values()) + sorted(BAD.values())
directions = st.sampled_from(DIRECTIONS)
JSON_KEYS = sorted({f.name for cls in TYPES.values() for f in dataclasses.fields(cls)} | set(INFORMATIVE))
JSON_KEYS += ["number", "ton", "npi", "iei", "data", "relative_s", "absolute", "enhanced", "form", "period_s"]


def expect_only_pdu_error(pdu: str | bytes, direction: str, with_smsc: bool) -> None:
    try:
        msg = decode(pdu, direction=direction, with_smsc=with_smsc)
    except PduError as exc:
        assert str(exc)
        return
    assert_re_encodes(msg, direction, with_smsc)


def assert_re_encodes(msg: Message, direction: str, with_smsc: bool) -> None:
    try:
        hex_pdu, length = encode(msg, with_smsc=with_smsc)
    except PduError:
        return  # e.g. a time stamp of 1990-2089 with a zone outside what Python's datetime allows
    again = decode(hex_pdu, direction=direction, with_smsc=with_smsc)
    assert again == msg
    assert length <= len(hex_pdu) // 2


@FUZZ
@given(st.binary(max_size=200), directions, st.booleans())
@example(b"", "sc_to_ms", True)
@example(b"\x00\x44", "sc_to_ms", True)
@example(b"\x00\x02" + b"\xff" * 30, "stored", True)
def test_random_octets(data: bytes, direction: str, with_smsc: bool):
    expect_only_pdu_error(data, direction, with_smsc)


@FUZZ
@given(st.text(alphabet="0123456789ABCDEFabcdef \t\r\n\"xXg=,", max_size=300), directions)
def test_random_hex_text(text: str, direction: str):
    expect_only_pdu_error(text, direction, True)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real or generated PDU with octets changed, cut, inserted or removed."""
    source = draw(st.one_of(st.sampled_from(SEEDS or ["00"]), st.builds(lambda m: encode(m)[0], ps.submits)))
    data = bytearray(bytes.fromhex(source) if all(c in "0123456789ABCDEFabcdef" for c in source) else b"\x00")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["set", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=3))
        elif data:
            del data[pos]
    return bytes(data)


@FUZZ
@given(mutated(), directions)
def test_mutated_pdus(data: bytes, direction: str):
    expect_only_pdu_error(data, direction, True)
    expect_only_pdu_error(data.hex(), direction, True)


@settings(max_examples=300, deadline=None)
@given(ps.submits | ps.delivers | ps.status_reports | ps.commands | ps.submit_reports, directions)
def test_valid_pdus_read_the_wrong_way(msg: Message, direction: str):
    expect_only_pdu_error(encode(msg)[0], direction, True)
    expect_only_pdu_error(encode(msg, with_smsc=False)[0], direction, False)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-300, 300) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["+4479", "gsm7", "8bit", "ucs2", "2026-12-01T09:00:00+01:00", "00", "0A0B"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(JSON_KEYS), inner, max_size=4),
    max_leaves=8,
)


@FUZZ
@example("SMS-SUBMIT", {"recipient": "+1", "user_data": "", "validity": {"relative_s": 1e300}}, None)
@example("SMS-SUBMIT", {"recipient": "+1", "user_data": "", "validity": {"enhanced": {"period_s": -1e20}}}, None)
@example("SMS-SUBMIT", {"recipient": "+1", "user_data": "", "validity": {"enhanced": {"form": "x"}}}, None)
@example("SMS-DELIVER", {"sender": {"number": "1", "ton": "x"}, "scts": "9999-12-31T00:00:00+23:59"}, None)
@example("SMS-SUBMIT", {"recipient": "+1", "user_data": "x", "udh": [{"iei": 300, "data": "zz"}]}, None)
@example("SMS-STATUS-REPORT", {"mr": "1", "recipient": "+1", "scts": "x", "discharge": 5, "status": None}, None)
@given(
    st.sampled_from(sorted(TYPES)),
    st.dictionaries(st.sampled_from(JSON_KEYS), json_values, max_size=8),
    st.one_of(st.none(), ps.submits | ps.delivers | ps.status_reports | ps.commands),
)
def test_json_messages_for_encode(kind: str, fields: dict[str, object], base: Message | None):
    """`msghub codec pdu encode` input: only PduError escapes from_json and encode."""
    data: dict[str, object] = dict(to_json(base)) if base is not None else {}
    data.update(fields)
    data["type"] = kind if base is None else data["type"]
    try:
        encode(from_json(data))
    except PduError as exc:
        assert str(exc)
