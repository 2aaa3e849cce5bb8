"""Build operations and results from friendly arguments.

Choices made here, each the common practice of UCP clients (Kannel among
them): GSM text goes as MT 3 (AMsg); UCS-2 text and binary data go as MT 4
(TMsg) with NB = 8 x octets and the DCS in XSer 02; a UDH goes in XSer 01;
a sender of digits only is numeric, '+digits' is international (OTOA 1139,
'+' dropped), anything else is alphanumeric (OTOA 5039).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from msghub.connectors.emi.errors import FieldError, UcpError
from msghub.connectors.emi.frame import Frame
from msghub.connectors.emi.operations import (
    OTOA_ALPHANUMERIC,
    OTOA_INTERNATIONAL,
    Alert,
    Operation,
    SessionLogin,
)
from msghub.connectors.emi.results import Ack, Nack
from msghub.connectors.emi.short_message import (
    DeliverSM,
    DeliveryNotification,
    DeliveryStatus,
    Notify,
    SubmitSM,
)
from msghub.connectors.emi.values import (
    bytes_to_hex,
    encode_alphanumeric_address,
    encode_amsg,
    encode_ira,
    format_ddt,
    format_scts,
    is_digits,
)
from msghub.connectors.emi.xser import XSER_DCS, XSER_UDH, Alphabet, XSerItem, build_xser
from msghub.connectors.emi.xser import dcs_alphabet as _alphabet
from msghub.sms.errors import SmsEncodingError
from msghub.sms.gsm7 import is_gsm7
from msghub.sms.ucs2 import encode_ucs2

MAX_ADDRESS_DIGITS = 16
DCS_8BIT = 0x04
DCS_UCS2 = 0x08
KEEPALIVE_PID = "0539"  # PC appl. over TCP/IP


DEFAULT_NOTIFY = Notify.DELIVERED | Notify.NON_DELIVERED

When = datetime | timedelta | int | None


@dataclass(frozen=True)
class Content:
    """The message fields of a 50-series operation."""

    mt: str
    nb: str
    msg: str
    xser: str


def encode_recipient(number: str, international_prefix: str = "00", field: str = "AdC") -> str:
    """A numeric address; a leading '+' becomes international_prefix."""
    international = number.startswith("+")
    digits = number[1:] if international else number
    if is_digits(digits) and international:
        digits = international_prefix + digits
    if not is_digits(digits) or len(digits) > MAX_ADDRESS_DIGITS:
        raise FieldError(field, f"{number!r} is not a number of 1-{MAX_ADDRESS_DIGITS} digits")
    return digits


def encode_sender(sender: str | None) -> tuple[str, str]:
    """(OAdC, OTOA) for a sender; OTOA is chosen from its form."""
    if not sender:
        return "", ""
    if sender.startswith("+") and is_digits(sender[1:]):
        return encode_recipient(sender[1:], field="OAdC"), OTOA_INTERNATIONAL
    if is_digits(sender):
        return encode_recipient(sender, field="OAdC"), ""
    return encode_alphanumeric_address(sender), OTOA_ALPHANUMERIC


def _check_dcs(dcs: int) -> int:
    if not 0 <= dcs <= 0xFF:
        raise FieldError("XSer", f"DCS {dcs} is not an octet")
    return dcs


def _text_content(text: str, dcs: int | None) -> tuple[str, str, str, int]:
    coding = _check_dcs(dcs) if dcs is not None else (0x00 if is_gsm7(text) else DCS_UCS2)
    alphabet = _alphabet(coding)
    if alphabet is Alphabet.GSM7:
        return "3", "", encode_amsg(text), coding
    if alphabet is Alphabet.UCS2:
        try:
            data = encode_ucs2(text)
        except SmsEncodingError as exc:
            raise FieldError("TMsg", str(exc)) from None
        return "4", str(8 * len(data)), bytes_to_hex(data), coding
    raise FieldError("Msg", f"DCS {coding:02X} selects 8-bit data: pass user_data, not text")


def encode_content(
    text: str | None = None,
    user_data: bytes | None = None,
    dcs: int | None = None,
    udh: bytes | None = None,
) -> Content:
    """MT, NB, message and XSer for text or for user data (exactly one)."""
    if (text is None) == (user_data is None):
        raise FieldError("Msg", "give either text or user_data")
    items: list[XSerItem] = []
    if udh is not None:
        if not udh or udh[0] != len(udh) - 1:
            raise FieldError("XSer", "a UDH starts with its length octet (UDHL)")
        items.append(XSerItem(XSER_UDH, udh))
    if user_data is not None:
        coding = DCS_8BIT if dcs is None else _check_dcs(dcs)
        if _alphabet(coding) is Alphabet.GSM7:
            raise FieldError("TMsg", "GSM 7-bit content is sent as text, not user_data")
        mt, nb, msg = "4", str(8 * len(user_data)), bytes_to_hex(user_data)
    else:
        assert text is not None  # guaranteed by the either/or check above
        mt, nb, msg, coding = _text_content(text, dcs)
    # The SMSC needs the DCS for MT 4 to know the alphabet; for MT 3 only
    # when it says more than "default alphabet" (a class, flash).
    if coding or mt == "4":
        items.append(XSerItem(XSER_DCS, bytes((coding,))))
    return Content(mt=mt, nb=nb, msg=msg, xser=build_xser(items))


def _when(value: When, now: datetime | None, field: str, tz: tzinfo | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_ddt(value, field, tz)
    delta = value if isinstance(value, timedelta) else timedelta(minutes=value)
    # The only clock read of the codec: a relative time without `now`.
    base = now if now is not None else datetime.now()
    return format_ddt(base + delta, field, tz)


def _notify_mask(notify: bool | int) -> str:
    if not notify:
        return ""
    mask = DEFAULT_NOTIFY if notify is True else int(notify)
    if not 1 <= mask <= 7:
        raise FieldError("NT", f"notification mask {mask} is outside 1-7")
    return str(mask)


def make_submit(
    recipient: str,
    *,
    sender: str | None = None,
    text: str | None = None,
    user_data: bytes | None = None,
    dcs: int | None = None,
    udh: bytes | None = None,
    validity: When = None,
    deferred: When = None,
    notify: bool | int = False,
    notify_address: str = "",
    notify_pid: str = "",
    priority: bool = False,
    trn: int = 0,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    international_prefix: str = "00",
) -> SubmitSM:
    """A 51 from friendly arguments.

    validity and deferred: a datetime, or a timedelta / minutes from `now`
    (default: this machine's clock). Aware datetimes are converted to `tz`
    (default: local time), since EMI times are the SMSC's local time.
    notify: True for delivered + non-delivered, or a Notify mask.
    """
    content = encode_content(text, user_data, dcs, udh)
    oadc, otoa = encode_sender(sender)
    nt = _notify_mask(notify)
    ddt = _when(deferred, now, "DDT", tz)
    return SubmitSM(
        trn=trn,
        adc=encode_recipient(recipient, international_prefix),
        oadc=oadc,
        otoa=otoa,
        nrq="1" if nt else "",
        nt=nt,
        nadc=notify_address if nt else "",
        npid=notify_pid if nt else "",
        dd="1" if ddt else "",
        ddt=ddt,
        vp=_when(validity, now, "VP", tz),
        mt=content.mt,
        nb=content.nb,
        msg=content.msg,
        xser=content.xser,
        pr="1" if priority else "",
    )


def make_deliver(
    recipient: str,
    sender: str,
    scts: datetime,
    *,
    text: str | None = None,
    user_data: bytes | None = None,
    dcs: int | None = None,
    udh: bytes | None = None,
    trn: int = 0,
    tz: tzinfo | None = None,
) -> DeliverSM:
    """A 52 (mobile-originated message), as an SMSC or simulator sends it."""
    content = encode_content(text, user_data, dcs, udh)
    oadc, otoa = encode_sender(sender)
    return DeliverSM(
        trn=trn,
        adc=encode_recipient(recipient),
        oadc=oadc,
        otoa=otoa,
        scts=format_scts(scts, "SCTS", tz),
        mt=content.mt,
        nb=content.nb,
        msg=content.msg,
        xser=content.xser,
    )


_STATUS_WORDS = {
    DeliveryStatus.DELIVERED: "has been delivered",
    DeliveryStatus.BUFFERED: "has been buffered",
    DeliveryStatus.NOT_DELIVERED: "could not be delivered",
}


def make_notification(
    recipient: str,
    original_recipient: str,
    submit_scts: str,
    status: DeliveryStatus,
    *,
    delivered_at: datetime | None = None,
    reason: int | None = None,
    text: str | None = None,
    trn: int = 0,
    tz: tzinfo | None = None,
) -> DeliveryNotification:
    """A 53 about the submission the SMSC stamped submit_scts (raw SCTS).

    recipient is the ESME's address; without text the specification's
    sentence is used ("Message for X, with identification YYMMDDhhmmss has
    been delivered" / "has been buffered" / "could not be delivered").
    """
    if len(submit_scts) != 12 or not is_digits(submit_scts):
        raise FieldError("SCTS", f"{submit_scts!r} is not DDMMYYhhmmss")
    if reason is not None and not 0 <= reason <= 999:
        raise FieldError("Rsn", f"reason {reason} is outside 000-999")
    if text is None:
        ident = submit_scts[4:6] + submit_scts[2:4] + submit_scts[0:2] + submit_scts[6:]
        text = (
            f"Message for {original_recipient}, with identification {ident} {_STATUS_WORDS[status]}"
        )
    return DeliveryNotification(
        trn=trn,
        adc=recipient,
        oadc=original_recipient,
        scts=submit_scts,
        dst=str(int(status)),
        rsn=f"{reason:03d}" if reason is not None else "",
        dscts=format_scts(delivered_at, "DSCTS", tz) if delivered_at else "",
        mt="3",
        msg=encode_amsg(text),
    )


def login_frame(
    username: str,
    password: str,
    *,
    trn: int = 0,
    oton: str = "6",
    onpi: str = "5",
    vers: str = "0100",
) -> Frame:
    """60 opening a session (STYP 1); the password goes hex-encoded (IRA)."""
    return SessionLogin(
        trn=trn,
        oadc=username,
        oton=oton,
        onpi=onpi,
        styp="1",
        pwd=encode_ira(password),
        vers=vers,
    ).to_frame()


def alert_frame(adc: str, *, pid: str = KEEPALIVE_PID, trn: int = 0) -> Frame:
    """31, the keep-alive of an idle link."""
    return Alert(trn=trn, adc=adc, pid=pid).to_frame()


def _request_key(request: Frame | Operation) -> tuple[int, str]:
    frame = request if isinstance(request, Frame) else request.to_frame()
    if frame.kind != "O":
        raise FieldError("O/R", "only an operation can be answered")
    return frame.trn, frame.ot


def ack_frame(request: Frame | Operation, *, sm: str = "", mvp: str = "") -> Frame:
    """Positive result to an operation (same TRN and OT)."""
    trn, ot = _request_key(request)
    return Ack(ot=ot, trn=trn, mvp=mvp, sm=sm).to_frame()


def nack_frame(request: Frame | Operation, ec: str, *, sm: str = "") -> Frame:
    """Negative result to an operation with error code ec (two digits)."""
    if len(ec) != 2 or not is_digits(ec):
        raise FieldError("EC", f"{ec!r} is not a two-digit error code")
    trn, ot = _request_key(request)
    return Nack(ot=ot, trn=trn, ec=ec, sm=sm).to_frame()


def nack_for_error(error: UcpError) -> Frame | None:
    """The negative result an SMSC owes for an operation it could not
    decode, or None when the frame was a result or its TRN/OT is unknown."""
    if error.kind != "O" or error.trn is None or error.ot is None:
        return None
    return Nack(ot=error.ot, trn=error.trn, ec=error.ec).to_frame()


def submit_ack_sm(adc: str, scts: datetime, tz: tzinfo | None = None) -> str:
    """The SM of a positive result to 51: 'AdC:SCTS'."""
    return f"{adc}:{format_scts(scts, 'SCTS', tz)}"
