"""MMS PDUs as typed dataclasses, and decode_pdu / encode_pdu.

Decoding is lenient about what a PDU carries (handsets omit mandatory headers
and add others): a header that is not a field of the PDU's class is kept raw
in `unknown_headers` (code, value octets) and written back as it came.
Encoding checks the mandatory headers of OMA-TS-MMS_ENC-V1_3 section 6.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from msghub.mms import wsp
from msghub.mms.content import ContentType, Part, encode_content_type, encode_multipart, read_content_type
from msghub.mms.content import read_multipart as _read_multipart
from msghub.mms.errors import MmsError
from msghub.mms.headers import (
    BY_ATTR,
    BY_CODE,
    CODE_CONTENT_TYPE,
    CODE_MESSAGE_TYPE,
    CODE_MMS_VERSION,
    CODE_TRANSACTION_ID,
    MESSAGE_TYPE_CODES,
    MESSAGE_TYPES,
    InsertAddress,
)

Time = datetime | timedelta
MIXED = ContentType("application/vnd.wap.multipart.mixed")
Sender = str | InsertAddress


@dataclass(frozen=True, kw_only=True)
class Pdu:
    message_type: ClassVar[str]
    mandatory: ClassVar[tuple[str, ...]] = ()
    mms_version: str = "1.2"
    unknown_headers: tuple[tuple[int, bytes], ...] = ()
    application_headers: tuple[tuple[str, str], ...] = ()

    def header_fields(self) -> tuple[str, ...]:
        """This class's header attributes, in the order they are written."""
        skip = {"mms_version", "unknown_headers", "application_headers", "content_type", "parts"}
        return tuple(f.name for f in dataclasses.fields(self) if f.name not in skip)


@dataclass(frozen=True, kw_only=True)
class SendReq(Pdu):
    message_type: ClassVar[str] = "m-send-req"
    mandatory: ClassVar[tuple[str, ...]] = ("transaction_id", "sender")
    transaction_id: str | None = None
    date: datetime | None = None
    sender: Sender | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str | None = None
    message_class: str | None = None
    expiry: Time | None = None
    delivery_time: Time | None = None
    priority: str | None = None
    sender_visibility: str | None = None
    delivery_report: bool | None = None
    read_report: bool | None = None
    reply_charging: str | None = None
    reply_charging_deadline: Time | None = None
    reply_charging_size: int | None = None
    reply_charging_id: str | None = None
    content_class: str | None = None
    drm_content: bool | None = None
    applic_id: str | None = None
    reply_applic_id: str | None = None
    content_type: ContentType = MIXED
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SendConf(Pdu):
    message_type: ClassVar[str] = "m-send-conf"
    mandatory: ClassVar[tuple[str, ...]] = ("transaction_id", "response_status")
    transaction_id: str | None = None
    response_status: int | None = None
    response_text: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class NotificationInd(Pdu):
    message_type: ClassVar[str] = "m-notification-ind"
    mandatory: ClassVar[tuple[str, ...]] = (
        "transaction_id", "message_class", "message_size", "expiry", "content_location",
    )  # fmt: skip
    transaction_id: str | None = None
    sender: Sender | None = None
    subject: str | None = None
    delivery_report: bool | None = None
    message_class: str | None = None
    priority: str | None = None
    message_size: int | None = None
    expiry: Time | None = None
    reply_charging: str | None = None
    reply_charging_deadline: Time | None = None
    reply_charging_size: int | None = None
    reply_charging_id: str | None = None
    content_class: str | None = None
    drm_content: bool | None = None
    applic_id: str | None = None
    reply_applic_id: str | None = None
    content_location: str | None = None


@dataclass(frozen=True, kw_only=True)
class NotifyRespInd(Pdu):
    message_type: ClassVar[str] = "m-notifyresp-ind"
    mandatory: ClassVar[tuple[str, ...]] = ("transaction_id", "status")
    transaction_id: str | None = None
    status: str | None = None
    report_allowed: bool | None = None


@dataclass(frozen=True, kw_only=True)
class RetrieveConf(Pdu):
    message_type: ClassVar[str] = "m-retrieve-conf"
    mandatory: ClassVar[tuple[str, ...]] = ("date",)
    transaction_id: str | None = None
    message_id: str | None = None
    date: datetime | None = None
    sender: Sender | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str | None = None
    message_class: str | None = None
    priority: str | None = None
    delivery_report: bool | None = None
    read_report: bool | None = None
    reply_charging: str | None = None
    reply_charging_deadline: Time | None = None
    reply_charging_size: int | None = None
    reply_charging_id: str | None = None
    retrieve_status: int | None = None
    retrieve_text: str | None = None
    content_class: str | None = None
    drm_content: bool | None = None
    applic_id: str | None = None
    reply_applic_id: str | None = None
    content_type: ContentType = MIXED
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AcknowledgeInd(Pdu):
    message_type: ClassVar[str] = "m-acknowledge-ind"
    mandatory: ClassVar[tuple[str, ...]] = ("transaction_id",)
    transaction_id: str | None = None
    report_allowed: bool | None = None


@dataclass(frozen=True, kw_only=True)
class DeliveryInd(Pdu):
    message_type: ClassVar[str] = "m-delivery-ind"
    mandatory: ClassVar[tuple[str, ...]] = ("message_id", "to", "date", "status")
    message_id: str | None = None
    to: tuple[str, ...] = ()
    date: datetime | None = None
    status: str | None = None
    status_text: str | None = None
    applic_id: str | None = None
    reply_applic_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReadRecInd(Pdu):
    message_type: ClassVar[str] = "m-read-rec-ind"
    mandatory: ClassVar[tuple[str, ...]] = ("message_id", "to", "sender", "read_status")
    message_id: str | None = None
    to: tuple[str, ...] = ()
    sender: Sender | None = None
    date: datetime | None = None
    read_status: str | None = None
    applic_id: str | None = None
    reply_applic_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReadOrigInd(Pdu):
    message_type: ClassVar[str] = "m-read-orig-ind"
    mandatory: ClassVar[tuple[str, ...]] = ("message_id", "to", "sender", "date", "read_status")
    message_id: str | None = None
    to: tuple[str, ...] = ()
    sender: Sender | None = None
    date: datetime | None = None
    read_status: str | None = None
    applic_id: str | None = None
    reply_applic_id: str | None = None


PDU_CLASSES: dict[str, type[Pdu]] = {
    cls.message_type: cls
    for cls in (SendReq, SendConf, NotificationInd, NotifyRespInd, RetrieveConf, AcknowledgeInd, DeliveryInd,
                ReadRecInd, ReadOrigInd)
}  # fmt: skip
_FIELD_NAMES: dict[type[Pdu], frozenset[str]] = {
    cls: frozenset(f.name for f in dataclasses.fields(cls)) for cls in PDU_CLASSES.values()
}


def decode_pdu(data: bytes) -> Pdu:
    """Decodes one MMS PDU; raises MmsError (with the offset) on anything malformed."""
    r = wsp.Reader(bytes(data))
    if r.at_end() or r.peek() != 0x80 | CODE_MESSAGE_TYPE:
        raise MmsError("not an MMS PDU: it must start with X-Mms-Message-Type (0x8C)")
    r.pos += 1
    at = r.pos
    octet = r.byte()
    type_name = MESSAGE_TYPES.get(octet)
    cls = PDU_CLASSES.get(type_name or "")
    if cls is None:
        raise MmsError(f"unsupported MMS message type 0x{octet:02X} at offset {at}")
    names = _FIELD_NAMES[cls]
    values: dict[str, Any] = {}
    repeated: dict[str, list[Any]] = {}
    unknown: list[tuple[int, bytes]] = []
    application: list[tuple[str, str]] = []
    while not r.at_end():
        first = r.peek()
        if first < 0x20 or first == wsp.QUOTE:
            raise r.error(f"header field name expected, got 0x{first:02X}")
        if first < 0x80:
            name = wsp.read_text_string(r)
            application.append((name, "" if r.at_end() else wsp.read_text_string(r)))
            continue
        code = first & 0x7F
        r.pos += 1
        if code == CODE_CONTENT_TYPE:
            if "content_type" not in names:
                raise r.error(f"{cls.message_type} carries no content but has a Content-Type")
            values["content_type"] = read_content_type(r)
            values["parts"] = _read_body(r, values["content_type"])
            break
        start = r.pos
        field = BY_CODE.get(code)
        if field is None or field.attr not in names:
            unknown.append((code, wsp.skip_value(r)))
            continue
        value = field.read(r)
        if field.repeated:
            repeated.setdefault(field.attr, []).append(value)
        elif field.attr in values:  # a repeated single header: keep the first, the rest raw
            unknown.append((code, r.data[start : r.pos]))
        else:
            values[field.attr] = value
    values.update({attr: tuple(items) for attr, items in repeated.items()})
    return cls(**values, unknown_headers=tuple(unknown), application_headers=tuple(application))


def _read_body(r: wsp.Reader, ct: ContentType) -> tuple[Part, ...]:
    if ct.is_multipart:
        return _read_multipart(r)
    return (Part(ct, r.rest()),)


def encode_pdu(pdu: Pdu) -> bytes:
    """Encodes a PDU: X-Mms-Message-Type, X-Mms-Transaction-Id and X-Mms-MMS-Version
    first (as the specification wants), Content-Type and the body last."""
    missing = [name for name in pdu.mandatory if getattr(pdu, name) in (None, ())]
    if missing:
        fields = ", ".join(BY_ATTR[name].name for name in missing)
        raise MmsError(f"{pdu.message_type} needs {fields}")
    out = bytearray([0x80 | CODE_MESSAGE_TYPE, MESSAGE_TYPE_CODES[pdu.message_type]])
    transaction_id = getattr(pdu, "transaction_id", None)
    if transaction_id is not None:
        out += bytes([0x80 | CODE_TRANSACTION_ID]) + wsp.encode_text_string(transaction_id)
    out += bytes([0x80 | CODE_MMS_VERSION]) + BY_ATTR["mms_version"].write(pdu.mms_version)
    for name in pdu.header_fields():
        value = getattr(pdu, name)
        if name == "transaction_id" or value is None:
            continue
        field = BY_ATTR[name]
        for item in value if field.repeated else (value,):
            out += bytes([0x80 | field.code]) + field.write(item)
    for code, raw in pdu.unknown_headers:
        out += bytes([0x80 | code]) + raw
    for name, text in pdu.application_headers:
        out += wsp.encode_token_text(name) + wsp.encode_text_string(text)
    ct: ContentType | None = getattr(pdu, "content_type", None)
    if ct is not None:
        out += bytes([0x80 | CODE_CONTENT_TYPE]) + encode_content_type(ct)
        parts: tuple[Part, ...] = getattr(pdu, "parts", ())
        if ct.is_multipart:
            out += encode_multipart(parts)
        elif len(parts) == 1:
            out += parts[0].data
        else:
            raise MmsError(f"a {ct.media_type} body is one part, not {len(parts)}: use a multipart type")
    return bytes(out)
