"""Shared strategies and PDU helpers for the SMS core tests."""

from typing import Literal

from hypothesis import settings
from hypothesis import strategies as st

from msghub.sms.gsm7 import BASIC, ESC, EXTENSION

PROPERTY = settings(max_examples=300, deadline=None)

BASIC_CHARS = [ch for code, ch in enumerate(BASIC) if code != ESC]
EXT_CHARS = list(EXTENSION.values())
GSM_CHARS = BASIC_CHARS + EXT_CHARS

gsm_char = st.sampled_from(GSM_CHARS)
emoji = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
any_char = st.characters(exclude_categories=_SURROGATES)  # lone surrogates cannot be sent


def _long_text(alphabet: st.SearchStrategy[str], *fillers: str) -> st.SearchStrategy[str]:
    """Random text with runs of one- and two-unit fillers, so lengths cross
    part boundaries (160, 153, 306, 70, 67 ...) with varied characters there."""
    run = st.builds(lambda ch, n: ch * n, st.sampled_from(fillers), st.integers(0, 170))
    block = st.one_of(run, st.text(alphabet=alphabet, max_size=12))
    return st.lists(block, max_size=8).map("".join)


# Extension characters weighted up so escapes land on part boundaries often.
gsm_text = _long_text(st.one_of(gsm_char, st.sampled_from(EXT_CHARS)), "a", "€")
ucs2_text = _long_text(st.one_of(gsm_char, any_char, emoji), "a", "\u0436", "\U0001f600")


def deliver_pdu(udh: bytes, user_data: bytes, udl: int, dcs: int) -> bytes:
    """SMS-DELIVER TPDU (3GPP TS 23.040 9.2.2.1) with an empty SMSC field,
    for gammu.DecodePDU(pdu, True)."""
    first_octet = 0x04 | (0x40 if udh else 0)  # MTI=deliver, MMS=no more, UDHI
    originator = bytes((10, 0x91, 0x94, 0x71, 0x32, 0x54, 0x76))  # +4917234567
    timestamp = bytes((0x52, 0x10, 0x11, 0x21, 0x43, 0x65, 0x00))
    return (
        bytes((0x00, first_octet)) + originator + bytes((0x00, dcs)) + timestamp
        + bytes((udl,)) + udh + user_data
    )
