"""XSer (extra services) and the message content it qualifies.

XSer is a list of type, length, data triples, all hex. Type 01 carries the
user data header including its UDHL octet, type 02 the data coding scheme;
other types (billing, TDMA, ...) are kept as they are.
"""

from dataclasses import dataclass
from enum import Enum

from msghub.connectors.emi.errors import FieldError
from msghub.connectors.emi.values import bytes_to_hex, hex_to_bytes
from msghub.sms.errors import SmsDecodeError
from msghub.sms.gsm7 import decode_gsm7, unpack_septets
from msghub.sms.ucs2 import decode_ucs2

XSER_UDH = 0x01
XSER_DCS = 0x02


@dataclass(frozen=True)
class XSerItem:
    type: int
    data: bytes


def parse_xser(value: str, field: str = "XSer") -> tuple[XSerItem, ...]:
    raw = hex_to_bytes(value, field)
    items: list[XSerItem] = []
    pos = 0
    while pos < len(raw):
        if pos + 2 > len(raw):
            raise FieldError(field, f"service at octet {pos} has no length octet")
        kind, size = raw[pos], raw[pos + 1]
        end = pos + 2 + size
        if end > len(raw):
            raise FieldError(
                field,
                f"service {kind:02X} at octet {pos} claims {size} octets, "
                f"{len(raw) - pos - 2} remain",
            )
        items.append(XSerItem(kind, raw[pos + 2 : end]))
        pos = end
    return tuple(items)


def build_xser(items: tuple[XSerItem, ...] | list[XSerItem]) -> str:
    out = bytearray()
    for item in items:
        if not 0 <= item.type <= 0xFF or len(item.data) > 0xFF:
            raise FieldError("XSer", f"service {item.type} with {len(item.data)} octets")
        out += bytes((item.type, len(item.data))) + item.data
    return bytes_to_hex(bytes(out))


def xser_value(items: tuple[XSerItem, ...], kind: int) -> bytes | None:
    """Data of the last service of that type (the last one wins, as in a UDH)."""
    found = None
    for item in items:
        if item.type == kind:
            found = item.data
    return found


class Alphabet(Enum):
    GSM7 = "gsm7"
    EIGHT_BIT = "8bit"
    UCS2 = "ucs2"


_GENERAL_ALPHABETS = (Alphabet.GSM7, Alphabet.EIGHT_BIT, Alphabet.UCS2, Alphabet.GSM7)


def dcs_alphabet(dcs: int) -> Alphabet:
    """The character set a DCS selects (3GPP TS 23.038 section 4)."""
    group = dcs >> 4
    if group <= 0x7:  # general data coding, with or without auto-deletion
        if dcs & 0x20:
            return Alphabet.EIGHT_BIT  # compressed: opaque octets to us
        # Alphabet 11 is reserved; TS 23.038 says to assume the default.
        return _GENERAL_ALPHABETS[(dcs >> 2) & 0x03]
    if group in (0xC, 0xD):
        return Alphabet.GSM7  # message waiting, default alphabet
    if group == 0xE:
        return Alphabet.UCS2  # message waiting, UCS-2
    if group == 0xF:
        return Alphabet.EIGHT_BIT if dcs & 0x04 else Alphabet.GSM7
    return Alphabet.GSM7  # reserved groups 8-B: the default alphabet


def transparent_text(data: bytes, dcs: int, nb: int | None) -> str | None:
    """Text of MT 4 user data under a DCS; None for 8-bit (binary) data.

    GSM 7-bit data is packed from the first bit (a UDH travels apart in
    XSer, so no fill bits precede it); NB, the number of bits, gives the
    septet count.
    """
    alphabet = dcs_alphabet(dcs)
    if alphabet is Alphabet.UCS2:
        return decode_ucs2(data)
    if alphabet is Alphabet.EIGHT_BIT:
        return None
    count = (nb if nb is not None else 8 * len(data)) // 7
    try:
        return decode_gsm7(unpack_septets(data, count))
    except SmsDecodeError as exc:
        raise FieldError("TMsg", str(exc)) from None
