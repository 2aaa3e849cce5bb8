"""PDUs the simulated network hands the device, and what the device makes of
what it is given: the msghub.sms.pdu codec with the SMS core's splitter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from msghub.sms.pdu import Address, Message, PduError, SmsDeliver, SmsStatusReport, SmsSubmit, Udh, decode, encode
from msghub.sms.split import Encoding, plan_sms


@dataclass(frozen=True)
class Pdu:
    hex: str  # with the SMSC field
    tpdu_len: int  # octets after the SMSC field (what +CMT/+CMGR print)
    kind: str  # "deliver" | "status_report" | "submit"


def pdu_of(text: str) -> Pdu:
    """A PDU given as hex (with the SMSC field), its kind from the TP-MTI."""
    from msghub.errors import ConfigError

    try:
        octets = bytes.fromhex(text)
        tpdu = octets[octets[0] + 1:]
        mti = tpdu[0] & 0x03
    except (ValueError, IndexError):
        raise ConfigError(f"not a PDU in hex with its SMSC field: {text[:40]!r}") from None
    return Pdu(text.upper(), len(tpdu), {1: "submit", 2: "status_report"}.get(mti, "deliver"))


def address(number: str) -> Address:
    return Address.of(number)


def deliver_pdus(sender: str, text: str, *, scts: datetime, smsc: str, ref: int,
                 message_class: int | None = None, encoding: str | None = None, pid: int = 0) -> list[Pdu]:
    """One SMS-DELIVER per part; a long text is split by the SMS core."""
    plan = plan_sms(text, ref=ref, encoding=Encoding(encoding) if encoding else None)
    pdus = []
    for part in plan.parts:
        data: str | bytes = part.text.encode("latin-1") if plan.encoding is Encoding.BIT8 else part.text
        udh = Udh.concatenated(ref, part.total, part.seq) if part.total > 1 else None
        msg = SmsDeliver(sender=address(sender), scts=scts, user_data=data, alphabet=plan.encoding.value,
                         message_class=message_class, udh=udh, pid=pid, smsc=Address.of(smsc),
                         more_messages=part.seq < part.total)
        hex_pdu, length = encode(msg)
        pdus.append(Pdu(hex_pdu, length, "deliver"))
    return pdus


WAP_PUSH_PORT = 2948  # the WAP push port of the MMS user agent
WAP_SOURCE_PORT = 9200  # the push initiator's (a WAP gateway's connectionless port)
SMS_OCTETS = 140


def wap_push_pdus(sender: str, push: bytes, *, scts: datetime, smsc: str, ref: int) -> list[Pdu]:
    """A WSP push (an MMS notification or delivery report) as the network's
    WAP push SMS: 8-bit, 16-bit application ports, concatenated when long."""
    ports = (0x05, (WAP_PUSH_PORT >> 8, WAP_PUSH_PORT & 0xFF, WAP_SOURCE_PORT >> 8, WAP_SOURCE_PORT & 0xFF))
    room = SMS_OCTETS - 1 - (2 + 4)  # UDHL, the port IE
    chunks = [push] if len(push) <= room else [push[i:i + room - 5] for i in range(0, len(push), room - 5)]
    pdus = []
    for seq, chunk in enumerate(chunks, start=1):
        elements: list[tuple[int, bytes]] = [(ports[0], bytes(ports[1]))]
        if len(chunks) > 1:
            elements.insert(0, (0x00, bytes((ref, len(chunks), seq))))
        msg = SmsDeliver(sender=address(sender), scts=scts, user_data=chunk, alphabet="8bit", udh=Udh(tuple(elements)),
                         smsc=Address.of(smsc), more_messages=seq < len(chunks))  # fmt: skip
        hex_pdu, length = encode(msg)
        pdus.append(Pdu(hex_pdu, length, "deliver"))
    return pdus


def status_report_pdu(mr: int, recipient: str, *, scts: datetime, discharge: datetime, status: int,
                      smsc: str) -> Pdu:
    msg = SmsStatusReport(mr=mr, recipient=address(recipient), scts=scts, discharge=discharge, status=status,
                          smsc=Address.of(smsc))
    hex_pdu, length = encode(msg)
    return Pdu(hex_pdu, length, "status_report")


def submit_pdu(recipient: str, text: str, *, mr: int = 0, srr: bool = False) -> Pdu:
    """A SUBMIT as text mode's +CMGW/+CMGS stores it."""
    hex_pdu, length = encode(SmsSubmit(recipient=address(recipient), user_data=text, mr=mr, srr=srr,
                                       alphabet="gsm7" if plan_sms(text).encoding is Encoding.GSM7 else "ucs2"))
    return Pdu(hex_pdu, length, "submit")


def decode_submit(pdu_hex: str) -> SmsSubmit:
    """What the client typed after AT+CMGS=<len>; PduError if it is not a SUBMIT."""
    msg = decode(pdu_hex, direction="ms_to_sc")
    if not isinstance(msg, SmsSubmit):
        raise PduError(f"expected an SMS-SUBMIT, got {type(msg).__name__}")
    return msg


def decode_stored(pdu_hex: str) -> Message:
    return decode(pdu_hex, direction="stored")


def smsc_octets(pdu_hex: str) -> int:
    """Length of the SMSC field at the front of a PDU, in octets (with its length octet)."""
    return int(pdu_hex[:2], 16) + 1


def text_mode_time(when: datetime) -> str:
    """"yy/MM/dd,hh:mm:ss±zz" (zz in quarter hours), as text mode prints SCTS."""
    offset = when.utcoffset()
    quarters = int(offset.total_seconds() // 900) if offset is not None else 0
    sign = "+" if quarters >= 0 else "-"
    return when.strftime("%y/%m/%d,%H:%M:%S") + f"{sign}{abs(quarters):02d}"
