"""User Data Header (3GPP TS 23.040 section 9.2.3.24).

Built here: the concatenation IE, 8-bit reference (IEI 0x00, 9.2.3.24.1) or
16-bit reference (IEI 0x08, 9.2.3.24.8). Parsed: any IE list, with
concatenation and application port addressing (IEI 0x04 / 0x05, 9.2.3.24.3-4)
interpreted.

Parsing rules:
- A structural fault (UDHL or an IE length running past the data, a
  concatenation or port IE of the wrong length) raises SmsDecodeError naming
  the offset.
- A concatenation IE with total 0, or seq 0 or above total, is ignored
  (concat is None) as 9.2.3.24.1 prescribes; the raw IE stays in elements.
- If an IE occurs more than once, the last occurrence wins (9.2.3.24).
"""

from dataclasses import dataclass
from typing import NamedTuple

from msghub.sms.errors import SmsDecodeError, SmsEncodingError

IEI_CONCAT_8 = 0x00
IEI_PORTS_8 = 0x04
IEI_PORTS_16 = 0x05
IEI_CONCAT_16 = 0x08

# UDH octets including the UDHL octet.
CONCAT_UDH_LEN = 6
CONCAT16_UDH_LEN = 7


class Concat(NamedTuple):
    ref: int
    total: int
    seq: int


class Ports(NamedTuple):
    dst: int
    src: int


@dataclass(frozen=True)
class InformationElement:
    iei: int
    data: bytes


@dataclass(frozen=True)
class Udh:
    concat: Concat | None
    ports: Ports | None
    elements: tuple[InformationElement, ...]
    length: int  # octets including UDHL: the payload starts at data[length:]


def concat_udh(ref: int, total: int, seq: int, ref16: bool = False) -> bytes:
    """Concatenation UDH including the UDHL octet (6 or 7 octets)."""
    limit = 0xFFFF if ref16 else 0xFF
    if not 0 <= ref <= limit:
        bits = 16 if ref16 else 8
        raise SmsEncodingError(f"concatenation reference {ref} does not fit in {bits} bits")
    if not 1 <= total <= 0xFF:
        raise SmsEncodingError(f"a concatenated message has 1..255 parts, not {total}")
    if not 1 <= seq <= total:
        raise SmsEncodingError(f"part number {seq} is outside 1..{total}")
    if ref16:
        return bytes((6, IEI_CONCAT_16, 4, ref >> 8, ref & 0xFF, total, seq))
    return bytes((5, IEI_CONCAT_8, 3, ref, total, seq))


def _split_elements(data: bytes, end: int) -> list[InformationElement]:
    elements: list[InformationElement] = []
    pos = 1
    while pos < end:
        if pos + 2 > end:
            raise SmsDecodeError(
                f"UDH information element at offset {pos} is cut off: no length octet"
            )
        iei, ie_len = data[pos], data[pos + 1]
        start = pos + 2
        if start + ie_len > end:
            raise SmsDecodeError(
                f"UDH information element 0x{iei:02X} at offset {pos} claims {ie_len} "
                f"octets but only {end - start} remain in the header"
            )
        elements.append(InformationElement(iei, bytes(data[start : start + ie_len])))
        pos = start + ie_len
    return elements


def _expect_len(ie: InformationElement, want: int, what: str) -> None:
    if len(ie.data) != want:
        raise SmsDecodeError(
            f"UDH {what} element 0x{ie.iei:02X} has {len(ie.data)} octets, expected {want}"
        )


def _concat(ie: InformationElement) -> Concat | None:
    if ie.iei == IEI_CONCAT_8:
        _expect_len(ie, 3, "concatenation")
        ref, total, seq = ie.data
    else:
        _expect_len(ie, 4, "concatenation")
        ref = (ie.data[0] << 8) | ie.data[1]
        total, seq = ie.data[2], ie.data[3]
    if total == 0 or not 1 <= seq <= total:
        return None  # 9.2.3.24.1: the receiver ignores such an IE
    return Concat(ref, total, seq)


def _ports(ie: InformationElement) -> Ports:
    if ie.iei == IEI_PORTS_8:
        _expect_len(ie, 2, "port")
        return Ports(ie.data[0], ie.data[1])
    _expect_len(ie, 4, "port")
    return Ports((ie.data[0] << 8) | ie.data[1], (ie.data[2] << 8) | ie.data[3])


def parse_udh(data: bytes) -> Udh:
    """Parse the UDH at the start of data (user data may follow it)."""
    if not data:
        raise SmsDecodeError("UDH is empty: no UDHL octet")
    udhl = data[0]
    end = 1 + udhl
    if end > len(data):
        raise SmsDecodeError(
            f"UDHL says {udhl} header octets but only {len(data) - 1} follow it"
        )
    elements = _split_elements(data, end)
    concat: Concat | None = None
    ports: Ports | None = None
    for ie in elements:
        if ie.iei in (IEI_CONCAT_8, IEI_CONCAT_16):
            concat = _concat(ie)
        elif ie.iei in (IEI_PORTS_8, IEI_PORTS_16):
            ports = _ports(ie)
    return Udh(concat=concat, ports=ports, elements=tuple(elements), length=end)
