"""Hypothesis strategies for MMS PDUs the codec must round-trip exactly."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from msghub.mms import INSERT_ADDRESS, ContentType, Part, Pdu
from msghub.mms import headers as h
from msghub.mms.wsp_tables import CHARSETS, CONTENT_TYPE_CODES, CONTENT_TYPES, PARAMETER_CODES

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
ASCII_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
TOKEN = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,15}\Z")
DATES = st.integers(0, 4_102_444_800).map(lambda s: datetime.fromtimestamp(s, UTC))
TIMES = st.one_of(DATES, st.integers(0, 2**32).map(lambda s: timedelta(seconds=s)))
MULTIPART = ("application/vnd.wap.multipart.mixed", "application/vnd.wap.multipart.related",
             "application/vnd.wap.multipart.alternative")  # fmt: skip
MEDIA = st.one_of(
    st.sampled_from([t for t in CONTENT_TYPES if not t.startswith("application/vnd.wap.multipart")]),
    st.from_regex(r"\A(x-[a-z]{1,8}|audio|video|image)/[a-z0-9.+-]{1,12}\Z").filter(
        lambda t: t.lower() not in CONTENT_TYPE_CODES
    ),
)


@st.composite
def params(draw: st.DrawFn) -> dict[str, str]:
    out: dict[str, str] = {}
    if draw(st.booleans()):
        out["Charset"] = draw(st.sampled_from([name for name, _ in CHARSETS.values()]))
    for name in draw(st.lists(st.sampled_from(["Name", "Filename", "Start", "Start-info"]), unique=True)):
        out[name] = draw(TEXT)
    if draw(st.booleans()):
        out["Type"] = draw(MEDIA)
    for name in draw(st.lists(TOKEN, max_size=2, unique_by=str.lower)):
        if name.lower() not in PARAMETER_CODES and name.lower() not in (k.lower() for k in out):
            out[name] = draw(TEXT)
    return out


def content_types(media: st.SearchStrategy[str] = MEDIA) -> st.SearchStrategy[ContentType]:
    return st.builds(ContentType, media, params())


PART_HEADER_NAME = TOKEN.filter(lambda n: n.lower() not in ("content-id", "content-location", "content-type"))
PARTS = st.builds(
    Part,
    content_type=content_types(),
    data=st.binary(max_size=200),
    content_id=st.none() | TEXT,
    content_location=st.none() | TEXT,
    headers=st.lists(st.tuples(PART_HEADER_NAME, TEXT), max_size=2).map(tuple),
)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"content_type": draw(content_types(st.sampled_from(MULTIPART))),
                "parts": tuple(draw(st.lists(PARTS, max_size=4)))}  # fmt: skip
    ct = draw(content_types())
    return {"content_type": ct, "parts": (Part(ct, draw(st.binary(max_size=200))),)}


def _enum(table: dict[int, str]) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(table.values()))


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "transaction_id": TEXT, "message_id": TEXT, "content_location": TEXT, "reply_charging_id": TEXT,
    "applic_id": TEXT, "reply_applic_id": TEXT,
    "subject": TEXT, "response_text": TEXT, "retrieve_text": TEXT, "status_text": TEXT,
    "to": st.lists(TEXT, max_size=3).map(tuple), "cc": st.lists(TEXT, max_size=2).map(tuple),
    "bcc": st.lists(TEXT, max_size=2).map(tuple),
    "sender": st.one_of(st.just(INSERT_ADDRESS), TEXT),
    "date": DATES, "expiry": TIMES, "delivery_time": TIMES, "reply_charging_deadline": TIMES,
    "delivery_report": st.booleans(), "read_report": st.booleans(), "report_allowed": st.booleans(),
    "drm_content": st.booleans(), "adaptation_allowed": st.booleans(),
    "message_class": _enum(h.MESSAGE_CLASSES), "priority": _enum(h.PRIORITIES),
    "sender_visibility": _enum(h.VISIBILITIES), "status": _enum(h.STATUSES), "read_status": _enum(h.READ_STATUSES),
    "reply_charging": _enum(h.REPLY_CHARGING), "content_class": _enum(h.CONTENT_CLASSES),
    "response_status": st.sampled_from(sorted(h.RESPONSE_STATUSES)),
    "retrieve_status": st.sampled_from(sorted(h.RETRIEVE_STATUSES)),
    "message_size": st.integers(0, 2**63 - 1), "reply_charging_size": st.integers(0, 2**63 - 1),
}  # fmt: skip


@st.composite
def pdus(draw: st.DrawFn, cls: type[Pdu]) -> Pdu:
    values: dict[str, Any] = {"mms_version": draw(st.sampled_from(["1.0", "1.1", "1.2", "1.3"]))}
    names = {f.name for f in dataclasses.fields(cls)}
    for name in names & VALUES.keys():
        if name in cls.mandatory or draw(st.booleans()):
            strategy = VALUES[name]
            if name in cls.mandatory and name in ("to", "cc", "bcc"):
                strategy = st.lists(TEXT, min_size=1, max_size=3).map(tuple)
            values[name] = draw(strategy)
    if "content_type" in names:
        values.update(draw(bodies()))
    values["application_headers"] = tuple(draw(st.lists(st.tuples(TOKEN, TEXT), max_size=2)))
    return cls(**values)
