"""TP addresses (3GPP TS 23.040 9.1.2.5) and the SMSC field (TS 27.005 3.1,
TS 24.011 8.2.5.1): semi-octet digits, or GSM 7-bit text for TON 5."""

from msghub.sms.errors import SmsDecodeError, SmsEncodingError
from msghub.sms.gsm7 import decode_gsm7, encode_gsm7, pack_septets, unpack_septets
from msghub.sms.pdu.model import TON_ALPHANUMERIC, TON_INTERNATIONAL, Address, PduError
from msghub.sms.pdu.reader import Reader

MAX_ADDRESS_DIGITS = 20  # TP address value: at most 10 octets (9.1.2.5)
MAX_SMSC_OCTETS = 11  # RP address: TON/NPI octet + 10 (TS 24.011 8.2.5.1)
BCD_DIGITS = "0123456789*#abc"


def _bcd_digits(octets: bytes, count: int, start: int, what: str) -> str:
    out = []
    for i in range(count):
        octet = octets[i // 2]
        nibble = (octet >> 4) if i % 2 else (octet & 0x0F)
        if nibble == 0x0F:
            raise PduError(f"{what} at octet {start}: filler 0xF in place of digit {i + 1} of {count}")
        out.append(BCD_DIGITS[nibble])
    return "".join(out)


def _bcd_octets(digits: str, what: str) -> bytes:
    nibbles = []
    for pos, ch in enumerate(digits):
        index = BCD_DIGITS.find(ch) if ch else -1
        if index < 0:
            raise PduError(f"{what}: {ch!r} at position {pos} of {digits!r} is not a digit, '*', '#', 'a', 'b' or 'c'")
        nibbles.append(index)
    if len(nibbles) % 2:
        nibbles.append(0x0F)
    return bytes(nibbles[i] | (nibbles[i + 1] << 4) for i in range(0, len(nibbles), 2))


def _toa(octet: int, start: int, what: str) -> tuple[int, int]:
    if not octet & 0x80:
        raise PduError(f"{what} at octet {start}: type-of-address 0x{octet:02X} lacks its always-set bit 7")
    return (octet >> 4) & 0x07, octet & 0x0F


def _address_value(ton: int, npi: int, value: bytes, digits: int, start: int, what: str) -> Address:
    if ton == TON_ALPHANUMERIC:
        try:
            text = decode_gsm7(unpack_septets(value, digits * 4 // 7))
        except SmsDecodeError as exc:
            raise PduError(f"{what} at octet {start}: {exc}") from None
        return Address(text, ton, npi)
    number = _bcd_digits(value, digits, start, what)
    return Address(("+" if ton == TON_INTERNATIONAL else "") + number, ton, npi)


def read_address(r: Reader, what: str) -> Address:
    """A TP address: length in useful semi-octets, type, value."""
    start = r.pos
    digits = r.octet(f"{what} length")
    if digits > MAX_ADDRESS_DIGITS:
        raise PduError(f"{what} at octet {start}: length {digits} exceeds {MAX_ADDRESS_DIGITS} semi-octets")
    ton, npi = _toa(r.octet(f"{what} type"), start + 1, what)
    value = r.take((digits + 1) // 2, what)
    return _address_value(ton, npi, value, digits, start, what)


def read_smsc(r: Reader) -> Address | None:
    """The SMSC field of +CMGR/+CMT/+CMGS PDUs: length in octets, 0 = none."""
    start = r.pos
    length = r.octet("SMSC length")
    if length == 0:
        return None
    if length > MAX_SMSC_OCTETS:
        raise PduError(f"SMSC address at octet {start}: length {length} exceeds {MAX_SMSC_OCTETS} octets")
    ton, npi = _toa(r.octet("SMSC type"), start + 1, "SMSC address")
    value = r.take(length - 1, "SMSC address")
    digits = 2 * len(value)
    if ton != TON_ALPHANUMERIC and value and value[-1] >> 4 == 0x0F:
        digits -= 1
    return _address_value(ton, npi, value, digits, start, "SMSC address")


def _address_parts(addr: Address, what: str) -> tuple[int, bytes]:
    """(useful semi-octets, value octets)."""
    if not 0 <= addr.ton <= 7 or not 0 <= addr.npi <= 15:
        raise PduError(f"{what}: type of number {addr.ton} / numbering plan {addr.npi} out of range")
    if addr.ton == TON_ALPHANUMERIC:
        try:
            septets = encode_gsm7(addr.number)
        except SmsEncodingError as exc:
            raise PduError(f"{what}: alphanumeric address {exc}") from None
        if len(septets) > 11:
            raise PduError(f"{what}: alphanumeric address {addr.number!r} needs {len(septets)} septets, at most 11 fit")
        return (len(septets) * 7 + 3) // 4, pack_septets(septets)
    number = addr.number
    if addr.ton == TON_INTERNATIONAL:
        number = number[1:]
    elif number.startswith("+"):
        raise PduError(f"{what}: {addr.number!r} starts with '+' but its type of number is {addr.ton}, not 1")
    if len(number) > MAX_ADDRESS_DIGITS:
        raise PduError(f"{what}: {len(number)} digits, at most {MAX_ADDRESS_DIGITS} fit")
    return len(number), _bcd_octets(number, what)


def write_address(addr: Address, what: str) -> bytes:
    digits, value = _address_parts(addr, what)
    return bytes((digits, 0x80 | addr.ton << 4 | addr.npi)) + value


def write_smsc(addr: Address | None) -> bytes:
    if addr is None:
        return b"\x00"
    _, value = _address_parts(addr, "SMSC address")
    return bytes((len(value) + 1, 0x80 | addr.ton << 4 | addr.npi)) + value
