"""TP-UDL and TP-UD (9.2.3.16, 9.2.3.24): the header and the text or octets.

For gsm7, UDL counts septets of the whole user data (header and fill bits
included) and the text starts on the next septet boundary after the header;
for 8bit and ucs2 it counts octets. The text itself is converted by the SMS
core (gsm7, ucs2, udh); splitting long texts is msghub.sms.split's job.
"""

from __future__ import annotations

from msghub.sms.errors import SmsDecodeError, SmsEncodingError
from msghub.sms.gsm7 import decode_gsm7, encode_gsm7, fill_bits_for_udh, pack_septets, unpack_septets
from msghub.sms.pdu.model import Alphabet, PduError, Udh
from msghub.sms.pdu.reader import Reader
from msghub.sms.ucs2 import decode_ucs2, encode_ucs2

MAX_UD_OCTETS = 140


def _udh_bytes(udh: Udh | None) -> bytes:
    if udh is None:
        return b""
    for iei, data in udh.elements:
        if not 0 <= iei <= 0xFF or len(data) > 0xFF:
            raise PduError(f"UDH element 0x{iei:X} with {len(data)} octets does not fit an IE")
    header = udh.to_bytes()
    try:
        Udh.from_bytes(header).ports  # noqa: B018 - validates concat/port IE lengths
    except SmsDecodeError as exc:
        raise PduError(f"UDH: {exc}") from None
    return header


def _payload(user_data: str | bytes, alphabet: Alphabet) -> bytes:
    if alphabet == "8bit":
        if not isinstance(user_data, bytes):
            raise PduError("8bit user data must be bytes")
        return user_data
    if not isinstance(user_data, str):
        raise PduError(f"{alphabet} user data must be text (str), not bytes")
    try:
        return encode_gsm7(user_data) if alphabet == "gsm7" else encode_ucs2(user_data)
    except SmsEncodingError as exc:
        raise PduError(str(exc)) from None


def encode_user_data(user_data: str | bytes, alphabet: Alphabet, udh: Udh | None) -> bytes:
    """UDL followed by UD; PduError if it exceeds 140 octets."""
    header = _udh_bytes(udh)
    payload = _payload(user_data, alphabet)
    if alphabet == "gsm7":
        fill = fill_bits_for_udh(len(header)) if header else 0
        udl = (len(header) * 8 + fill) // 7 + len(payload)
        body = header + pack_septets(payload, fill)
        units = f"{udl} septets"
    else:
        body = header + payload
        udl = len(body)
        units = f"{udl} octets"
    if len(body) > MAX_UD_OCTETS or udl > 0xFF:
        raise PduError(f"user data needs {units} ({len(body)} octets); one SMS holds 140 octets")
    return bytes((udl,)) + body


def decode_user_data(r: Reader, alphabet: Alphabet, udhi: bool) -> tuple[Udh | None, str | bytes]:
    """Reads UDL and UD from r. Text is decoded as tolerantly as the SMS core
    does (docs/SMS_ENCODING.md), so a damaged text still reaches its reader."""
    udl_at = r.pos
    udl = r.octet("user data length")
    octets = (udl * 7 + 7) // 8 if alphabet == "gsm7" else udl
    if octets > MAX_UD_OCTETS:
        raise PduError(f"user data length {udl} at octet {udl_at} means {octets} octets; at most 140 are allowed")
    start = r.pos
    if octets > r.remaining():
        # Devices store PDUs cut short; gammu keeps what is there, and so do we.
        r.notes.append(
            f"user data at octet {start} cut short: UDL {udl} needs {octets} octets, "
            f"the PDU holds {r.remaining()}"
        )
        octets = r.remaining()
    data = r.take(octets, "user data")
    udh: Udh | None = None
    header_len = 0
    if udhi and data:
        try:
            udh = Udh.from_bytes(data)
        except SmsDecodeError as exc:
            raise PduError(f"UDH at octet {start}: {exc}") from None
        header_len = len(udh.to_bytes())
    elif udhi:
        r.notes.append(f"TP-UDHI set but the user data at octet {start} is empty: no header")
    body = data[header_len:]
    if alphabet == "gsm7":
        fill = fill_bits_for_udh(header_len) if header_len else 0
        count = min(udl, len(data) * 8 // 7) - (header_len * 8 + fill) // 7
        if count < 0:
            raise PduError(
                f"user data length {udl} septets at octet {udl_at} is shorter than its {header_len}-octet UDH"
            )
        return udh, decode_gsm7(unpack_septets(body, count, fill))
    if alphabet == "8bit":
        return udh, bytes(body)
    return udh, decode_ucs2(bytes(body))
