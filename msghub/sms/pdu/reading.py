"""decode(): the TPDU layouts of 3GPP TS 23.040 9.2.2, with the SMSC field
of TS 27.005 3.1 in front when with_smsc."""

import binascii
import dataclasses
import re
import string

from msghub.sms.pdu.address import read_address, read_smsc
from msghub.sms.pdu.dcs import Dcs, parse_dcs
from msghub.sms.pdu.layout import (
    DIRECTIONS,
    LP,
    MTI_MASK,
    MTI_TYPES,
    PI_DCS,
    PI_PID,
    PI_UDL,
    RD_OR_MMS,
    RP,
    SRR_SRI_SRQ,
    UDHI,
    VPF_SHIFT,
)
from msghub.sms.pdu.model import (
    MAX_COMMAND_DATA,
    Address,
    Alphabet,
    DeliverReport,
    Direction,
    Message,
    PduError,
    SmsCommand,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    SubmitReport,
    Udh,
)
from msghub.sms.pdu.reader import Reader
from msghub.sms.pdu.times import read_timestamp, read_validity
from msghub.sms.pdu.userdata import decode_user_data

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
        msg = _command(r, first, smsc)
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


def _command(r: Reader, first: int, smsc: Address | None) -> SmsCommand:
    mr = r.octet("message reference")
    pid = r.octet("protocol identifier")
    command_type = r.octet("command type")
    message_number = r.octet("message number")
    recipient = read_address(r, "destination address")
    cdl_at = r.pos
    cdl = r.octet("command data length")
    if cdl > MAX_COMMAND_DATA:
        raise PduError(f"command data length {cdl} at octet {cdl_at} exceeds {MAX_COMMAND_DATA} octets")
    data = r.take(cdl, f"command data ({cdl} octets)")
    return SmsCommand(
        mr=mr,
        command_type=command_type,
        message_number=message_number,
        recipient=recipient,
        pid=pid,
        srr=bool(first & SRR_SRI_SRQ),
        data=bytes(data),
        udhi=bool(first & UDHI),
        smsc=smsc,
    )
