"""TPDU fields shared by several PDU types: a reader that knows its offset,
addresses (9.1.2.5), time stamps (9.2.3.11), validity periods (9.2.3.12) and
the data coding scheme (TS 23.038 section 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from msghub.sms.errors import SmsDecodeError, SmsEncodingError
from msghub.sms.gsm7 import decode_gsm7, encode_gsm7, pack_septets, unpack_septets
from msghub.sms.pdu.model import (
    TON_ALPHANUMERIC,
    TON_INTERNATIONAL,
    Address,
    Alphabet,
    EnhancedValidity,
    MessageWaiting,
    PduError,
    Validity,
)

MAX_ADDRESS_DIGITS = 20  # TP address value: at most 10 octets (9.1.2.5)
MAX_SMSC_OCTETS = 11  # RP address: TON/NPI octet + 10 (TS 24.011 8.2.5.1)
BCD_DIGITS = "0123456789*#abc"
TIMESTAMP_OCTETS = 7


class Reader:
    """Octets of one PDU with a cursor; every error names the octet offset."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.pos = offset
        self.notes: list[str] = []  # what was tolerated, for the message's notes

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise PduError(
                f"PDU ends at octet {len(self.data)} inside {what} "
                f"(needs {n} octet{'' if n == 1 else 's'} from octet {self.pos})"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def octet(self, what: str) -> int:
        return self.take(1, what)[0]


# --- addresses ---------------------------------------------------------------


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


# --- time stamps -------------------------------------------------------------


def _swapped(octet: int) -> int:
    """Two swapped BCD digits; -1 if either is not a decimal digit."""
    lo, hi = octet & 0x0F, octet >> 4
    if lo > 9 or hi > 9:
        return -1
    return lo * 10 + hi


def read_timestamp(r: Reader, what: str) -> datetime:
    """A 7-octet TP-SCTS/TP-DT/absolute TP-VP: yy mm dd hh mm ss tz, each two
    swapped BCD digits; tz in quarter hours with bit 3 the sign. yy 90-99 is
    19yy, 00-89 20yy."""
    start = r.pos
    raw = r.take(TIMESTAMP_OCTETS, what)
    values = [_swapped(o) for o in raw[:6]]
    for index, value in enumerate(values):
        if value < 0:
            raise PduError(f"{what} at octet {start + index}: 0x{raw[index]:02X} is not two decimal digits")
    yy, month, day, hour, minute, second = values
    tz = raw[6]
    quarters = (tz & 0x07) * 10 + (tz >> 4)
    if tz >> 4 > 9:
        raise PduError(f"{what} at octet {start + 6}: time zone 0x{tz:02X} is not decimal quarter hours")
    offset = timedelta(minutes=15 * quarters) * (-1 if tz & 0x08 else 1)
    try:
        return datetime(
            (1900 if yy >= 90 else 2000) + yy, month, day, hour, minute, second, tzinfo=timezone(offset)
        )
    except ValueError as exc:
        raise PduError(f"{what} at octet {start}: {raw.hex().upper()} is not a valid time ({exc})") from None


def _bcd2(value: int) -> int:
    return (value % 10) << 4 | (value // 10)


def write_timestamp(when: datetime, what: str) -> bytes:
    offset = when.utcoffset()
    if offset is None:
        raise PduError(f"{what}: {when.isoformat()} has no time zone")
    if not 1990 <= when.year <= 2089:
        raise PduError(f"{what}: year {when.year} is outside 1990..2089 (two digits on the air)")
    minutes, rest = divmod(abs(offset), timedelta(minutes=15))
    if rest:
        raise PduError(f"{what}: time zone offset {offset} is not a whole number of quarter hours")
    quarters = int(minutes)
    if quarters > 79:
        raise PduError(f"{what}: time zone offset {offset} exceeds 79 quarter hours")
    tz = _bcd2(quarters) | (0x08 if offset < timedelta(0) else 0)
    fields = (when.year % 100, when.month, when.day, when.hour, when.minute, when.second)
    return bytes(_bcd2(v) for v in fields) + bytes((tz,))


# --- validity period ---------------------------------------------------------

VPF_NONE, VPF_ENHANCED, VPF_RELATIVE, VPF_ABSOLUTE = 0, 1, 2, 3


def relative_period(code: int) -> timedelta:
    """The period of a one-octet relative TP-VP (9.2.3.12.1)."""
    if code <= 143:
        return timedelta(minutes=5 * (code + 1))
    if code <= 167:
        return timedelta(hours=12, minutes=30 * (code - 143))
    if code <= 196:
        return timedelta(days=code - 166)
    return timedelta(weeks=code - 192)


MAX_RELATIVE = relative_period(255)


def relative_code(period: timedelta) -> int:
    """The smallest relative TP-VP code whose period is at least period."""
    if period > MAX_RELATIVE:
        raise PduError(f"validity {period} exceeds the longest relative period, 63 weeks")
    if period <= timedelta(hours=12):
        return max(0, -(-period // timedelta(minutes=5)) - 1)
    if period <= timedelta(hours=24):
        return 143 + -(-(period - timedelta(hours=12)) // timedelta(minutes=30))
    if period <= timedelta(days=30):
        return 166 + max(2, -(-period // timedelta(days=1)))
    return 192 + max(5, -(-period // timedelta(weeks=1)))


def vpf_of(validity: Validity | None) -> int:
    if validity is None:
        return VPF_NONE
    if isinstance(validity, EnhancedValidity):
        return VPF_ENHANCED
    if isinstance(validity, datetime):
        return VPF_ABSOLUTE
    return VPF_RELATIVE


def read_validity(r: Reader, vpf: int) -> Validity | None:
    if vpf == VPF_NONE:
        return None
    if vpf == VPF_RELATIVE:
        return relative_period(r.octet("validity period"))
    if vpf == VPF_ABSOLUTE:
        return read_timestamp(r, "absolute validity period")
    return _read_enhanced(r)


def _read_enhanced(r: Reader) -> EnhancedValidity:
    start = r.pos
    raw = r.take(TIMESTAMP_OCTETS, "enhanced validity period")
    indicator = raw[0]
    if indicator & 0x80:
        raise PduError(f"enhanced validity period at octet {start}: extension bit set, no extension is defined")
    single_shot = bool(indicator & 0x40)
    form = indicator & 0x07
    if form == 0:
        return EnhancedValidity(None, "none", single_shot)
    if form == 1:
        return EnhancedValidity(relative_period(raw[1]), "relative", single_shot)
    if form == 2:
        return EnhancedValidity(timedelta(seconds=raw[1]), "seconds", single_shot)
    if form == 3:
        hms = [_swapped(o) for o in raw[1:4]]
        if min(hms) < 0:
            raise PduError(f"enhanced validity period at octet {start + 1}: {raw[1:4].hex()} is not HH MM SS digits")
        return EnhancedValidity(timedelta(hours=hms[0], minutes=hms[1], seconds=hms[2]), "hhmmss", single_shot)
    raise PduError(f"enhanced validity period at octet {start}: reserved format {form}")


def write_validity(validity: Validity | None) -> bytes:
    if validity is None:
        return b""
    if isinstance(validity, EnhancedValidity):
        return _write_enhanced(validity)
    if isinstance(validity, datetime):
        return write_timestamp(validity, "absolute validity period")
    return bytes((relative_code(validity),))


def _write_enhanced(v: EnhancedValidity) -> bytes:
    forms = {"none": 0, "relative": 1, "seconds": 2, "hhmmss": 3}
    indicator = forms[v.form] | (0x40 if v.single_shot else 0)
    body = b""
    if v.form != "none":
        if v.period is None:
            raise PduError(f"enhanced validity of form {v.form!r} needs a period")
        seconds = v.period // timedelta(seconds=1)
        if v.form == "relative":
            body = bytes((relative_code(v.period),))
        elif v.form == "seconds":
            if not 0 <= seconds <= 255 or v.period % timedelta(seconds=1):
                raise PduError(f"enhanced validity {v.period} is not 0..255 whole seconds")
            body = bytes((seconds,))
        else:
            hours, rest = divmod(seconds, 3600)
            if not 0 <= hours <= 99 or v.period % timedelta(seconds=1):
                raise PduError(f"enhanced validity {v.period} is not whole seconds under 100 hours")
            body = bytes((_bcd2(hours), _bcd2(rest // 60), _bcd2(rest % 60)))
    return (bytes((indicator,)) + body).ljust(TIMESTAMP_OCTETS, b"\x00")


# --- data coding scheme ------------------------------------------------------


@dataclass(frozen=True)
class Dcs:
    alphabet: Alphabet
    message_class: int | None = None
    waiting: MessageWaiting | None = None
    auto_delete: bool = False


_ALPHABET_BITS = {0: "gsm7", 1: "8bit", 2: "ucs2", 3: "gsm7"}  # 3: reserved, as gsm7
_BITS_OF = {"gsm7": 0, "8bit": 1, "ucs2": 2}


def parse_dcs(dcs: int, offset: int) -> Dcs:
    """TS 23.038 section 4. Reserved codings count as the GSM 7-bit default
    alphabet, as the section prescribes; compressed text is refused."""
    group = dcs >> 4
    if group <= 0x07:  # 00xx general, 01xx the same marked for automatic deletion
        if dcs & 0x20:
            raise PduError(
                f"DCS 0x{dcs:02X} at octet {offset}: compressed user data (TS 23.038 ch. 3) is not supported"
            )
        klass = dcs & 0x03 if dcs & 0x10 else None
        return Dcs(_ALPHABET_BITS[(dcs >> 2) & 0x03], klass, auto_delete=bool(dcs & 0x40))
    if group in (0x0C, 0x0D, 0x0E):
        waiting = MessageWaiting(active=bool(dcs & 0x08), kind=dcs & 0x03, store=group != 0x0C)
        return Dcs("ucs2" if group == 0x0E else "gsm7", None, waiting)
    if group == 0x0F:
        return Dcs("8bit" if dcs & 0x04 else "gsm7", dcs & 0x03)
    return Dcs("gsm7")  # 1000..1011: reserved coding groups


def make_dcs(d: Dcs) -> int:
    if d.alphabet not in _BITS_OF:
        raise PduError(f"alphabet {d.alphabet!r} is not one of gsm7, 8bit, ucs2")
    if d.message_class is not None and not 0 <= d.message_class <= 3:
        raise PduError(f"message class {d.message_class} is not 0..3")
    if d.waiting is not None:
        w = d.waiting
        if d.message_class is not None or d.auto_delete:
            raise PduError("a message-waiting DCS carries no message class and no automatic deletion")
        if not 0 <= w.kind <= 3:
            raise PduError(f"message-waiting kind {w.kind} is not 0..3")
        if d.alphabet == "8bit" or (d.alphabet == "ucs2" and not w.store):
            raise PduError(f"message-waiting groups have no {d.alphabet} variant for store={w.store}")
        group = 0xE0 if d.alphabet == "ucs2" else (0xD0 if w.store else 0xC0)
        return group | (0x08 if w.active else 0) | w.kind
    dcs = _BITS_OF[d.alphabet] << 2 | (0x40 if d.auto_delete else 0)
    if d.message_class is not None:
        dcs |= 0x10 | d.message_class
    return dcs
