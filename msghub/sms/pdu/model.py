"""The PDU codec's values: one frozen dataclass per TPDU type (3GPP TS 23.040
9.2.2) and the fields they share. See the package docstring for the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from msghub.sms.errors import SmsDecodeError, SmsEncodingError
from msghub.sms.udh import Concat, Ports, concat_udh, parse_udh

# The agreed API types alphabet as str; encode() refuses anything but these.
Alphabet = str
ALPHABETS = ("gsm7", "8bit", "ucs2")
Direction = str  # "sc_to_ms" | "ms_to_sc" | "stored"; decode() checks it

TON_UNKNOWN = 0
TON_INTERNATIONAL = 1
TON_NATIONAL = 2
TON_ALPHANUMERIC = 5
NPI_UNKNOWN = 0
NPI_ISDN = 1


class PduError(SmsDecodeError, SmsEncodingError):
    """A PDU is malformed (decode), or a message cannot be put into one
    (encode). The message says what is wrong and, when decoding, at which
    octet offset of the PDU (the SMSC field included)."""


@dataclass(frozen=True)
class Address:
    """TP-OA/DA/RA or the SMSC address (9.1.2.5). number keeps a leading '+'
    when ton is international (it is added if missing); for ton 5 it is the
    alphanumeric text. Digits may also be '*', '#', 'a', 'b', 'c'."""

    number: str
    ton: int = TON_INTERNATIONAL
    npi: int = NPI_ISDN

    def __post_init__(self) -> None:
        if self.ton == TON_INTERNATIONAL and not self.number.startswith("+"):
            object.__setattr__(self, "number", "+" + self.number)

    @classmethod
    def of(cls, text: str) -> Address:
        """'+4479..' international, '0790..' or '*100#' unknown, 'Shop' alphanumeric."""
        if text.startswith("+"):
            return cls(text)
        if all(ch in "0123456789*#abc" for ch in text):
            return cls(text, ton=TON_UNKNOWN)
        return cls(text, ton=TON_ALPHANUMERIC, npi=NPI_UNKNOWN)


@dataclass(frozen=True)
class Udh:
    """A user data header as its information elements (IEI, data), in order.
    .concat and .ports interpret the concatenation and port IEs (the rules of
    msghub.sms.udh apply: a concatenation IE with total 0 or seq outside
    1..total is ignored); every other IE is only kept."""

    elements: tuple[tuple[int, bytes], ...]

    @classmethod
    def concatenated(cls, ref: int, total: int, seq: int, *, ref16: bool = False) -> Udh:
        try:
            return cls.from_bytes(concat_udh(ref, total, seq, ref16=ref16))
        except SmsEncodingError as exc:
            raise PduError(str(exc)) from None

    @classmethod
    def from_bytes(cls, data: bytes) -> Udh:
        """From a header including its UDHL octet; SmsDecodeError if malformed."""
        parsed = parse_udh(data)
        return cls(tuple((ie.iei, ie.data) for ie in parsed.elements))

    def to_bytes(self) -> bytes:
        """The header including its UDHL octet."""
        body = b"".join(bytes((iei, len(data))) + data for iei, data in self.elements)
        return bytes((len(body),)) + body

    @property
    def concat(self) -> Concat | None:
        """(ref, total, seq), or None."""
        return parse_udh(self.to_bytes()).concat

    @property
    def ports(self) -> Ports | None:
        """(dst, src) application ports, or None."""
        return parse_udh(self.to_bytes()).ports


@dataclass(frozen=True)
class MessageWaiting:
    """A DCS message-waiting indication group (TS 23.038 section 4, 1100-1110).
    kind: 0 voicemail, 1 fax, 2 e-mail, 3 other. store=False is the "discard
    message" group (the text need not be kept)."""

    active: bool
    kind: int = 0
    store: bool = True


@dataclass(frozen=True)
class EnhancedValidity:
    """TP-VP in the enhanced format (9.2.3.12.3). form: "none", "relative"
    (the one-octet relative code), "seconds" (0..255 s) or "hhmmss"."""

    period: timedelta | None
    form: Literal["none", "relative", "seconds", "hhmmss"] = "seconds"
    single_shot: bool = False


Validity = timedelta | datetime | EnhancedValidity


@dataclass(frozen=True)
class SmsSubmit:
    recipient: Address
    user_data: str | bytes
    alphabet: Alphabet = "gsm7"
    message_class: int | None = None
    udh: Udh | None = None
    mr: int = 0
    srr: bool = False
    validity: Validity | None = None
    reject_duplicates: bool = False
    reply_path: bool = False
    pid: int = 0
    smsc: Address | None = None
    waiting: MessageWaiting | None = None
    auto_delete: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)  # what decode() tolerated


@dataclass(frozen=True)
class SmsDeliver:
    sender: Address
    scts: datetime
    user_data: str | bytes
    alphabet: Alphabet = "gsm7"
    message_class: int | None = None
    udh: Udh | None = None
    pid: int = 0
    more_messages: bool = False
    sri: bool = False
    reply_path: bool = False
    smsc: Address | None = None
    waiting: MessageWaiting | None = None
    auto_delete: bool = False
    loop_prevention: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)  # what decode() tolerated


# TP-ST values (9.2.3.15) that have a name; the rest are reserved or SC-specific.
STATUS_NAMES = {
    0x00: "received",
    0x01: "forwarded_unconfirmed",
    0x02: "replaced",
    0x20: "congestion",
    0x21: "sme_busy",
    0x22: "no_response",
    0x23: "service_rejected",
    0x24: "qos_unavailable",
    0x25: "sme_error",
    0x40: "remote_procedure_error",
    0x41: "incompatible_destination",
    0x42: "connection_rejected",
    0x43: "not_obtainable",
    0x44: "qos_unavailable",
    0x45: "no_interworking",
    0x46: "validity_expired",
    0x47: "deleted_by_sender",
    0x48: "deleted_by_sc",
    0x49: "sm_does_not_exist",
    0x60: "congestion",
    0x61: "sme_busy",
    0x62: "no_response",
    0x63: "service_rejected",
    0x64: "qos_unavailable",
    0x65: "sme_error",
}


@dataclass(frozen=True)
class SmsStatusReport:
    mr: int
    recipient: Address
    scts: datetime
    discharge: datetime
    status: int
    smsc: Address | None = None
    more_messages: bool = False
    srq: bool = False  # the report is about an SMS-COMMAND, not a SUBMIT
    loop_prevention: bool = False
    pid: int | None = None
    alphabet: Alphabet | None = None  # with user_data: the optional TP-DCS
    user_data: str | bytes | None = None
    udh: Udh | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)  # what decode() tolerated

    @property
    def outcome(self) -> Literal["delivered", "pending", "failed"]:
        """The TP-ST class (9.2.3.15): 0x00-0x1F transaction completed,
        0x20-0x3F temporary error with the SC still trying, 0x40-0x7F no more
        attempts. 0x80-0xFF are reserved; they are counted as failed since
        the SC confirms nothing."""
        if self.status < 0x20:
            return "delivered"
        if self.status < 0x40:
            return "pending"
        return "failed"

    @property
    def reason(self) -> str:
        """A name for the status ("sme_busy"), or "status_0xNN"."""
        return STATUS_NAMES.get(self.status, f"status_0x{self.status:02x}")


@dataclass(frozen=True)
class SubmitReport:
    """SMS-SUBMIT-REPORT (9.2.2.2a): the SC's answer to a SUBMIT, which some
    devices return after +CMGS. fcs is set for the RP-ERROR form."""

    scts: datetime
    fcs: int | None = None
    pid: int | None = None
    alphabet: Alphabet | None = None
    user_data: str | bytes | None = None
    udh: Udh | None = None
    smsc: Address | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)  # what decode() tolerated


@dataclass(frozen=True)
class DeliverReport:
    """SMS-DELIVER-REPORT (9.2.2.1a): what a device answers to a DELIVER
    (the PDU of AT+CNMA). fcs is set for the RP-ERROR form."""

    fcs: int | None = None
    pid: int | None = None
    alphabet: Alphabet | None = None
    user_data: str | bytes | None = None
    udh: Udh | None = None
    smsc: Address | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)  # what decode() tolerated


# TP-CT values (9.2.3.19).
COMMAND_TYPES = {0: "enquiry", 1: "cancel_status_report", 2: "delete", 3: "enable_status_report"}
MAX_COMMAND_DATA = 157  # TP-CDL (9.2.3.20): what fits in 164 TPDU octets after the other fields


@dataclass(frozen=True)
class SmsCommand:
    """SMS-COMMAND (9.2.2.4): an operation on a message submitted before,
    named by its TP-MR (message_number) and recipient. command_type: see
    COMMAND_TYPES (0-3; 0xE0-0xFF are SC-specific). udhi says whether data
    starts with a user data header; data is kept as octets."""

    mr: int
    command_type: int
    message_number: int
    recipient: Address
    pid: int = 0
    srr: bool = False
    data: bytes = b""
    udhi: bool = False
    smsc: Address | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)  # what decode() tolerated


Message = SmsSubmit | SmsDeliver | SmsStatusReport | SubmitReport | DeliverReport | SmsCommand
