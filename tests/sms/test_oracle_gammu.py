"""Differential tests against python-gammu (libgammu).

What is compared:
- segment counts (gammu.SMSCounter) for GSM and UCS-2 text;
- where the parts are cut, and the concatenation UDH bytes
  (gammu.EncodeSMS with ConcatenatedTextLong / ...16bit);
- septet packing with fill bits: our packed user data against the user data
  of gammu.EncodePDU, and our parts decoded by gammu.DecodePDU.

Oracle quirks, and why the checks look the way they do:
- SMSCounter with the default coding counts a character outside GSM 03.38
  as one septet (libgammu substitutes it), so only GSM text is given to it;
  UCS-2 text is counted with Coding="Unicode_No_Compression".
- SMSCounter is right for a single SM only: beyond that it divides by the
  single-SM limit (160 / 70), ignoring the UDH and that escapes and
  surrogate pairs cannot be cut, so it says 2 parts for 307 septets while
  its own EncodeSMS makes 3 (test_difference_counter_ignores_the_udh).
  Multi-part counts are therefore checked against EncodeSMS.
- DecodePDU's Text for 7-bit data is sized by septets, so each escape leaves
  one trailing character of undefined memory; only the prefix is compared.
- In UCS-2 text libgammu treats "~" as an escape of its own: EncodeSMS
  and SMSCounter count "~~" as one unit, and DecodePDU returns "~" for the
  character after a "~" ("~a" -> "~~"). U+0000 truncates its C strings and
  other controls come back altered (U+0001, U+007F -> "~"). So UCS-2 texts
  given to it hold no "~" and no control but LF and CR (GSM text is fine).
- help(gammu.DecodePDU) says SMSC defaults to False, but the default is
  True; the PDUs here carry an empty SMSC field and pass SMSC=True.
"""

import unicodedata
from typing import Any

import gammu
import pytest
from hypothesis import given
from hypothesis import strategies as st

from msghub.sms.gsm7 import encode_gsm7, fill_bits_for_udh, is_gsm7, pack_septets
from msghub.sms.split import Encoding, SmsPlan, plan_sms, unit_limit

from .helpers import PROPERTY, deliver_pdu, gsm_text, ucs2_text

UNICODE = "Unicode_No_Compression"


def gammu_safe(text: str) -> bool:
    """Texts libgammu handles as plain text (see the module docstring):
    any GSM text; UCS-2 text without "~" and without controls but LF, CR."""
    if is_gsm7(text):
        return True
    return "~" not in text and all(
        ch in "\n\r" or unicodedata.category(ch) != "Cc" for ch in text
    )


def gammu_split(text: str, unicode: bool, ref16: bool) -> list[dict[str, Any]]:
    entry = "ConcatenatedTextLong16bit" if ref16 else "ConcatenatedTextLong"
    info = {"Class": -1, "Unicode": unicode, "Entries": [{"ID": entry, "Buffer": text}]}
    messages: list[dict[str, Any]] = gammu.EncodeSMS(info)
    return messages


def gammu_ref(message: dict[str, Any]) -> int:
    udh = message["UDH"]
    return int(udh["ID16bit"] if udh["ID16bit"] >= 0 else udh["ID8bit"])


def check_against_encode_sms(text: str, ref16: bool) -> SmsPlan:
    unicode = plan_sms(text).encoding is Encoding.UCS2
    messages = gammu_split(text, unicode, ref16)
    ref = gammu_ref(messages[0]) if len(messages) > 1 else 0
    plan = plan_sms(text, ref=ref, ref16=ref16)
    assert [m["Text"] for m in messages] == [p.text for p in plan.parts]
    assert [m["UDH"]["Text"] for m in messages] == [p.udh for p in plan.parts]
    return plan


@pytest.mark.parametrize(
    "text",
    ["a" * 160, "a" * 161, "a" * 152 + "{" + "a" * 152, "€" * 81, "ж" * 71,
     "a" * 66 + "😀" + "b" * 10, "😀" * 36, ""],
)
@pytest.mark.parametrize("ref16", [False, True])
def test_named_splits_match(text: str, ref16: bool) -> None:
    check_against_encode_sms(text, ref16)


@PROPERTY
@given(st.one_of(gsm_text, ucs2_text).filter(gammu_safe), st.booleans())
def test_splits_match(text: str, ref16: bool) -> None:
    check_against_encode_sms(text, ref16)


@PROPERTY
@given(st.one_of(gsm_text, ucs2_text).filter(gammu_safe))
def test_single_segment_counter_matches(text: str) -> None:
    plan = plan_sms(text)
    coding = "Default_No_Compression" if plan.encoding is Encoding.GSM7 else UNICODE
    parts, free = gammu.SMSCounter(text, Coding=coding)
    if plan.segments == 1:
        assert (parts, free) == (1, unit_limit(plan.encoding) - plan.units)
    else:
        assert parts >= 2  # beyond one part the counter is unreliable, see below


@pytest.mark.parametrize(
    ("text", "counter_says"),
    [("a" * 307, 2), ("a" * 320, 2), ("€" * 153, 2), ("ж" * 135, 2), ("😀" * 67, 2)],
)
def test_difference_counter_ignores_the_udh(text: str, counter_says: int) -> None:
    # SMSCounter divides by the single-SM limit (160 / 70), ignoring the UDH
    # and that two-unit characters cannot be cut; EncodeSMS, which builds
    # the parts actually sent, agrees with us.
    plan = plan_sms(text)
    coding = "Default_No_Compression" if plan.encoding is Encoding.GSM7 else UNICODE
    assert gammu.SMSCounter(text, Coding=coding)[0] == counter_says
    assert len(gammu_split(text, plan.encoding is Encoding.UCS2, False)) == plan.segments == 3


def submit_user_data(pdu: bytes) -> tuple[int, bytes]:
    """UDL and UD of an SMS-SUBMIT with SMSC field (TS 23.040 9.2.2.2)."""
    pos = 1 + pdu[0]  # SMSC address
    first_octet = pdu[pos]
    pos += 2  # first octet, TP-MR
    pos += 2 + (pdu[pos] + 1) // 2  # TP-DA: digit count, type, BCD digits
    pos += 2  # TP-PID, TP-DCS
    vp_format = (first_octet >> 3) & 0b11
    pos += {0b00: 0, 0b10: 1, 0b01: 7, 0b11: 7}[vp_format]
    return pdu[pos], pdu[pos + 1 :]


def encode_pdu_user_data(message: dict[str, Any]) -> tuple[int, bytes]:
    pdu: bytes = gammu.EncodePDU(dict(message, Number="+4917234567"))
    return submit_user_data(pdu)


@PROPERTY
@given(gsm_text.filter(lambda t: t != ""), st.booleans())
def test_septet_packing_matches_encode_pdu(text: str, ref16: bool) -> None:
    for message in gammu_split(text, False, ref16):
        udh: bytes = message["UDH"]["Text"]
        septets = encode_gsm7(message["Text"])
        fill = fill_bits_for_udh(len(udh))
        udl, user_data = encode_pdu_user_data(message)
        assert udl == (len(udh) * 8 + fill) // 7 + len(septets)
        assert user_data == udh + pack_septets(septets, fill)


def our_pdu(part_udh: bytes, user_data: bytes, encoding: Encoding) -> bytes:
    if encoding is Encoding.UCS2:
        return deliver_pdu(part_udh, user_data, len(part_udh) + len(user_data), dcs=0x08)
    fill = fill_bits_for_udh(len(part_udh))
    udl = (len(part_udh) * 8 + fill) // 7 + len(user_data)
    return deliver_pdu(part_udh, pack_septets(user_data, fill), udl, dcs=0x00)


@PROPERTY
@given(st.one_of(gsm_text, ucs2_text).filter(gammu_safe), st.booleans())
def test_decode_pdu_reads_our_parts(text: str, ref16: bool) -> None:
    plan = plan_sms(text, ref=0x5A, ref16=ref16)
    for part in plan.parts:
        decoded = gammu.DecodePDU(our_pdu(part.udh, part.user_data, plan.encoding), True)
        if plan.encoding is Encoding.GSM7:
            assert decoded["Coding"] == "Default_No_Compression"
            # Text is sized by septets; the tail past our text is undefined
            # memory (it may even pair up into one astral character).
            assert decoded["Text"][: len(part.text)] == part.text
        else:
            assert decoded["Coding"] == UNICODE
            assert decoded["Text"] == part.text
        assert decoded["UDH"]["Text"] == part.udh
        if plan.segments > 1:
            assert decoded["UDH"]["PartNumber"] == part.seq
            assert decoded["UDH"]["AllParts"] == plan.segments
            assert gammu_ref(decoded) == 0x5A
