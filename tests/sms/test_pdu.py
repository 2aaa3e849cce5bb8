"""The PDU codec (msghub.sms.pdu) on known PDUs, field by field, and round
trips of random messages. Oracles: tests/sms/test_pdu_oracle_*.py; real
captures: test_pdu_vectors.py; fuzzing: test_pdu_fuzz.py."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msghub.errors import CodecError
from msghub.sms.errors import SmsDecodeError, SmsEncodingError
from msghub.sms.pdu import (
    Address,
    DeliverReport,
    EnhancedValidity,
    MessageWaiting,
    PduError,
    SmsCommand,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    SubmitReport,
    Udh,
    decode,
    encode,
)
from msghub.sms.pdu.times import relative_code, relative_period
from msghub.sms.reassembly import Fragment, Reassembler
from msghub.sms.split import plan_sms

from . import pdu_strategies as ps
from .helpers import PROPERTY, gsm_text, ucs2_text

# The classic SMS-SUBMIT of the GSM 03.40 tutorials: "hellohello" to +46708251358.
HELLO_SUBMIT = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"


def test_pdu_error_is_both_sms_error_families():
    assert issubclass(PduError, SmsDecodeError)
    assert issubclass(PduError, SmsEncodingError)
    assert issubclass(PduError, CodecError)


def test_the_classic_submit_decodes():
    msg = decode(HELLO_SUBMIT, direction="ms_to_sc")
    assert msg == SmsSubmit(
        recipient=Address("+46708251358"),
        user_data="hellohello",
        validity=timedelta(days=4),
        smsc=None,
    )
    assert encode(msg) == (HELLO_SUBMIT, 23)


def test_encode_returns_the_tpdu_length_without_the_smsc_field():
    msg = SmsSubmit(Address("+447911123456"), "hi", smsc=Address("+447785016005"))
    hex_pdu, length = encode(msg)
    assert hex_pdu.startswith("0791447758100650")
    assert length == len(hex_pdu) // 2 - 8
    no_smsc, same = encode(msg, with_smsc=False)
    assert same == length and hex_pdu.endswith(no_smsc)
    assert decode(no_smsc, direction="ms_to_sc", with_smsc=False) == SmsSubmit(Address("+447911123456"), "hi")


def test_hex_may_be_lower_case_or_raw_octets():
    assert decode(HELLO_SUBMIT.lower(), direction="ms_to_sc") == decode(
        bytes.fromhex(HELLO_SUBMIT), direction="ms_to_sc"
    )


# --- addresses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "octets"),
    [
        (Address("+447911123456"), "0C91449711214365"),
        (Address("+4479111234567"), "0D91449711214365F7"),
        (Address("07911123456", ton=0), "0B817019113254F6"),
        (Address("07911123456", ton=2, npi=1), "0BA17019113254F6"),
        (Address("*100#", ton=0), "05811A00FB"),
        (Address("Shop", ton=5, npi=0), "07D053F41B0E"),
        (Address("InfoSMS", ton=5, npi=0), "0DD049B7F93D6D4E01"),
    ],
)
def test_addresses(address: Address, octets: str):
    msg = SmsSubmit(address, "x")
    hex_pdu, _ = encode(msg)
    assert hex_pdu[6:].startswith(octets)
    assert decode(hex_pdu, direction="ms_to_sc") == msg


def test_international_number_gets_its_plus():
    assert Address("4479", ton=1) == Address("+4479")
    assert Address.of("+4479") == Address("+4479")
    assert Address.of("0790") == Address("0790", ton=0)
    assert Address.of("Bank") == Address("Bank", ton=5, npi=0)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        (Address("+44", ton=1, npi=16), "numbering plan"),
        (Address("+4479", ton=0), r"starts with '\+'"),
        (Address("0790x", ton=0), "'x' at position 4"),
        (Address("1" * 21, ton=0), "21 digits"),
        (Address("TwelveLetter", ton=5), "12 septets"),
        (Address("Zażółć", ton=5), "alphanumeric address"),
    ],
)
def test_bad_addresses_are_refused(address: Address, reason: str):
    with pytest.raises(PduError, match=reason):
        encode(SmsSubmit(address, "x"))


def test_address_errors_name_the_octet():
    # Destination length 0x19 = 25 semi-octets at octet 3 (after 00, first octet, MR).
    with pytest.raises(PduError, match="destination address at octet 3: length 25 exceeds 20"):
        decode("001100199100", direction="ms_to_sc")
    with pytest.raises(PduError, match="type-of-address 0x11 lacks"):
        decode("0011000B1164", direction="ms_to_sc")


# --- data coding scheme ------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "dcs"),
    [
        ({"alphabet": "gsm7"}, 0x00),
        ({"alphabet": "8bit", "user_data": b"x"}, 0x04),
        ({"alphabet": "ucs2"}, 0x08),
        ({"alphabet": "gsm7", "message_class": 0}, 0x10),
        ({"alphabet": "ucs2", "message_class": 1}, 0x19),
        ({"alphabet": "8bit", "user_data": b"x", "message_class": 2}, 0x16),
        ({"alphabet": "gsm7", "message_class": 3, "auto_delete": True}, 0x53),
        ({"alphabet": "gsm7", "waiting": MessageWaiting(True, 0, store=False)}, 0xC8),
        ({"alphabet": "gsm7", "waiting": MessageWaiting(False, 1)}, 0xD1),
        ({"alphabet": "ucs2", "waiting": MessageWaiting(True, 3)}, 0xEB),
    ],
)
def test_dcs_values(kwargs: dict[str, object], dcs: int):
    args: dict = {"user_data": "x"} | kwargs
    msg = SmsSubmit(Address("+1"), **args)
    hex_pdu, _ = encode(msg, with_smsc=False)
    assert int(hex_pdu[12:14], 16) == dcs
    assert decode(hex_pdu, direction="ms_to_sc", with_smsc=False) == msg


@pytest.mark.parametrize(
    ("dcs", "alphabet", "klass"),
    [
        (0xF0, "gsm7", 0),
        (0xF5, "8bit", 1),
        (0xF9, "gsm7", 1),  # bit 3 reserved: ignored
        (0x0C, "gsm7", None),  # reserved alphabet: GSM 7-bit (TS 23.038 section 4)
        (0x80, "gsm7", None),  # reserved coding group
        (0xB4, "gsm7", None),
    ],
)
def test_dcs_decoding_of_other_values(dcs: int, alphabet: str, klass: int | None):
    msg = decode(f"0001000181F000{dcs:02X}00", direction="ms_to_sc")
    assert isinstance(msg, SmsSubmit)
    assert (msg.alphabet, msg.message_class) == (alphabet, klass)


@pytest.mark.parametrize("dcs", [0x20, 0x28, 0x3C, 0x60, 0x7F])
def test_compressed_text_is_refused_clearly(dcs: int):
    with pytest.raises(PduError, match=rf"DCS 0x{dcs:02X} at octet 7: compressed user data .* not supported"):
        decode(f"0001000181F000{dcs:02X}00", direction="ms_to_sc")


def test_impossible_dcs_combinations_are_refused():
    with pytest.raises(PduError, match="no 8bit variant"):
        encode(SmsSubmit(Address("+1"), b"x", alphabet="8bit", waiting=MessageWaiting(True)))
    with pytest.raises(PduError, match="no message class"):
        encode(SmsSubmit(Address("+1"), "x", message_class=1, waiting=MessageWaiting(True)))
    with pytest.raises(PduError, match="message class 4"):
        encode(SmsSubmit(Address("+1"), "x", message_class=4))
    with pytest.raises(PduError, match="'latin1' is not one of"):
        encode(SmsSubmit(Address("+1"), "x", alphabet="latin1"))
    with pytest.raises(PduError, match="must be bytes"):
        encode(SmsSubmit(Address("+1"), "x", alphabet="8bit"))
    with pytest.raises(PduError, match="must be text"):
        encode(SmsSubmit(Address("+1"), b"x"))


# --- time stamps -------------------------------------------------------------


@pytest.mark.parametrize(
    ("octets", "when"),
    [
        ("99309251619580", datetime(1999, 3, 29, 15, 16, 59, tzinfo=timezone(timedelta(hours=2)))),
        ("20107012803340", datetime(2002, 1, 7, 21, 8, 33, tzinfo=timezone(timedelta(hours=1)))),
        ("42208041000069", datetime(2024, 2, 8, 14, 0, 0, tzinfo=timezone(timedelta(hours=-4)))),
    ],
)
def test_service_centre_time_stamps(octets: str, when: datetime):
    msg = decode(f"00040181F00000{octets}00", direction="sc_to_ms")
    assert isinstance(msg, SmsDeliver)
    assert msg.scts == when
    assert msg.scts.utcoffset() == when.utcoffset()


def test_negative_time_zones():
    # tz octet 0x69: low nibble 9 = sign bit + tens digit 1, high nibble 6: -16 quarter hours.
    msg = decode("00040181F000004220804100006900", direction="sc_to_ms")
    assert isinstance(msg, SmsDeliver)
    assert msg.scts.utcoffset() == timedelta(hours=-4)
    for quarters in (-79, -48, -14, -1, 0, 1, 22, 56, 79):
        zone = timezone(timedelta(minutes=15 * quarters))
        deliver = SmsDeliver(Address("+1"), datetime(2031, 5, 6, 7, 8, 9, tzinfo=zone), "x")
        back = decode(encode(deliver)[0], direction="sc_to_ms")
        assert isinstance(back, SmsDeliver)
        assert back.scts.utcoffset() == zone.utcoffset(None)


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (datetime(2024, 1, 1), "no time zone"),
        (datetime(2024, 1, 1, tzinfo=timezone(timedelta(minutes=10))), "quarter hours"),
        (datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=20))), "exceeds 79"),
        (datetime(2090, 1, 1, tzinfo=UTC), "outside 1990..2089"),
    ],
)
def test_bad_time_stamps_are_refused(when: datetime, reason: str):
    with pytest.raises(PduError, match=reason):
        encode(SmsDeliver(Address("+1"), when, "x"))


@pytest.mark.parametrize(
    ("octets", "reason"),
    [
        ("4A208041000000", "octet 7: 0x4A is not two decimal digits"),
        ("42318041000000", "not a valid time"),  # month 13
        ("420280410000F0", "time zone 0xF0"),
    ],
)
def test_bad_time_stamps_are_rejected_with_their_offset(octets: str, reason: str):
    with pytest.raises(PduError, match=reason):
        decode(f"00040181F00000{octets}00", direction="sc_to_ms")


# --- validity ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "period"),
    [
        (0, timedelta(minutes=5)),
        (143, timedelta(hours=12)),
        (144, timedelta(hours=12, minutes=30)),
        (167, timedelta(hours=24)),
        (168, timedelta(days=2)),
        (196, timedelta(days=30)),
        (197, timedelta(weeks=5)),
        (255, timedelta(weeks=63)),
    ],
)
def test_relative_validity_codes(code: int, period: timedelta):
    assert relative_period(code) == period
    assert relative_code(period) == code


def test_relative_validity_rounds_up_to_the_next_code():
    assert relative_code(timedelta(minutes=7)) == 1  # 10 minutes
    assert relative_code(timedelta(hours=25)) == 168  # 2 days
    assert relative_code(timedelta(days=31)) == 197  # 5 weeks
    assert relative_code(timedelta(0)) == 0
    with pytest.raises(PduError, match="63 weeks"):
        relative_code(timedelta(weeks=64))
    with pytest.raises(PduError, match="negative"):
        relative_code(timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("validity", "vpf", "octets"),
    [
        (None, 0, ""),
        (timedelta(days=1), 2, "A7"),
        (datetime(2025, 12, 24, 18, 0, tzinfo=timezone(timedelta(hours=-5))), 3, "5221428100000A"),
        (EnhancedValidity(timedelta(seconds=90), "seconds"), 1, "025A0000000000"),
        (EnhancedValidity(timedelta(hours=1, minutes=2, seconds=3), "hhmmss", single_shot=True), 1, "43102030000000"),
        (EnhancedValidity(timedelta(hours=12), "relative"), 1, "018F0000000000"),
        (EnhancedValidity(None, "none"), 1, "00000000000000"),
    ],
)
def test_validity_formats(validity: object, vpf: int, octets: str):
    msg = SmsSubmit(Address("+1"), "", validity=validity)  # type: ignore[arg-type]
    hex_pdu, _ = encode(msg, with_smsc=False)
    assert (int(hex_pdu[:2], 16) >> 3) & 3 == vpf
    assert hex_pdu == f"{0x01 | vpf << 3:02X}000191F10000{octets}00"
    assert decode(hex_pdu, direction="ms_to_sc", with_smsc=False) == msg


def test_reserved_enhanced_validity_is_rejected():
    with pytest.raises(PduError, match="reserved format 5"):
        decode("0009000191F100000500000000000000", direction="ms_to_sc")
    with pytest.raises(PduError, match="extension bit"):
        decode("0009000191F100008000000000000000", direction="ms_to_sc")


# --- user data and UDH -------------------------------------------------------


def test_concatenated_parts_from_the_sms_core_round_trip_with_fill_bits():
    plan = plan_sms("x" * 200, ref=0x42)
    for part in plan.parts:
        udh = Udh.from_bytes(part.udh)
        msg = SmsSubmit(Address("+1"), part.text, udh=udh, mr=part.seq)
        hex_pdu, _ = encode(msg)
        back = decode(hex_pdu, direction="ms_to_sc")
        assert back == msg
        assert isinstance(back, SmsSubmit) and back.udh is not None
        assert back.udh.concat == (0x42, 2, part.seq)
    # Part 1: UDHI set, UDL 160 = 7 septets of header + fill, then 153 septets.
    first, _ = encode(SmsSubmit(Address("+1"), plan.parts[0].text, udh=Udh.from_bytes(plan.parts[0].udh)))
    assert first[2:4] == "41"
    assert first[16:18] == "A0"
    assert first[18:30] == "050003420201"
    assert len(first) // 2 == 1 + 8 + 140


def test_sixteen_bit_concatenation_and_ports_are_interpreted():
    udh = Udh(((0x08, b"\x12\x34\x03\x02"), (0x05, b"\x0b\x84\x23\xf0"), (0x24, b"\x01")))
    msg = SmsDeliver(Address("+1"), datetime(2020, 1, 1, tzinfo=UTC), b"\x01\x02", alphabet="8bit", udh=udh)
    back = decode(encode(msg)[0], direction="sc_to_ms")
    assert back == msg
    assert isinstance(back, SmsDeliver) and back.udh is not None
    assert back.udh.concat == (0x1234, 3, 2)
    assert back.udh.ports == (2948, 9200)
    assert back.udh.elements[2] == (0x24, b"\x01")  # unknown IE kept raw
    assert Udh.concatenated(7, 2, 1, ref16=True).elements == ((0x08, b"\x00\x07\x02\x01"),)


def test_udh_fill_bits_for_every_header_length():
    for header_len in range(0, 12):
        udh = Udh(((0x70, bytes(range(header_len))),))
        msg = SmsSubmit(Address("+1"), "Fill bits @ start{}", udh=udh)
        assert decode(encode(msg)[0], direction="ms_to_sc") == msg


def test_user_data_too_long_is_refused():
    with pytest.raises(PduError, match="161 septets"):
        encode(SmsSubmit(Address("+1"), "a" * 161))
    with pytest.raises(PduError, match="one SMS holds 140"):
        encode(SmsSubmit(Address("+1"), "ж" * 71, alphabet="ucs2"))
    with pytest.raises(PduError, match=r"not in the GSM 03\.38 alphabet"):
        encode(SmsSubmit(Address("+1"), "ж"))
    with pytest.raises(PduError, match="concatenation element 0x00 has 2 octets"):
        encode(SmsSubmit(Address("+1"), "x", udh=Udh(((0x00, b"\x01\x02"),))))


def test_user_data_length_errors_name_the_octet():
    with pytest.raises(PduError, match="user data length 141 at octet 8 means 141 octets"):
        decode("0001000181F000048D", direction="ms_to_sc")
    with pytest.raises(PduError, match="UDH at octet 9: UDHL says 5 header octets but only 1 follow"):
        decode("0041000181F00004020500", direction="ms_to_sc")
    with pytest.raises(PduError, match="shorter than its 3-octet UDH"):
        decode("0041000181F0000003027000", direction="ms_to_sc")


def test_tolerated_faults_are_noted():
    # UDL 5 septets but only 2 octets: cut short, decoded as far as it goes.
    cut = decode("0001000181F0000005C834", direction="ms_to_sc")
    assert isinstance(cut, SmsSubmit)
    assert cut.user_data == "Hi" and "cut short" in cut.notes[0]
    padded = decode(HELLO_SUBMIT + "FFFF", direction="ms_to_sc")
    assert padded == decode(HELLO_SUBMIT, direction="ms_to_sc")
    assert padded.notes == ("2 octets after the end of the SMS-SUBMIT at octet 24 ignored",)
    empty = decode("0041000181F0000000", direction="ms_to_sc")
    assert isinstance(empty, SmsSubmit) and empty.udh is None and "no header" in empty.notes[0]


# --- first octet flags, MR, PID ----------------------------------------------


def test_submit_flags_and_reference():
    msg = SmsSubmit(
        Address("+1"), "x", mr=0xAB, srr=True, reject_duplicates=True, reply_path=True, pid=0x41,
        udh=Udh(()), validity=timedelta(hours=1),
    )
    hex_pdu, _ = encode(msg, with_smsc=False)
    assert hex_pdu[:4] == "F5AB"  # RP | UDHI | SRR | VPF relative | RD | SUBMIT
    assert hex_pdu[10:12] == "41"
    assert decode(hex_pdu, direction="ms_to_sc", with_smsc=False) == msg


def test_deliver_flags():
    msg = SmsDeliver(
        Address("+1"), datetime(2020, 1, 1, tzinfo=UTC), "x",
        more_messages=True, sri=True, reply_path=True, loop_prevention=True, udh=Udh(()),
    )
    hex_pdu, _ = encode(msg, with_smsc=False)
    assert hex_pdu[:2] == "E8"  # RP | UDHI | SRI | LP, TP-MMS clear: more messages waiting
    assert decode(hex_pdu, direction="sc_to_ms", with_smsc=False) == msg
    quiet = encode(SmsDeliver(Address("+1"), datetime(2020, 1, 1, tzinfo=UTC), "x"), with_smsc=False)[0]
    assert quiet[:2] == "04"


@pytest.mark.parametrize("bad", [-1, 256])
def test_out_of_range_octets_are_refused(bad: int):
    with pytest.raises(PduError, match="message reference"):
        encode(SmsSubmit(Address("+1"), "x", mr=bad))
    with pytest.raises(PduError, match="protocol identifier"):
        encode(SmsSubmit(Address("+1"), "x", pid=bad))


# --- status reports ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome", "reason"),
    [
        (0x00, "delivered", "received"),
        (0x01, "delivered", "forwarded_unconfirmed"),
        (0x1F, "delivered", "status_0x1f"),
        (0x20, "pending", "congestion"),
        (0x21, "pending", "sme_busy"),
        (0x3F, "pending", "status_0x3f"),
        (0x40, "failed", "remote_procedure_error"),
        (0x46, "failed", "validity_expired"),
        (0x62, "failed", "no_response"),
        (0x7F, "failed", "status_0x7f"),
        (0x80, "failed", "status_0x80"),
    ],
)
def test_status_report_outcomes(status: int, outcome: str, reason: str):
    t = datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=-3)))
    msg = SmsStatusReport(0x2A, Address("+447911123456"), t, t + timedelta(seconds=9), status)
    hex_pdu, _ = encode(msg)
    back = decode(hex_pdu, direction="sc_to_ms")
    assert back == msg
    assert isinstance(back, SmsStatusReport)
    assert (back.outcome, back.reason) == (outcome, reason)


def test_status_report_with_optional_fields_and_padding():
    t = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    msg = SmsStatusReport(1, Address("+1"), t, t, 0, pid=0, alphabet="ucs2", user_data="ok")
    hex_pdu, _ = encode(msg)
    assert decode(hex_pdu, direction="sc_to_ms") == msg
    bare = SmsStatusReport(1, Address("+1"), t, t, 0)
    assert decode(encode(bare)[0] + "FFFFFF", direction="sc_to_ms") == bare


def test_the_mti_means_different_types_each_way():
    t = datetime(2021, 3, 4, tzinfo=UTC)
    submit_hex, _ = encode(SmsSubmit(Address("+1"), "x"))
    report = SubmitReport(scts=t)
    report_hex, _ = encode(report)
    assert submit_hex[2:4] == report_hex[2:4] == "01"
    assert isinstance(decode(submit_hex, direction="ms_to_sc"), SmsSubmit)
    assert isinstance(decode(submit_hex, direction="stored"), SmsSubmit)
    assert decode(report_hex, direction="sc_to_ms") == report
    deliver_hex, _ = encode(SmsDeliver(Address("+1"), t, "x"))
    assert isinstance(decode(deliver_hex, direction="stored"), SmsDeliver)
    dr = DeliverReport(fcs=0xD3)
    assert decode(encode(dr)[0], direction="ms_to_sc") == dr
    command = SmsCommand(mr=5, command_type=2, message_number=0x2A, recipient=Address("+4479"), srr=True)
    command_hex, length = encode(command)
    assert command_hex == "00220500022A04914497" + "00" and length == 10
    assert decode(command_hex, direction="ms_to_sc") == command
    with pytest.raises(PduError, match="message type indicator 3 is reserved"):
        decode("0003", direction="sc_to_ms")
    with pytest.raises(PduError, match="direction must be one of"):
        decode("0004", direction="up")  # type: ignore[arg-type]


def test_submit_report_error_form_carries_the_failure_cause():
    t = datetime(2021, 3, 4, tzinfo=UTC)
    msg = SubmitReport(scts=t, fcs=0xC4)
    hex_pdu, _ = encode(msg, with_smsc=False)
    assert hex_pdu == "01C40012304000000000"
    assert decode(hex_pdu, direction="sc_to_ms", with_smsc=False) == msg
    with pytest.raises(PduError, match="failure cause 0x7F"):
        encode(SubmitReport(scts=t, fcs=0x7F))


@pytest.mark.parametrize(
    ("pdu", "reason"),
    [
        ("", "PDU is empty"),
        ("0", "odd number of digits"),
        ("00 11", "' ' at character 2"),
        ("0011", "PDU ends at octet 2 inside message reference"),
        ("0C9144", "SMSC address at octet 0: length 12 exceeds 11"),
    ],
)
def test_malformed_hex_and_short_pdus(pdu: str, reason: str):
    with pytest.raises(PduError, match=reason):
        decode(pdu, direction="ms_to_sc")


# --- round trips of random messages ------------------------------------------


@PROPERTY
@given(ps.submits)
def test_submit_round_trip(msg: SmsSubmit):
    hex_pdu, length = encode(msg)
    assert hex_pdu == hex_pdu.upper()
    assert length == len(encode(msg, with_smsc=False)[0]) // 2
    assert decode(hex_pdu, direction="ms_to_sc") == msg
    assert decode(hex_pdu, direction="stored") == msg


@PROPERTY
@given(ps.delivers)
def test_deliver_round_trip(msg: SmsDeliver):
    hex_pdu, _ = encode(msg)
    back = decode(hex_pdu, direction="sc_to_ms")
    assert back == msg
    assert isinstance(back, SmsDeliver) and back.scts.utcoffset() == msg.scts.utcoffset()
    assert decode(hex_pdu, direction="stored") == msg


@PROPERTY
@given(ps.status_reports)
def test_status_report_round_trip(msg: SmsStatusReport):
    hex_pdu, _ = encode(msg)
    assert decode(hex_pdu, direction="sc_to_ms") == msg
    assert decode(hex_pdu, direction="stored") == msg


@PROPERTY
@given(ps.submit_reports)
def test_submit_report_round_trip(msg: SubmitReport):
    assert decode(encode(msg)[0], direction="sc_to_ms") == msg


@PROPERTY
@given(ps.commands)
def test_command_round_trip(msg: SmsCommand):
    assert decode(encode(msg)[0], direction="ms_to_sc") == msg


def test_command_data_is_bounded():
    with pytest.raises(PduError, match="158 octets exceeds 157"):
        encode(SmsCommand(0, 0, 0, Address("+1"), data=bytes(158)))
    with pytest.raises(PduError, match="command data length 158 at octet 9 exceeds 157"):
        decode("0002000000000191F1" + "9E", direction="ms_to_sc")


@PROPERTY
@given(ps.deliver_reports)
def test_deliver_report_round_trip(msg: DeliverReport):
    assert decode(encode(msg)[0], direction="ms_to_sc") == msg


# --- with the SMS core: split, PDUs over the air, reassembly -----------------


@PROPERTY
@given(st.one_of(gsm_text, ucs2_text), st.integers(0, 0xFFFF), st.booleans(), st.permutations(range(12)))
def test_long_texts_split_sent_and_reassembled(text: str, ref: int, ref16: bool, order: list[int]):
    """plan_sms parts -> SMS-SUBMIT PDUs -> decoded -> the same parts as
    SMS-DELIVERs -> decoded -> Reassembler, in any order: the text comes back."""
    plan = plan_sms(text, ref=ref if ref16 else ref & 0xFF, ref16=ref16)
    alphabet = plan.encoding.value
    delivered = []
    for part in plan.parts:
        udh = Udh.from_bytes(part.udh) if part.udh else None
        sent, _ = encode(SmsSubmit(Address("+1"), part.text, alphabet=alphabet, udh=udh))
        submit = decode(sent, direction="ms_to_sc")
        assert isinstance(submit, SmsSubmit) and submit.user_data == part.text
        deliver = SmsDeliver(Address("+4479"), datetime(2026, 12, 1, tzinfo=UTC), submit.user_data, alphabet, udh=udh)
        delivered.append(decode(encode(deliver)[0], direction="sc_to_ms"))
    reassembler = Reassembler(timeout_s=60)
    results = []
    for index in sorted(range(len(delivered)), key=lambda i: order[i % len(order)] * 1000 + i):
        msg = delivered[index]
        assert isinstance(msg, SmsDeliver) and isinstance(msg.user_data, str)
        concat = msg.udh.concat if msg.udh else None
        ref_, total, seq = concat if concat else (0, 1, 1)
        got = reassembler.add(Fragment("modem", msg.sender.number, ref_, total, seq, msg.user_data, 0.0))
        if got is not None:
            results.append(got)
    assert [r.text for r in results] == [plan.text]
    assert not results[0].partial
