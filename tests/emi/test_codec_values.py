"""Field values: times, alphanumeric addresses, AMsg, PWD, XSer, DCS, EC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msghub.connectors.emi import (
    Alphabet,
    FieldError,
    XSerItem,
    build_xser,
    dcs_alphabet,
    decode_alphanumeric_address,
    decode_amsg,
    decode_ira,
    describe_ec,
    encode_alphanumeric_address,
    encode_amsg,
    encode_ira,
    format_ddt,
    format_scts,
    is_permanent_error,
    parse_ddt,
    parse_scts,
    parse_time,
    parse_xser,
    split_adc_scts,
)
from msghub.connectors.emi.xser import transparent_text
from msghub.sms.gsm7 import BASIC, ESC, EXTENSION, encode_gsm7, pack_septets

PROPERTY = settings(max_examples=300, deadline=None)
GSM_CHARS = [ch for code, ch in enumerate(BASIC) if code != ESC] + list(EXTENSION.values())
gsm_text = st.text(alphabet=st.sampled_from(GSM_CHARS))


def test_parse_times() -> None:
    assert parse_scts("090196161057") == datetime(1996, 1, 9, 16, 10, 57)
    assert parse_ddt("0808971800") == datetime(1997, 8, 8, 18, 0)
    assert parse_time("", "VP") is None
    assert parse_time("0101680000", "VP") == datetime(2068, 1, 1)
    assert parse_time("0101690000", "VP") == datetime(1969, 1, 1)


@pytest.mark.parametrize(
    "value", ["3102961200", "0013961200", "010196250000", "01019612", "01O1961200"]
)
def test_bad_times_are_field_errors(value: str) -> None:
    with pytest.raises(FieldError) as info:
        parse_time(value, "VP")
    assert info.value.field == "VP"


def test_parse_scts_needs_twelve_digits() -> None:
    with pytest.raises(FieldError):
        parse_scts("0101961200")
    with pytest.raises(FieldError):
        parse_ddt("")


def test_format_times() -> None:
    dt = datetime(2024, 2, 29, 7, 5, 9)
    assert format_ddt(dt) == "2902240705"
    assert format_scts(dt) == "290224070509"
    aware = datetime(2024, 2, 29, 23, 30, tzinfo=UTC)
    assert format_ddt(aware, tz=timezone(timedelta(hours=2))) == "0103240130"
    with pytest.raises(FieldError):
        format_ddt(datetime(2070, 1, 1))


@PROPERTY
@given(st.datetimes(min_value=datetime(1969, 1, 1), max_value=datetime(2068, 12, 31, 23, 59, 59)))
def test_scts_round_trip(dt: datetime) -> None:
    dt = dt.replace(microsecond=0)
    assert parse_time(format_scts(dt), "SCTS") == dt
    assert parse_time(format_ddt(dt), "DDT") == dt.replace(second=0)


def test_alphanumeric_address_vectors() -> None:
    # Packing from the vectors; the count is of useful semi-octets
    # (Kannel's (7n + 3) / 4), so "test" (28 bits) counts 7, not 8.
    assert encode_alphanumeric_address("test") == "07F4F29C0E"
    assert encode_alphanumeric_address("ALPHA@NUM") == "10412614190438AB4D"
    assert decode_alphanumeric_address("08F4F29C0E") == "test"
    assert decode_alphanumeric_address("07F4F29C0E") == "test"
    assert decode_alphanumeric_address("10412614190438AB4D") == "ALPHA@NUM"


@PROPERTY
@given(
    st.text(alphabet=st.sampled_from(GSM_CHARS), min_size=1, max_size=11).filter(
        lambda text: len(encode_gsm7(text)) <= 11
    )
)
def test_alphanumeric_address_round_trip(text: str) -> None:
    encoded = encode_alphanumeric_address(text)
    assert len(encoded) <= 22
    assert int(encoded[:2], 16) == (7 * len(encode_gsm7(text)) + 3) // 4
    assert decode_alphanumeric_address(encoded) == text


@pytest.mark.parametrize("text", ["", "ABCDEFGHIJKL", "ABCDEFGHIJ€", "Zürich\u0107"])
def test_alphanumeric_address_refusals(text: str) -> None:
    with pytest.raises(FieldError) as info:
        encode_alphanumeric_address(text)
    assert info.value.field == "OAdC"


def test_amsg_is_gsm_codes_in_hex() -> None:
    assert encode_amsg("Call you back later.") == "43616C6C20796F75206261636B206C617465722E"
    assert encode_amsg("@€[") == "001B651B3C"
    assert decode_amsg("001B651B3C") == "@€["
    with pytest.raises(FieldError):
        decode_amsg("80")
    with pytest.raises(FieldError):
        encode_amsg("\u0107")


@PROPERTY
@given(gsm_text)
def test_amsg_round_trip(text: str) -> None:
    assert decode_amsg(encode_amsg(text)) == text


def test_ira_password() -> None:
    assert encode_ira("Password") == "50617373776F7264"
    assert decode_ira("50617373776F7264") == "Password"
    with pytest.raises(FieldError):
        encode_ira("pässword")
    with pytest.raises(FieldError):
        decode_ira("FF")


xser_items = st.lists(st.builds(XSerItem, st.integers(0, 255), st.binary(max_size=255)), max_size=5)


@PROPERTY
@given(xser_items)
def test_xser_round_trip(items: list[XSerItem]) -> None:
    assert parse_xser(build_xser(items)) == tuple(items)


@pytest.mark.parametrize("value", ["01", "0103AABB", "0G0100", "010"])
def test_bad_xser(value: str) -> None:
    with pytest.raises(FieldError) as info:
        parse_xser(value)
    assert info.value.field == "XSer"


def test_build_xser_refuses_oversized_data() -> None:
    with pytest.raises(FieldError):
        build_xser([XSerItem(1, bytes(256))])


@pytest.mark.parametrize(
    ("dcs", "alphabet"),
    [
        (0x00, Alphabet.GSM7),
        (0x04, Alphabet.EIGHT_BIT),
        (0x08, Alphabet.UCS2),
        (0x0C, Alphabet.GSM7),  # reserved alphabet: assume the default
        (0x11, Alphabet.GSM7),
        (0x15, Alphabet.EIGHT_BIT),
        (0x18, Alphabet.UCS2),
        (0x24, Alphabet.EIGHT_BIT),  # compressed
        (0x48, Alphabet.UCS2),  # auto-deletion group
        (0x80, Alphabet.GSM7),  # reserved group
        (0xC8, Alphabet.GSM7),
        (0xE0, Alphabet.UCS2),
        (0xF0, Alphabet.GSM7),
        (0xF6, Alphabet.EIGHT_BIT),
    ],
)
def test_dcs_alphabet(dcs: int, alphabet: Alphabet) -> None:
    assert dcs_alphabet(dcs) is alphabet


def test_transparent_text() -> None:
    packed = pack_septets(encode_gsm7("hello"))
    assert transparent_text(packed, 0x00, 35) == "hello"
    assert transparent_text("hé".encode("utf-16-be"), 0x08, None) == "hé"
    assert transparent_text(b"\xff\x00", 0x04, 16) is None


def test_split_adc_scts() -> None:
    assert split_adc_scts("012234:090996101010") == ("012234", "090996101010")
    assert split_adc_scts("020296020202") is None
    assert split_adc_scts("a:b") is None


@pytest.mark.parametrize(
    ("ec", "permanent"),
    [("01", False), ("04", False), ("02", True), ("06", True), ("24", True), ("99", False)],
)
def test_is_permanent_error(ec: str, permanent: bool) -> None:
    assert is_permanent_error(ec) is permanent


def test_describe_ec() -> None:
    assert describe_ec("24") == "Message too long"
    assert describe_ec("99") == "unknown error code 99"
