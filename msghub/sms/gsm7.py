"""GSM 7-bit default alphabet (3GPP TS 23.038 section 6.2.1 and 6.1.2.1.1).

Text is encoded to *unpacked* septets (one value 0..127 per byte); characters
of the extension table (6.2.1.1) become 0x1B followed by their code, so they
cost two septets. pack_septets/unpack_septets convert to and from the packed
form used on the air interface, with fill bits for alignment after a UDH
(3GPP TS 23.040 9.2.3.24).

Decoding choices, following TS 23.038 6.2.1.1 where it says what to do:
- 0x1B followed by a code the extension table does not define decodes as the
  basic-table character of that code ("display the character shown in the
  main default alphabet table").
- 0x1B 0x1B ("reserved for another extension table") decodes as a space.
- A lone 0x1B at the very end is dropped: it has no character to escape, and
  dropping it is what a phone shows.
0x09 is U+00C7 (capital C cedilla) as in the Unicode consortium's mapping;
small c cedilla is not representable (the transliterator maps it to "c").
"""

from msghub.sms.errors import SmsDecodeError, SmsEncodingError

ESC = 0x1B

# Index = septet value; 0x1B is the escape, never a character of its own.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_BASIC_CODE = {ch: code for code, ch in enumerate(BASIC) if code != ESC}
_EXT_CODE = {ch: code for code, ch in EXTENSION.items()}


def is_gsm7(text: str) -> bool:
    """True if every character is in the default alphabet or its extension."""
    return all(ch in _BASIC_CODE or ch in _EXT_CODE for ch in text)


def char_septets(ch: str) -> int:
    """Septets one character costs: 1, 2 (extension), or 0 if not encodable."""
    if ch in _BASIC_CODE:
        return 1
    if ch in _EXT_CODE:
        return 2
    return 0


def _unencodable(text: str, pos: int) -> SmsEncodingError:
    ch = text[pos]
    return SmsEncodingError(
        f"character {ch!r} (U+{ord(ch):04X}) at position {pos} is not in the "
        "GSM 03.38 alphabet"
    )


def encode_gsm7(text: str) -> bytes:
    """Encode text to unpacked septets; raises SmsEncodingError on the first
    character outside the alphabet, naming it and its position."""
    out = bytearray()
    for pos, ch in enumerate(text):
        code = _BASIC_CODE.get(ch)
        if code is not None:
            out.append(code)
            continue
        code = _EXT_CODE.get(ch)
        if code is None:
            raise _unencodable(text, pos)
        out += bytes((ESC, code))
    return bytes(out)


def septet_length(text: str) -> int:
    """Septets the text costs; raises SmsEncodingError like encode_gsm7."""
    total = 0
    for pos, ch in enumerate(text):
        n = char_septets(ch)
        if n == 0:
            raise _unencodable(text, pos)
        total += n
    return total


def decode_gsm7(septets: bytes) -> str:
    """Decode unpacked septets (see the module docstring for tolerance rules).

    A value above 127 is not a septet: SmsDecodeError.
    """
    out: list[str] = []
    escaped = False
    for pos, code in enumerate(septets):
        if code > 0x7F:
            raise SmsDecodeError(f"septet value 0x{code:02X} at position {pos} exceeds 0x7F")
        if escaped:
            escaped = False
            if code == ESC:
                out.append(" ")
            else:
                out.append(EXTENSION.get(code, BASIC[code]))
        elif code == ESC:
            escaped = True
        else:
            out.append(BASIC[code])
    return "".join(out)


def _check_fill(fill_bits: int) -> None:
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill_bits must be 0..6, got {fill_bits}")


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets LSB first into octets (TS 23.038 6.1.2.1.1).

    fill_bits zero bits come first, so the septets start on a septet boundary
    of the whole user data when a UDH of that many octets precedes them.
    """
    _check_fill(fill_bits)
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for pos, code in enumerate(septets):
        if code > 0x7F:
            raise SmsEncodingError(f"septet value 0x{code:02X} at position {pos} exceeds 0x7F")
        acc |= code << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """Unpack count septets from packed data, skipping fill_bits leading bits.

    The count comes from the UDL; it is needed because 7 spare bits in the
    last octet are indistinguishable from an '@' septet.
    """
    _check_fill(fill_bits)
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    need = fill_bits + 7 * count
    if need > 8 * len(data):
        raise SmsDecodeError(
            f"{count} septets after {fill_bits} fill bits need {(need + 7) // 8} octets, "
            f"got {len(data)}"
        )
    value = int.from_bytes(data, "little") >> fill_bits
    return bytes((value >> (7 * i)) & 0x7F for i in range(count))


def fill_bits_for_udh(udh_octets: int) -> int:
    """Fill bits that align septets after a UDH of udh_octets (incl. UDHL)."""
    return (7 - (udh_octets * 8) % 7) % 7
