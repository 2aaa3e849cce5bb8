"""Encoding choice, segmentation and cost (TS 23.040 9.2.3.16, 9.2.3.24.1)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msghub.sms.errors import SmsEncodingError
from msghub.sms.gsm7 import ESC, decode_gsm7, encode_gsm7, is_gsm7
from msghub.sms.split import Encoding, SmsPlan, cost, plan_sms, unit_limit
from msghub.sms.ucs2 import decode_ucs2, ucs2_units
from msghub.sms.udh import Concat, parse_udh

from .helpers import PROPERTY, gsm_text, ucs2_text


def units_per_part(plan: SmsPlan) -> list[int]:
    return [p.units for p in plan.parts]


@pytest.mark.parametrize(
    ("encoding", "single", "concat8", "concat16"),
    [(Encoding.GSM7, 160, 153, 152), (Encoding.UCS2, 70, 67, 66), (Encoding.BIT8, 140, 134, 133)],
)
def test_limits_table(encoding: Encoding, single: int, concat8: int, concat16: int) -> None:
    assert unit_limit(encoding) == single
    assert unit_limit(encoding, 6) == concat8
    assert unit_limit(encoding, 7) == concat16


def test_exactly_160_gsm_is_one_segment() -> None:
    plan = plan_sms("a" * 160)
    assert plan.encoding is Encoding.GSM7
    assert plan.segments == 1
    assert plan.parts[0].udh == b""
    assert plan.parts[0].user_data == b"a" * 160  # 'a' is septet 0x61


def test_161_gsm_is_two_segments() -> None:
    plan = plan_sms("a" * 161, ref=7)
    assert units_per_part(plan) == [153, 8]
    assert [p.udh.hex() for p in plan.parts] == ["050003070201", "050003070202"]


def test_80_escapes_fill_one_segment_and_81_do_not() -> None:
    assert plan_sms("€" * 80).segments == 1
    plan = plan_sms("€" * 81)
    assert units_per_part(plan) == [152, 10]  # 153 would cut an escape


def test_escape_straddling_the_153_boundary_moves_whole() -> None:
    text = "a" * 152 + "{" + "a" * 152  # 306 septets, would fit 2 x 153 if cut
    plan = plan_sms(text)
    assert plan.units == 306
    assert units_per_part(plan) == [152, 153, 1]
    assert plan.parts[1].text.startswith("{")
    assert plan.parts[0].user_data[-1] != ESC


def test_exactly_70_and_71_ucs2() -> None:
    assert plan_sms("ж" * 70).segments == 1
    plan = plan_sms("ж" * 71)
    assert plan.encoding is Encoding.UCS2
    assert units_per_part(plan) == [67, 4]


def test_emoji_counts_two_units_at_the_single_limit() -> None:
    assert plan_sms("a" * 68 + "😀").segments == 1
    assert plan_sms("a" * 69 + "😀").segments == 2


def test_emoji_at_part_boundary_moves_whole() -> None:
    plan = plan_sms("a" * 66 + "😀" + "b" * 10)
    assert units_per_part(plan) == [66, 12]
    assert plan.parts[1].user_data[:4] == bytes.fromhex("D83DDE00")


def test_empty_text_is_one_segment_of_zero_units() -> None:
    plan = plan_sms("")
    assert plan.segments == 1
    assert plan.units == 0
    assert plan.parts[0].udh == b"" and plan.parts[0].user_data == b""
    assert plan.encoding is Encoding.GSM7


def test_ref16_uses_seven_octet_header() -> None:
    plan = plan_sms("a" * 161, ref=0x1234, ref16=True)
    assert units_per_part(plan) == [152, 9]
    assert plan.parts[0].udh.hex() == "06080412340201"


def test_forced_ucs2_for_gsm_text() -> None:
    plan = plan_sms("hello", encoding=Encoding.UCS2)
    assert plan.parts[0].user_data == "hello".encode("utf-16-be")


def test_forced_gsm_rejects_non_gsm() -> None:
    with pytest.raises(SmsEncodingError, match="'ł'"):
        plan_sms("ł", encoding=Encoding.GSM7)


def test_forced_gsm_with_transliteration() -> None:
    plan = plan_sms("…", encoding=Encoding.GSM7, transliterate=True)
    assert plan.text == "..." and plan.transliterated


def test_8bit_limits_and_latin1() -> None:
    assert plan_sms("\xff" * 140, encoding=Encoding.BIT8).segments == 1
    plan = plan_sms("\x00" * 141, encoding=Encoding.BIT8)
    assert units_per_part(plan) == [134, 7]
    with pytest.raises(SmsEncodingError, match="cannot be sent as 8bit"):
        plan_sms("€", encoding=Encoding.BIT8)


def test_255_parts_is_the_maximum() -> None:
    assert plan_sms("a" * 153 * 255).segments == 255
    with pytest.raises(SmsEncodingError, match="needs 256 parts"):
        plan_sms("a" * (153 * 255 + 1))


def test_reference_must_fit() -> None:
    with pytest.raises(SmsEncodingError, match="8 bits"):
        plan_sms("a", ref=256)
    assert plan_sms("a" * 200, ref=256, ref16=True).parts[0].udh[3:5] == b"\x01\x00"


def test_transliteration_used_when_it_makes_gsm() -> None:
    plan = plan_sms("“Zażółć” \u2013 ok", transliterate=True)  # en dash
    assert plan.encoding is Encoding.GSM7
    assert plan.transliterated
    assert plan.text == '"Zazolc" - ok'


def test_transliteration_dropped_when_rest_is_not_gsm() -> None:
    text = "“quoted” 😀"
    plan = plan_sms(text, transliterate=True)
    assert plan.encoding is Encoding.UCS2
    assert not plan.transliterated
    assert plan.text == text


def test_transliteration_dropped_when_it_costs_more_segments() -> None:
    text = "…" * 70  # 1 UCS-2 segment, but 210 septets as "..."
    plan = plan_sms(text, transliterate=True)
    assert plan.segments == 1
    assert plan.encoding is Encoding.UCS2
    assert not plan.transliterated


def test_cost_counters() -> None:
    assert cost("") == {
        "encoding": "gsm7", "unit": "septets", "segments": 1, "units": 0, "per_part": 160,
        "used": 0, "remaining": 160, "transliterated": False, "sendable": True,
    }
    long = cost("a" * 161)
    assert (long["segments"], long["per_part"], long["used"], long["remaining"]) == (2, 153, 8, 145)
    emoji = cost("😀")
    assert (emoji["encoding"], emoji["used"], emoji["remaining"]) == ("ucs2", 2, 68)
    escaped = cost("€")
    assert escaped["remaining"] == 158


def test_cost_with_transliteration_and_oversize() -> None:
    assert cost("Zażółć", transliterate=True)["encoding"] == "gsm7"
    assert cost("Zażółć")["encoding"] == "ucs2"
    huge = cost("a" * (153 * 255 + 1))
    assert huge["segments"] == 256 and huge["sendable"] is False
    assert cost("a\ud800")["sendable"] is False


def check_plan(text: str, plan: SmsPlan, ref: int, ref16: bool) -> None:
    assert "".join(p.text for p in plan.parts) == plan.text == text
    assert plan.segments == len(plan.parts) >= 1
    assert sum(p.units for p in plan.parts) == plan.units
    single = unit_limit(plan.encoding)
    limit = single if plan.segments == 1 else unit_limit(plan.encoding, 7 if ref16 else 6)
    assert all(p.units <= limit for p in plan.parts)
    if plan.segments > 1:
        assert plan.units > single
        # Greedy with 1- or 2-unit characters: each part but the last is at
        # least limit - 1 full, so the count is within these bounds.
        assert -(-plan.units // limit) <= plan.segments <= -(-plan.units // (limit - 1))
        assert all(p.units >= limit - 1 for p in plan.parts[:-1])
    for seq, part in enumerate(plan.parts, start=1):
        assert (part.seq, part.total) == (seq, plan.segments)
        if plan.segments > 1:
            assert parse_udh(part.udh).concat == Concat(ref, plan.segments, seq)


@PROPERTY
@given(gsm_text, st.integers(0, 255))
def test_gsm_plan_properties(text: str, ref: int) -> None:
    plan = plan_sms(text, ref=ref)
    assert plan.encoding is Encoding.GSM7
    check_plan(text, plan, ref, ref16=False)
    for part in plan.parts:
        # No part ends inside an escape: each decodes alone to its text.
        assert part.user_data == encode_gsm7(part.text)
        assert part.units == len(part.user_data)
        assert decode_gsm7(part.user_data) == part.text
        assert not part.user_data.endswith(bytes((ESC,)))


@PROPERTY
@given(ucs2_text, st.integers(0, 0xFFFF), st.booleans())
def test_auto_plan_properties(text: str, ref: int, ref16: bool) -> None:
    ref = ref if ref16 else ref & 0xFF
    plan = plan_sms(text, ref=ref, ref16=ref16)
    assert plan.encoding is (Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2)
    check_plan(text, plan, ref, ref16)
    if plan.encoding is Encoding.UCS2:
        assert plan.units == ucs2_units(text)
        for part in plan.parts:
            data = part.user_data
            assert len(data) == 2 * part.units
            # Never ends on a high surrogate nor starts on a low one.
            assert not (data and 0xD8 <= data[-2] <= 0xDB)
            assert not (data and 0xDC <= data[0] <= 0xDF)
            assert decode_ucs2(data, strict=True) == part.text


@PROPERTY
@given(ucs2_text)
def test_cost_agrees_with_plan(text: str) -> None:
    plan = plan_sms(text)
    counter = cost(text)
    assert counter["segments"] == plan.segments
    assert counter["units"] == plan.units
    assert counter["used"] == plan.parts[-1].units
    assert counter["used"] + counter["remaining"] == counter["per_part"]
    assert counter["remaining"] >= 0


@PROPERTY
@given(ucs2_text)
def test_transliteration_never_costs_more(text: str) -> None:
    plain = plan_sms(text)
    translit = plan_sms(text, transliterate=True)
    assert translit.segments <= plain.segments
    assert translit.transliterated == (translit.text != text)
    if translit.transliterated:
        assert translit.encoding is Encoding.GSM7


@PROPERTY
@given(st.binary(max_size=600), st.booleans())
def test_8bit_plan_properties(data: bytes, ref16: bool) -> None:
    text = data.decode("latin-1")
    plan = plan_sms(text, encoding=Encoding.BIT8, ref=3, ref16=ref16)
    check_plan(text, plan, 3, ref16)
    assert b"".join(p.user_data for p in plan.parts) == data
