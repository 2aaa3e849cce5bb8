"""Encoding choice, segmentation and cost of an outbound SMS.

Limits (3GPP TS 23.040 9.2.3.16: 140 octets of user data per SM):

=========  ======  ===================  ====================
encoding   single  8-bit ref UDH (6 o)  16-bit ref UDH (7 o)
=========  ======  ===================  ====================
gsm7       160     153 septets          152 septets
8bit       140     134 octets           133 octets
ucs2       70      67 units             66 units
=========  ======  ===================  ====================

GSM septets after a UDH start at a septet boundary (fill bits), which is why
a 6-octet UDH costs 7 septets. Parts are filled greedily, but a character is
never cut: an extension character (two septets, 0x1B + code) or a surrogate
pair (two UCS-2 units) moves whole to the next part.

8bit takes text whose characters are octets U+0000..U+00FF (latin-1), so a
binary payload is passed as data.decode("latin-1").
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from msghub.sms.errors import SmsEncodingError
from msghub.sms.gsm7 import char_septets, encode_gsm7, fill_bits_for_udh, is_gsm7
from msghub.sms.transliterate import transliterate as _transliterate
from msghub.sms.ucs2 import char_units, encode_ucs2
from msghub.sms.udh import CONCAT16_UDH_LEN, CONCAT_UDH_LEN, concat_udh

USER_DATA_OCTETS = 140
MAX_PARTS = 255


class Encoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"
    BIT8 = "8bit"


UNIT_NAMES = {Encoding.GSM7: "septets", Encoding.UCS2: "UCS-2 units", Encoding.BIT8: "octets"}


@dataclass(frozen=True)
class Part:
    seq: int
    total: int
    text: str
    udh: bytes
    user_data: bytes  # payload without the UDH; unpacked septets for gsm7
    units: int


@dataclass(frozen=True)
class SmsPlan:
    encoding: Encoding
    parts: tuple[Part, ...]
    segments: int
    units: int
    transliterated: bool
    text: str  # what will actually be sent


def unit_limit(encoding: Encoding, udh_octets: int = 0) -> int:
    """Units that fit in one SM next to a UDH of udh_octets (incl. UDHL)."""
    free_octets = USER_DATA_OCTETS - udh_octets
    if encoding is Encoding.GSM7:
        return (free_octets * 8 - fill_bits_for_udh(udh_octets)) // 7
    if encoding is Encoding.UCS2:
        return free_octets // 2
    return free_octets


def _concat_len(ref16: bool) -> int:
    return CONCAT16_UDH_LEN if ref16 else CONCAT_UDH_LEN


def _bit8_units(ch: str) -> int:
    return 1 if ord(ch) <= 0xFF else 0


_COST = {Encoding.GSM7: char_septets, Encoding.UCS2: char_units, Encoding.BIT8: _bit8_units}


def _char_costs(text: str, encoding: Encoding) -> list[int]:
    cost_of = _COST[encoding]
    costs = [cost_of(ch) for ch in text]
    for pos, n in enumerate(costs):
        if n == 0:
            ch = text[pos]
            raise SmsEncodingError(
                f"character {ch!r} (U+{ord(ch):04X}) at position {pos} cannot be sent as "
                f"{encoding.value}"
            )
    return costs


def _chunks(text: str, costs: list[int], limit: int) -> list[tuple[str, int]]:
    chunks: list[tuple[str, int]] = []
    start = used = 0
    for pos, n in enumerate(costs):
        if used + n > limit:
            chunks.append((text[start:pos], used))
            start, used = pos, 0
        used += n
    chunks.append((text[start:], used))
    return chunks


def _encode(text: str, encoding: Encoding) -> bytes:
    if encoding is Encoding.GSM7:
        return encode_gsm7(text)
    if encoding is Encoding.UCS2:
        return encode_ucs2(text)
    return text.encode("latin-1")


def _segment(text: str, encoding: Encoding, ref16: bool) -> list[tuple[str, int]]:
    costs = _char_costs(text, encoding)
    units = sum(costs)
    if units <= unit_limit(encoding):
        return [(text, units)]
    return _chunks(text, costs, unit_limit(encoding, _concat_len(ref16)))


def choose_text(text: str, transliterate: bool, ref16: bool = False) -> tuple[str, bool]:
    """Text to send and whether it is the transliterated one.

    The transliteration is used only if it is pure GSM (in UCS-2 every BMP
    character costs one unit anyway, so a mixed result loses fidelity for
    nothing) and needs no more segments than the original: "..." for an
    ellipsis can make a GSM text longer than its UCS-2 original.
    """
    if not transliterate or is_gsm7(text):
        return text, False
    candidate = _transliterate(text)
    if not is_gsm7(candidate):
        return text, False
    as_gsm = len(_segment(candidate, Encoding.GSM7, ref16))
    as_ucs2 = len(_segment(text, Encoding.UCS2, ref16))
    if as_gsm > as_ucs2:
        return text, False
    return candidate, True


def plan_sms(
    text: str,
    *,
    transliterate: bool = False,
    ref: int = 0,
    ref16: bool = False,
    encoding: Encoding | None = None,
) -> SmsPlan:
    """Split text into SM parts; raises SmsEncodingError if it cannot be sent.

    encoding=None picks gsm7 when the (possibly transliterated) text allows
    it, else ucs2. A forced encoding that cannot carry the text raises.
    """
    if not 0 <= ref <= (0xFFFF if ref16 else 0xFF):
        raise SmsEncodingError(
            f"concatenation reference {ref} does not fit in {16 if ref16 else 8} bits"
        )
    if encoding is None:
        sent, changed = choose_text(text, transliterate, ref16)
        encoding = Encoding.GSM7 if is_gsm7(sent) else Encoding.UCS2
    elif encoding is Encoding.GSM7 and transliterate:
        sent = _transliterate(text)  # forced GSM: transliterate whatever it costs
        changed = sent != text
    else:
        sent, changed = text, False
    chunks = _segment(sent, encoding, ref16)
    total = len(chunks)
    if total > MAX_PARTS:
        raise SmsEncodingError(
            f"message needs {total} parts; concatenation allows at most {MAX_PARTS}"
        )
    parts = tuple(
        Part(
            seq=seq,
            total=total,
            text=chunk,
            udh=concat_udh(ref, total, seq, ref16) if total > 1 else b"",
            user_data=_encode(chunk, encoding),
            units=n,
        )
        for seq, (chunk, n) in enumerate(chunks, start=1)
    )
    return SmsPlan(
        encoding=encoding,
        parts=parts,
        segments=total,
        units=sum(n for _, n in chunks),
        transliterated=changed,
        text=sent,
    )


def part_limit(plan: SmsPlan) -> int:
    """Unit limit of each part of plan (they all carry the same UDH size)."""
    return unit_limit(plan.encoding, len(plan.parts[0].udh))


def _has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def cost(text: str, transliterate: bool = False) -> dict[str, Any]:
    """Counter data for a UI: what sending text costs right now.

    per_part is the limit of one part (160/70 for a single SM, 153/67 once
    concatenated); used and remaining refer to the last part. Never raises:
    sendable is False above 255 parts or with a lone surrogate.
    """
    sent, changed = choose_text(text, transliterate)
    encoding = Encoding.GSM7 if is_gsm7(sent) else Encoding.UCS2
    chunks = _segment(sent, encoding, ref16=False)
    segments = len(chunks)
    per_part = unit_limit(encoding, CONCAT_UDH_LEN if segments > 1 else 0)
    used = chunks[-1][1]
    return {
        "encoding": encoding.value,
        "unit": UNIT_NAMES[encoding],
        "segments": segments,
        "units": sum(n for _, n in chunks),
        "per_part": per_part,
        "used": used,
        "remaining": per_part - used,
        "transliterated": changed,
        "sendable": segments <= MAX_PARTS and not _has_lone_surrogate(sent),
    }
