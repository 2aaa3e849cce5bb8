"""encode() and decode(): the TPDU layouts of 3GPP TS 23.040 9.2.2, with the
SMSC field of TS 27.005 3.1 in front when with_smsc.
"""

from __future__ import annotations

import binascii
import dataclasses
import re
import string

from msghub.sms.pdu.fields import (
    Dcs,
    Reader,
    make_dcs,
    parse_dcs,
    read_address,
    read_smsc,
    read_timestamp,
    read_validity,
    vpf_of,
    write_address,
    write_smsc,
    write_timestamp,
    write_validity,
)
from msghub.sms.pdu.model import (
    Address,
    Alphabet,
    DeliverReport,
    Direction,
    Message,
    PduError,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    SubmitReport,
    Udh,
)
from msghub.sms.pdu.userdata import decode_user_data, encode_user_data

# First octet bits (9.2.3.1-9.2.3.29).
MTI_MASK = 0x03
RD_OR_MMS = 0x04  # TP-RD in SUBMIT; TP-MMS ("no More Messages to Send" when set) in DELIVER, STATUS-REPORT
LP = 0x08  # TP-LP in DELIVER, STATUS-REPORT
VPF_SHIFT = 3
SRR_SRI_SRQ = 0x20
UDHI = 0x40
RP = 0x80
# TP-PI (9.2.3.27).
PI_PID, PI_DCS, PI_UDL = 0x01, 0x02, 0x04

DIRECTIONS = ("sc_to_ms", "ms_to_sc", "stored")
# What each MTI means per direction (9.2.3.1). "stored" is a message read from
# a device's storage (+CMGR, +CMGL): only DELIVER, SUBMIT and STATUS-REPORT are
# ever stored (TS 31.102 EF-SMS, EF-SMSR), whatever the <stat> column says.
MTI_TYPES = {
    "sc_to_ms": ("SMS-DELIVER", "SMS-SUBMIT-REPORT", "SMS-STATUS-REPORT", None),
    "ms_to_sc": ("SMS-DELIVER-REPORT", "SMS-SUBMIT", "SMS-COMMAND", None),
    "stored": ("SMS-DELIVER", "SMS-SUBMIT", "SMS-STATUS-REPORT", None),
}


# --- decode ------------------------------------------------------------------


_HEX = re.compile(r"[0-9A-Fa-f]*")


def _octets(pdu: str | bytes) -> bytes:
    if isinstance(pdu, bytes | bytearray):
        return bytes(pdu)
    text = pdu.strip()
    if not _HEX.fullmatch(text):
        pos = next(i for i, ch in enumerate(text) if ch not in string.hexdigits)
        raise PduError(f"PDU hex has {text[pos]!r} at character {pos}: only 0-9 and A-F are allowed")
    if len(text) % 2:
        raise PduError(f"PDU hex has an odd number of digits ({len(text)}): the last octet is cut")
    if not text:
        raise PduError("PDU is empty")
    return binascii.unhexlify(text)


def decode(pdu: str | bytes, *, direction: Direction, with_smsc: bool = True) -> Message:
    """Decode a PDU given as hex text (as AT commands show it) or raw octets.

    direction: "sc_to_ms" for what a device receives (+CMT, +CDS), "ms_to_sc"
    for what it sends (AT+CMGS, AT+CNMA), "stored" for +CMGR/+CMGL.
    Raises PduError, and nothing else, for any malformed input.
    """
    if direction not in DIRECTIONS:
        raise PduError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    r = Reader(_octets(pdu))
    smsc = read_smsc(r) if with_smsc else None
    first_at = r.pos
    first = r.octet("first octet")
    kind = MTI_TYPES[direction][first & MTI_MASK]
    msg: Message
    if kind == "SMS-DELIVER":
        msg = _deliver(r, first, smsc)
    elif kind == "SMS-SUBMIT":
        msg = _submit(r, first, smsc)
    elif kind == "SMS-STATUS-REPORT":
        msg = _status_report(r, first, smsc)
    elif kind == "SMS-SUBMIT-REPORT":
        msg = _submit_report(r, first, smsc)
    elif kind == "SMS-DELIVER-REPORT":
        msg = _deliver_report(r, first, smsc)
    elif kind == "SMS-COMMAND":
        raise PduError(f"first octet 0x{first:02X} at octet {first_at}: SMS-COMMAND is not supported")
    else:
        raise PduError(f"first octet 0x{first:02X} at octet {first_at}: message type indicator 3 is reserved")
    if r.remaining():
        # Stored PDUs come padded, or with a UDL shorter than the text: like
        # gammu, the UDL decides and the rest is ignored, but noted.
        r.notes.append(f"{r.remaining()} octets after the end of the {kind} at octet {r.pos} ignored")
    if r.notes:
        msg = dataclasses.replace(msg, notes=tuple(r.notes))
    return msg


def _dcs(r: Reader) -> Dcs:
    at = r.pos
    return parse_dcs(r.octet("data coding scheme"), at)


def _deliver(r: Reader, first: int, smsc: Address | None) -> SmsDeliver:
    sender = read_address(r, "originating address")
    pid = r.octet("protocol identifier")
    dcs = _dcs(r)
    scts = read_timestamp(r, "service centre time stamp")
    udh, text = decode_user_data(r, dcs.alphabet, bool(first & UDHI))
    return SmsDeliver(
        sender=sender,
        scts=scts,
        user_data=text,
        alphabet=dcs.alphabet,
        message_class=dcs.message_class,
        udh=udh,
        pid=pid,
        more_messages=not first & RD_OR_MMS,
        sri=bool(first & SRR_SRI_SRQ),
        reply_path=bool(first & RP),
        smsc=smsc,
        waiting=dcs.waiting,
        auto_delete=dcs.auto_delete,
        loop_prevention=bool(first & LP),
    )


def _submit(r: Reader, first: int, smsc: Address | None) -> SmsSubmit:
    mr = r.octet("message reference")
    recipient = read_address(r, "destination address")
    pid = r.octet("protocol identifier")
    dcs = _dcs(r)
    validity = read_validity(r, (first >> VPF_SHIFT) & 0x03)
    udh, text = decode_user_data(r, dcs.alphabet, bool(first & UDHI))
    return SmsSubmit(
        recipient=recipient,
        user_data=text,
        alphabet=dcs.alphabet,
        message_class=dcs.message_class,
        udh=udh,
        mr=mr,
        srr=bool(first & SRR_SRI_SRQ),
        validity=validity,
        reject_duplicates=bool(first & RD_OR_MMS),
        reply_path=bool(first & RP),
        pid=pid,
        smsc=smsc,
        waiting=dcs.waiting,
        auto_delete=dcs.auto_delete,
    )


Tail = tuple[int | None, Alphabet | None, Udh | None, str | bytes | None]


def _read_pi(r: Reader) -> int:
    """TP-PI (9.2.3.27). Reserved bits are ignored, as the section says; the
    extension octets that bit 7 announces define nothing yet and are skipped."""
    pi = r.octet("parameter indicator")
    ext = pi
    while ext & 0x80:
        ext = r.octet("parameter indicator extension")
    return pi


def _pi_fields(r: Reader, pi: int, first: int) -> Tail:
    """The optional TP-PID, TP-DCS, TP-UDL/UD that TP-PI announces. Without
    a TP-DCS, alphabet stays None and user data is GSM 7-bit (9.2.3.27)."""
    pid = r.octet("protocol identifier") if pi & PI_PID else None
    alphabet: Alphabet | None = _dcs(r).alphabet if pi & PI_DCS else None
    if pi & PI_UDL:
        udh, text = decode_user_data(r, alphabet or "gsm7", bool(first & UDHI))
        return pid, alphabet, udh, text
    return pid, alphabet, None, None


def _status_report(r: Reader, first: int, smsc: Address | None) -> SmsStatusReport:
    mr = r.octet("message reference")
    recipient = read_address(r, "recipient address")
    scts = read_timestamp(r, "service centre time stamp")
    discharge = read_timestamp(r, "discharge time")
    status = r.octet("status")
    tail: Tail = (None, None, None, None)
    if r.remaining() and r.data[r.pos] != 0xFF:  # devices pad stored reports with 0xFF
        tail = _pi_fields(r, _read_pi(r), first)
    pid, alphabet, udh, text = tail
    return SmsStatusReport(
        mr=mr,
        recipient=recipient,
        scts=scts,
        discharge=discharge,
        status=status,
        smsc=smsc,
        more_messages=not first & RD_OR_MMS,
        srq=bool(first & SRR_SRI_SRQ),
        loop_prevention=bool(first & LP),
        pid=pid,
        alphabet=alphabet,
        user_data=text,
        udh=udh,
    )


def _fcs(r: Reader) -> int | None:
    """The FCS of an RP-ERROR report. Only its values (0x80..0xFF, 9.2.3.22)
    tell it from the TP-PI that starts the RP-ACK form (0x00..0x07 in use)."""
    if r.remaining() and r.data[r.pos] >= 0x80:
        return r.octet("failure cause")
    return None


def _submit_report(r: Reader, first: int, smsc: Address | None) -> SubmitReport:
    fcs = _fcs(r)
    pi = _read_pi(r)
    scts = read_timestamp(r, "service centre time stamp")
    pid, alphabet, udh, text = _pi_fields(r, pi, first)
    return SubmitReport(scts=scts, fcs=fcs, pid=pid, alphabet=alphabet, user_data=text, udh=udh, smsc=smsc)


def _deliver_report(r: Reader, first: int, smsc: Address | None) -> DeliverReport:
    fcs = _fcs(r)
    pid, alphabet, udh, text = _pi_fields(r, _read_pi(r), first)
    return DeliverReport(fcs=fcs, pid=pid, alphabet=alphabet, user_data=text, udh=udh, smsc=smsc)


# --- encode ------------------------------------------------------------------


def _byte(value: int, what: str) -> int:
    if not 0 <= value <= 0xFF:
        raise PduError(f"{what} {value} is not 0..255")
    return value


def _flags(*pairs: tuple[bool, int]) -> int:
    out = 0
    for on, bit in pairs:
        if on:
            out |= bit
    return out


def _encode_submit(m: SmsSubmit) -> bytes:
    first = 0x01 | vpf_of(m.validity) << VPF_SHIFT | _flags(
        (m.reject_duplicates, RD_OR_MMS), (m.srr, SRR_SRI_SRQ), (m.udh is not None, UDHI), (m.reply_path, RP)
    )
    dcs = make_dcs(Dcs(m.alphabet, m.message_class, m.waiting, m.auto_delete))
    return (
        bytes((first, _byte(m.mr, "message reference")))
        + write_address(m.recipient, "recipient")
        + bytes((_byte(m.pid, "protocol identifier"), dcs))
        + write_validity(m.validity)
        + encode_user_data(m.user_data, m.alphabet, m.udh)
    )


def _encode_deliver(m: SmsDeliver) -> bytes:
    first = 0x00 | _flags(
        (not m.more_messages, RD_OR_MMS),
        (m.loop_prevention, LP),
        (m.sri, SRR_SRI_SRQ),
        (m.udh is not None, UDHI),
        (m.reply_path, RP),
    )
    dcs = make_dcs(Dcs(m.alphabet, m.message_class, m.waiting, m.auto_delete))
    return (
        bytes((first,))
        + write_address(m.sender, "sender")
        + bytes((_byte(m.pid, "protocol identifier"), dcs))
        + write_timestamp(m.scts, "service centre time stamp")
        + encode_user_data(m.user_data, m.alphabet, m.udh)
    )


def _encode_tail(
    pid: int | None, alphabet: Alphabet | None, udh: Udh | None, user_data: str | bytes | None
) -> tuple[int, bytes]:
    """(TP-PI, the optional fields it announces)."""
    pi = 0
    out = b""
    if pid is not None:
        pi |= PI_PID
        out += bytes((_byte(pid, "protocol identifier"),))
    if alphabet is not None:
        pi |= PI_DCS
        out += bytes((make_dcs(Dcs(alphabet)),))
    if user_data is not None:
        pi |= PI_UDL
        out += encode_user_data(user_data, alphabet or "gsm7", udh)
    elif udh is not None:
        raise PduError("a UDH needs user data (user_data='' for a header alone)")
    return pi, out


def _encode_status_report(m: SmsStatusReport) -> bytes:
    first = 0x02 | _flags(
        (not m.more_messages, RD_OR_MMS),
        (m.loop_prevention, LP),
        (m.srq, SRR_SRI_SRQ),
        (m.udh is not None, UDHI),
    )
    pi, tail = _encode_tail(m.pid, m.alphabet, m.udh, m.user_data)
    return (
        bytes((first, _byte(m.mr, "message reference")))
        + write_address(m.recipient, "recipient")
        + write_timestamp(m.scts, "service centre time stamp")
        + write_timestamp(m.discharge, "discharge time")
        + bytes((_byte(m.status, "status"),))
        + (bytes((pi,)) + tail if pi else b"")
    )


def _fcs_octet(fcs: int | None) -> bytes:
    if fcs is None:
        return b""
    if not 0x80 <= fcs <= 0xFF:
        raise PduError(f"failure cause 0x{fcs:X} is not 0x80..0xFF (9.2.3.22)")
    return bytes((fcs,))


def _encode_submit_report(m: SubmitReport) -> bytes:
    pi, tail = _encode_tail(m.pid, m.alphabet, m.udh, m.user_data)
    first = 0x01 | _flags((m.udh is not None, UDHI))
    return (
        bytes((first,)) + _fcs_octet(m.fcs) + bytes((pi,)) + write_timestamp(m.scts, "service centre time stamp") + tail
    )


def _encode_deliver_report(m: DeliverReport) -> bytes:
    pi, tail = _encode_tail(m.pid, m.alphabet, m.udh, m.user_data)
    first = 0x00 | _flags((m.udh is not None, UDHI))
    return bytes((first,)) + _fcs_octet(m.fcs) + bytes((pi,)) + tail


def encode(msg: Message, *, with_smsc: bool = True) -> tuple[str, int]:
    """(upper-case hex PDU, TPDU length in octets for AT+CMGS=<length>).

    With with_smsc the hex starts with the SMSC field (00: the device's
    default SMSC), which the length does not count. Raises PduError.
    """
    if isinstance(msg, SmsSubmit):
        tpdu = _encode_submit(msg)
    elif isinstance(msg, SmsDeliver):
        tpdu = _encode_deliver(msg)
    elif isinstance(msg, SmsStatusReport):
        tpdu = _encode_status_report(msg)
    elif isinstance(msg, SubmitReport):
        tpdu = _encode_submit_report(msg)
    elif isinstance(msg, DeliverReport):
        tpdu = _encode_deliver_report(msg)
    else:
        raise PduError(f"cannot encode {type(msg).__name__}: not a PDU message type")
    head = write_smsc(msg.smsc) if with_smsc else b""
    return (head + tpdu).hex().upper(), len(tpdu)


__all__ = ["DIRECTIONS", "decode", "encode"]
