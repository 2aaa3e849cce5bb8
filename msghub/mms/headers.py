"""MMS header fields (OMA-TS-MMS_ENC-V1_3 section 7.3, codes in table 24)
and their value encodings, one Field per header."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from msghub.mms import wsp
from msghub.mms.errors import MmsError

TYPE_ABSOLUTE = 0x80  # Absolute-token: a Date follows
TYPE_RELATIVE = 0x81  # Relative-token: Delta-seconds follow
ADDRESS_PRESENT = 0x80
INSERT_ADDRESS_TOKEN = 0x81


class InsertAddress(enum.Enum):
    """From carrying the Insert-address-token: the MMSC fills the sender in."""

    TOKEN = "insert-address"


INSERT_ADDRESS = InsertAddress.TOKEN

MESSAGE_TYPES: dict[int, str] = {
    0x80: "m-send-req", 0x81: "m-send-conf", 0x82: "m-notification-ind", 0x83: "m-notifyresp-ind",
    0x84: "m-retrieve-conf", 0x85: "m-acknowledge-ind", 0x86: "m-delivery-ind", 0x87: "m-read-rec-ind",
    0x88: "m-read-orig-ind", 0x89: "m-forward-req", 0x8A: "m-forward-conf",
}  # fmt: skip
MESSAGE_TYPE_CODES = {name: code for code, name in MESSAGE_TYPES.items()}

MESSAGE_CLASSES = {0x80: "personal", 0x81: "advertisement", 0x82: "informational", 0x83: "auto"}
PRIORITIES = {0x80: "low", 0x81: "normal", 0x82: "high"}
VISIBILITIES = {0x80: "hide", 0x81: "show"}
STATUSES = {
    0x80: "expired", 0x81: "retrieved", 0x82: "rejected", 0x83: "deferred", 0x84: "unrecognised",
    0x85: "indeterminate", 0x86: "forwarded", 0x87: "unreachable",
}  # fmt: skip
READ_STATUSES = {0x80: "read", 0x81: "deleted-without-being-read"}
REPLY_CHARGING = {0x80: "requested", 0x81: "requested-text-only", 0x82: "accepted", 0x83: "accepted-text-only"}
CONTENT_CLASSES = {
    0x80: "text", 0x81: "image-basic", 0x82: "image-rich", 0x83: "video-basic", 0x84: "video-rich",
    0x85: "megapixel", 0x86: "content-basic", 0x87: "content-rich",
}  # fmt: skip
# X-Mms-Response-Status and X-Mms-Retrieve-Status (stored as the octet value).
RESPONSE_STATUSES = {
    0x80: "ok", 0x81: "error-unspecified", 0x82: "error-service-denied", 0x83: "error-message-format-corrupt",
    0x84: "error-sending-address-unresolved", 0x85: "error-message-not-found", 0x86: "error-network-problem",
    0x87: "error-content-not-accepted", 0x88: "error-unsupported-message",
    0xC0: "error-transient-failure", 0xC1: "error-transient-sending-address-unresolved",
    0xC2: "error-transient-message-not-found", 0xC3: "error-transient-network-problem",
    0xC4: "error-transient-partial-success",
    0xE0: "error-permanent-failure", 0xE1: "error-permanent-service-denied",
    0xE2: "error-permanent-message-format-corrupt", 0xE3: "error-permanent-sending-address-unresolved",
    0xE4: "error-permanent-message-not-found", 0xE5: "error-permanent-content-not-accepted",
    0xE6: "error-permanent-reply-charging-limitations-not-met",
    0xE7: "error-permanent-reply-charging-request-not-accepted",
    0xE8: "error-permanent-reply-charging-forwarding-denied",
    0xE9: "error-permanent-reply-charging-not-supported", 0xEA: "error-permanent-address-hiding-not-supported",
    0xEB: "error-permanent-lack-of-prepaid",
}  # fmt: skip
RETRIEVE_STATUSES = {
    0x80: "ok", 0xC0: "error-transient-failure", 0xC1: "error-transient-message-not-found",
    0xC2: "error-transient-network-problem", 0xE0: "error-permanent-failure",
    0xE1: "error-permanent-service-denied", 0xE2: "error-permanent-message-not-found",
    0xE3: "error-permanent-content-unsupported",
}  # fmt: skip


@dataclass(frozen=True)
class Field:
    code: int
    name: str
    attr: str
    read: Callable[[wsp.Reader], Any]
    write: Callable[[Any], bytes]
    repeated: bool = False


# --- value codecs -------------------------------------------------------------


def _octet(r: wsp.Reader) -> int:
    octet = r.byte()
    if octet < 0x80:
        raise MmsError(f"one-octet value (128-255) expected, got 0x{octet:02X} at offset {r.pos - 1}")
    return octet


def _enum(table: dict[int, str], tokens: bool = False) -> tuple[Callable[[wsp.Reader], Any], Callable[[Any], bytes]]:
    names = {name: code for code, name in table.items()}

    def read(r: wsp.Reader) -> str:
        if tokens and r.peek() < 0x80:
            return wsp.read_text_string(r)
        octet = _octet(r)
        return table.get(octet, f"0x{octet:02X}")

    def write(value: str) -> bytes:
        if value in names:
            return bytes([names[value]])
        if value.startswith("0x") and len(value) == 4:
            return bytes([int(value, 16)])
        if tokens:
            return wsp.encode_token_text(value)
        raise MmsError(f"unknown value {value!r} (known: {', '.join(names)})")

    return read, write


def _read_bool(r: wsp.Reader) -> bool:
    octet = _octet(r)
    if octet not in (0x80, 0x81):
        raise MmsError(f"Yes (128) or No (129) expected, got {octet} at offset {r.pos - 1}")
    return octet == 0x80


def _write_bool(value: bool) -> bytes:
    return b"\x80" if value else b"\x81"


def _read_status_code(r: wsp.Reader) -> int:
    return _octet(r)


def _write_status_code(value: int) -> bytes:
    if not 0x80 <= value <= 0xFF:
        raise MmsError(f"status code out of range 128-255: {value}")
    return bytes([value])


def _read_version(r: wsp.Reader) -> str:
    if r.peek() < 0x80:
        return wsp.read_text_string(r)
    value = wsp.read_short_integer(r)
    minor = value & 0x0F
    return f"{(value >> 4) & 0x07}.{minor}" if minor != 0x0F else f"{(value >> 4) & 0x07}"


def _write_version(value: str) -> bytes:
    major, _, minor = value.partition(".")
    if not (major.isdigit() and int(major) <= 7 and (minor == "" or (minor.isdigit() and int(minor) < 15))):
        raise MmsError(f"MMS version must be major.minor (e.g. 1.2), not {value!r}")
    return wsp.encode_short_integer((int(major) << 4) | (int(minor) if minor else 0x0F))


def _read_time(r: wsp.Reader) -> datetime | timedelta:
    inner = wsp.read_length_prefixed(r)
    token = inner.byte()
    if token == TYPE_ABSOLUTE:
        return wsp.read_date(inner)
    if token == TYPE_RELATIVE:
        return timedelta(seconds=wsp.read_integer(inner))
    raise MmsError(f"absolute (128) or relative (129) token expected, got {token} at offset {inner.pos - 1}")


def _write_time(value: datetime | timedelta) -> bytes:
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        return wsp.with_length(bytes([TYPE_RELATIVE]) + wsp.encode_long_integer(seconds))
    return wsp.with_length(bytes([TYPE_ABSOLUTE]) + wsp.encode_date(value))


def _read_from(r: wsp.Reader) -> str | InsertAddress:
    inner = wsp.read_length_prefixed(r)
    token = inner.byte()
    if token == INSERT_ADDRESS_TOKEN:
        return INSERT_ADDRESS
    if token == ADDRESS_PRESENT:
        return wsp.read_encoded_string(inner)
    raise MmsError(f"address-present (128) or insert-address (129) expected, got {token} at offset {inner.pos - 1}")


def _write_from(value: str | InsertAddress) -> bytes:
    if isinstance(value, InsertAddress):
        return wsp.with_length(bytes([INSERT_ADDRESS_TOKEN]))
    return wsp.with_length(bytes([ADDRESS_PRESENT]) + wsp.encode_encoded_string(value))


def _read_long(r: wsp.Reader) -> int:
    return wsp.read_integer(r)


_CLASS = _enum(MESSAGE_CLASSES, tokens=True)
_PRIORITY = _enum(PRIORITIES)
_VISIBILITY = _enum(VISIBILITIES)
_STATUS = _enum(STATUSES)
_READ_STATUS = _enum(READ_STATUSES)
_REPLY_CHARGING = _enum(REPLY_CHARGING)
_CONTENT_CLASS = _enum(CONTENT_CLASSES)
_TEXT = (wsp.read_text_string, wsp.encode_text_string)
_ENCODED = (wsp.read_encoded_string, wsp.encode_encoded_string)
_BOOL = (_read_bool, _write_bool)
_TIME = (_read_time, _write_time)
_LONG = (_read_long, wsp.encode_long_integer)

FIELDS: tuple[Field, ...] = (
    Field(0x01, "Bcc", "bcc", *_ENCODED, repeated=True),
    Field(0x02, "Cc", "cc", *_ENCODED, repeated=True),
    Field(0x03, "X-Mms-Content-Location", "content_location", *_TEXT),
    Field(0x05, "Date", "date", wsp.read_date, wsp.encode_date),
    Field(0x06, "X-Mms-Delivery-Report", "delivery_report", *_BOOL),
    Field(0x07, "X-Mms-Delivery-Time", "delivery_time", *_TIME),
    Field(0x08, "X-Mms-Expiry", "expiry", *_TIME),
    Field(0x09, "From", "sender", _read_from, _write_from),
    Field(0x0A, "X-Mms-Message-Class", "message_class", *_CLASS),
    Field(0x0B, "Message-ID", "message_id", *_TEXT),
    Field(0x0D, "X-Mms-MMS-Version", "mms_version", _read_version, _write_version),
    Field(0x0E, "X-Mms-Message-Size", "message_size", *_LONG),
    Field(0x0F, "X-Mms-Priority", "priority", *_PRIORITY),
    Field(0x10, "X-Mms-Read-Report", "read_report", *_BOOL),
    Field(0x11, "X-Mms-Report-Allowed", "report_allowed", *_BOOL),
    Field(0x12, "X-Mms-Response-Status", "response_status", _read_status_code, _write_status_code),
    Field(0x13, "X-Mms-Response-Text", "response_text", *_ENCODED),
    Field(0x14, "X-Mms-Sender-Visibility", "sender_visibility", *_VISIBILITY),
    Field(0x15, "X-Mms-Status", "status", *_STATUS),
    Field(0x16, "Subject", "subject", *_ENCODED),
    Field(0x17, "To", "to", *_ENCODED, repeated=True),
    Field(0x18, "X-Mms-Transaction-Id", "transaction_id", *_TEXT),
    Field(0x19, "X-Mms-Retrieve-Status", "retrieve_status", _read_status_code, _write_status_code),
    Field(0x1A, "X-Mms-Retrieve-Text", "retrieve_text", *_ENCODED),
    Field(0x1B, "X-Mms-Read-Status", "read_status", *_READ_STATUS),
    Field(0x1C, "X-Mms-Reply-Charging", "reply_charging", *_REPLY_CHARGING),
    Field(0x1D, "X-Mms-Reply-Charging-Deadline", "reply_charging_deadline", *_TIME),
    Field(0x1E, "X-Mms-Reply-Charging-ID", "reply_charging_id", *_TEXT),
    Field(0x1F, "X-Mms-Reply-Charging-Size", "reply_charging_size", *_LONG),
    Field(0x36, "X-Mms-Status-Text", "status_text", *_ENCODED),
    Field(0x37, "X-Mms-Applic-ID", "applic_id", *_TEXT),
    Field(0x38, "X-Mms-Reply-Applic-ID", "reply_applic_id", *_TEXT),
    Field(0x3A, "X-Mms-Content-Class", "content_class", *_CONTENT_CLASS),
    Field(0x3B, "X-Mms-DRM-Content", "drm_content", *_BOOL),
    Field(0x3C, "X-Mms-Adaptation-Allowed", "adaptation_allowed", *_BOOL),
)
BY_CODE: dict[int, Field] = {f.code: f for f in FIELDS}
BY_ATTR: dict[str, Field] = {f.attr: f for f in FIELDS}
CODE_MESSAGE_TYPE = 0x0C
CODE_TRANSACTION_ID = 0x18
CODE_MMS_VERSION = 0x0D
CODE_CONTENT_TYPE = 0x04
# Names of the codes this codec reads only generically (kept raw).
OTHER_NAMES: dict[int, str] = {
    0x20: "X-Mms-Previously-Sent-By", 0x21: "X-Mms-Previously-Sent-Date", 0x22: "X-Mms-Store",
    0x23: "X-Mms-MM-State", 0x24: "X-Mms-MM-Flags", 0x25: "X-Mms-Store-Status", 0x26: "X-Mms-Store-Status-Text",
    0x27: "X-Mms-Stored", 0x28: "X-Mms-Attributes", 0x29: "X-Mms-Totals", 0x2A: "X-Mms-Mbox-Totals",
    0x2B: "X-Mms-Quotas", 0x2C: "X-Mms-Mbox-Quotas", 0x2D: "X-Mms-Message-Count", 0x2E: "Content",
    0x2F: "X-Mms-Start", 0x30: "Additional-headers", 0x31: "X-Mms-Distribution-Indicator",
    0x32: "X-Mms-Element-Descriptor", 0x33: "X-Mms-Limit", 0x34: "X-Mms-Recommended-Retrieval-Mode",
    0x35: "X-Mms-Recommended-Retrieval-Mode-Text", 0x39: "X-Mms-Aux-Applic-Info", 0x3D: "X-Mms-Replace-ID",
    0x3E: "X-Mms-Cancel-ID", 0x3F: "X-Mms-Cancel-Status",
}  # fmt: skip


def header_name(code: int) -> str:
    known = BY_CODE.get(code)
    if known:
        return known.name
    return OTHER_NAMES.get(code, f"X-Mms-0x{code:02X}")
