"""An outbound message as SMS-SUBMIT PDUs, one per part (pure).

Splitting is the SMS core's (msghub.sms.split); the PDU is the codec's
(msghub.sms.pdu). The concatenation reference comes from the message id, so
a retry reuses it and a phone can tell a resent part from a new message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from msghub.connectors.base import OutboundMessage, PermanentFailure
from msghub.sms.errors import SmsEncodingError
from msghub.sms.pdu import Address, PduError, SmsSubmit, Udh, encode
from msghub.sms.split import Encoding, plan_sms

# the relative validity format reaches 63 weeks
MAX_RELATIVE = timedelta(weeks=63)
MIN_RELATIVE = timedelta(minutes=5)


@dataclass(frozen=True)
class PartPdu:
    seq: int
    total: int
    pdu: str  # hex, SMSC field included
    length: int  # TPDU octets, for AT+CMGS=<length>


@dataclass(frozen=True)
class SubmitOptions:
    transliterate: bool = False
    default_validity: timedelta | None = None
    flash_priority: int = 0  # 0: never; else messages of this priority or higher go as class 0
    ref16: bool = False


def recipient_address(number: str) -> Address:
    digits = number[1:] if number.startswith("+") else number
    if not digits or not all(ch in "0123456789*#" for ch in digits) or len(digits) > 20:
        raise PermanentFailure(f"recipient {number!r} is not a phone number", code="invalid_recipient")
    return Address.of(number)


def validity_of(message: OutboundMessage, options: SubmitOptions, now: datetime) -> timedelta | None:
    if message.valid_until is not None:
        left = message.valid_until - now
        if left <= timedelta(0):
            raise PermanentFailure("the message expired before it was sent", code="expired")
        return min(max(left, MIN_RELATIVE), MAX_RELATIVE)
    return options.default_validity


def submit_pdus(message: OutboundMessage, options: SubmitOptions, *, now: datetime | None = None) -> list[PartPdu]:
    if message.channel != "sms":
        raise PermanentFailure(f"a modem carries SMS, not {message.channel}", code="unsupported_channel")
    recipient = recipient_address(message.recipient)
    try:
        plan = plan_sms(message.text, transliterate=message.transliterate or options.transliterate,
                        ref=message.id % (0x10000 if options.ref16 else 0x100), ref16=options.ref16)
    except SmsEncodingError as exc:
        raise PermanentFailure(str(exc), code="encoding") from None
    validity = validity_of(message, options, now or datetime.now(UTC))
    flash = options.flash_priority > 0 and message.priority >= options.flash_priority
    alphabet = "ucs2" if plan.encoding is Encoding.UCS2 else "gsm7"
    parts: list[PartPdu] = []
    for part in plan.parts:
        submit = SmsSubmit(recipient=recipient, user_data=part.text, alphabet=alphabet,
                           message_class=0 if flash else None,
                           udh=Udh.from_bytes(part.udh) if part.udh else None,
                           srr=message.delivery_report, validity=validity)
        try:
            pdu, length = encode(submit)
        except PduError as exc:
            raise PermanentFailure(f"cannot encode part {part.seq}: {exc}", code="encoding") from None
        parts.append(PartPdu(part.seq, part.total, pdu, length))
    return parts
