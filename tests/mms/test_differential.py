"""Differential tests against python-messaging (a test oracle only; msghub never
imports it): both decoders agree on every vector, python-messaging reads what
msghub encodes, and msghub reads what python-messaging encodes."""

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msghub.mms import INSERT_ADDRESS, ContentType, Part, Pdu, SendReq, decode_pdu, encode_pdu
from tests.mms.vectors import mms_vectors

message = pytest.importorskip("messaging.mms.message")
DIFF = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def oracle(data: bytes) -> Any:
    return message.MMSMessage.from_data(bytearray(data))


def lower_keys(params: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): str(v) for k, v in params.items()}


def assert_agree(ours: Pdu, theirs: Any) -> None:
    hd = theirs.headers
    assert hd["Message-Type"] == ours.message_type
    assert hd["MMS-Version"] == ours.mms_version
    if getattr(ours, "transaction_id", None) is not None:  # python-messaging defaults a missing one to '1234'
        assert hd["Transaction-Id"] == ours.transaction_id
    sender = getattr(ours, "sender", None)
    if sender is not None:
        assert hd["From"] == ("<not inserted>" if sender is INSERT_ADDRESS else sender)
    to = getattr(ours, "to", ())
    if to:
        assert hd["To"] == (to[0] if len(to) == 1 else list(to))
    if getattr(ours, "subject", None) is not None:
        assert hd["Subject"] == ours.subject  # type: ignore[attr-defined]
    for attr, name in (("message_class", "Message-Class"), ("priority", "Priority"),
                       ("sender_visibility", "Sender-Visibility"), ("delivery_report", "Delivery-Report"),
                       ("read_report", "Read-Reply")):  # fmt: skip
        value = getattr(ours, attr, None)
        if value is not None:
            theirs_value = hd[name]  # python-messaging capitalises the names: 'Personal'
            assert (theirs_value.lower() if isinstance(theirs_value, str) else theirs_value) == value, name
    date = getattr(ours, "date", None)
    if date is not None:
        assert isinstance(hd["Date"], datetime)
        assert hd["Date"].timestamp() == date.timestamp()  # theirs is naive local time
    ct: ContentType = ours.content_type  # type: ignore[attr-defined]
    media, params = hd["Content-Type"]
    assert (media, lower_keys(params)) == (ct.media_type, lower_keys(ct.params))
    parts: tuple[Part, ...] = ours.parts  # type: ignore[attr-defined]
    assert len(theirs.data_parts) == len(parts)
    for mine, other in zip(parts, theirs.data_parts, strict=True):
        assert other.content_type == mine.content_type.media_type
        assert lower_keys(other.content_type_parameters) == lower_keys(mine.content_type.params)
        assert bytes(other.data) == mine.data


VECTORS = mms_vectors()


@pytest.mark.skipif(not VECTORS, reason="no MMS vectors")
@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_both_decoders_agree_on_the_vectors(path: Path) -> None:
    data = path.read_bytes()
    assert_agree(decode_pdu(data), oracle(data))


# What python-messaging can read: ASCII text, its well-known parameters, one To.
ASCII = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)
MEDIA = st.sampled_from(["text/plain", "image/jpeg", "image/gif", "audio/amr", "application/smil", "video/3gpp"])
PART = st.builds(
    lambda media, name, data, cid: Part(ContentType(media, {"Name": name}), data, content_id=f"<{cid}>"),
    MEDIA, ASCII, st.binary(min_size=1, max_size=100), ASCII,
)


@DIFF
@given(
    transaction_id=ASCII, to=ASCII, subject=ASCII, sender=st.one_of(st.just(INSERT_ADDRESS), ASCII),
    priority=st.sampled_from(["low", "normal", "high"]), delivery_report=st.booleans(),
    parts=st.lists(PART, min_size=1, max_size=4), start=ASCII,
)  # fmt: skip
def test_python_messaging_reads_what_msghub_encodes(
    transaction_id: str, to: str, subject: str, sender: Any, priority: str, delivery_report: bool,
    parts: list[Part], start: str,
) -> None:  # fmt: skip
    pdu = SendReq(
        mms_version="1.0", transaction_id=transaction_id, sender=sender, to=(to + "/TYPE=PLMN",), subject=subject,
        priority=priority, delivery_report=delivery_report, parts=tuple(parts),
        content_type=ContentType("application/vnd.wap.multipart.related",
                                 {"Type": "application/smil", "Start": f"<{start}>"}),
    )  # fmt: skip
    data = encode_pdu(pdu)
    assert decode_pdu(data) == pdu
    assert_agree(pdu, oracle(data))


@DIFF
@given(to=ASCII, subject=ASCII, texts=st.lists(ASCII, min_size=1, max_size=3))
def test_msghub_reads_what_python_messaging_encodes(to: str, subject: str, texts: list[str]) -> None:
    mms = message.MMSMessage()
    mms.headers["To"] = to + "/TYPE=PLMN"
    mms.headers["Subject"] = subject
    for text in texts:
        page = message.MMSMessagePage()
        page.add_text(text)
        mms.add_page(page)
    data = bytes(mms.encode())
    ours = decode_pdu(data)
    assert_agree(ours, oracle(data))
    assert ours.to == (to + "/TYPE=PLMN",)  # type: ignore[attr-defined]
    bodies = [p.data for p in ours.parts if p.content_type.media_type == "text/plain"]  # type: ignore[attr-defined]
    assert bodies == [t.encode() for t in texts]
    smil = ours.parts[0]  # type: ignore[attr-defined]
    assert smil.content_type.media_type == "application/smil" and b"<smil>" in smil.data


def test_well_known_tables_agree_with_python_messaging() -> None:
    wsp_pdu = pytest.importorskip("messaging.mms.wsp_pdu")
    from msghub.mms.wsp_tables import CHARSETS, CONTENT_TYPES, HEADER_FIELDS

    assert list(CONTENT_TYPES) == wsp_pdu.WELL_KNOWN_CONTENT_TYPES
    assert list(HEADER_FIELDS) == wsp_pdu.HEADER_FIELD_NAMES
    for code, name in wsp_pdu.WELL_KNOWN_CHARSETS.items():
        assert CHARSETS[code][0].lower() == name.lower()
