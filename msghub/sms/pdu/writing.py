"""encode(): messages to TPDUs (3GPP TS 23.040 9.2.2), with the SMSC field
of TS 27.005 3.1 in front when with_smsc."""

from msghub.sms.pdu.address import write_address, write_smsc
from msghub.sms.pdu.dcs import Dcs, make_dcs
from msghub.sms.pdu.layout import LP, PI_DCS, PI_PID, PI_UDL, RD_OR_MMS, RP, SRR_SRI_SRQ, UDHI, VPF_SHIFT
from msghub.sms.pdu.model import (
    MAX_COMMAND_DATA,
    Alphabet,
    DeliverReport,
    Message,
    PduError,
    SmsCommand,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    SubmitReport,
    Udh,
)
from msghub.sms.pdu.times import vpf_of, write_timestamp, write_validity
from msghub.sms.pdu.userdata import encode_user_data


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


def _encode_command(m: SmsCommand) -> bytes:
    if len(m.data) > MAX_COMMAND_DATA:
        raise PduError(f"command data of {len(m.data)} octets exceeds {MAX_COMMAND_DATA}")
    first = 0x02 | _flags((m.srr, SRR_SRI_SRQ), (m.udhi, UDHI))
    return (
        bytes((first, _byte(m.mr, "message reference"), _byte(m.pid, "protocol identifier")))
        + bytes((_byte(m.command_type, "command type"), _byte(m.message_number, "message number")))
        + write_address(m.recipient, "recipient")
        + bytes((len(m.data),))
        + m.data
    )


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
    elif isinstance(msg, SmsCommand):
        tpdu = _encode_command(msg)
    else:
        raise PduError(f"cannot encode {type(msg).__name__}: not a PDU message type")
    head = write_smsc(msg.smsc) if with_smsc else b""
    return (head + tpdu).hex().upper(), len(tpdu)
