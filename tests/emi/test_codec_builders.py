"""Builders: make_submit and friends produce frames the specification's own
examples match byte for byte, and that decode back to what went in."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msghub.connectors.emi import (
    Ack,
    DeliverSM,
    DeliveryStatus,
    FieldError,
    Frame,
    FrameReader,
    Nack,
    Notify,
    SubmitSM,
    ack_frame,
    alert_frame,
    decode_frame,
    decode_message,
    encode_frame,
    encode_message,
    login_frame,
    make_deliver,
    make_notification,
    make_submit,
    nack_frame,
    submit_ack_sm,
    to_wire,
)
from msghub.sms.udh import concat_udh

PROPERTY = settings(max_examples=200, deadline=None)
NOW = datetime(2024, 5, 17, 10, 30)


def wire_round_trip(op: SubmitSM) -> SubmitSM:
    """Through bytes, the stream framer and the decoder, as a peer sees it."""
    frames = FrameReader().feed(to_wire(op))
    assert len(frames) == 1 and isinstance(frames[0], bytes)
    decoded = decode_message(frames[0])
    assert isinstance(decoded, SubmitSM)
    return decoded


def test_submit_matches_specification_example() -> None:
    op = make_submit(
        "012345",
        sender="09876",
        text="Message 51",
        notify=Notify.BUFFERED,
        notify_address="1920870340125000",
        notify_pid="0539",
        validity=datetime(1996, 12, 30, 12, 12),
        trn=18,
    )
    assert encode_message(op) == (
        b"18/00113/O/51/012345/09876//1/1920870340125000/4/0539//////3012961212"
        b"//////3//4D657373616765203531/////////////CD"
    )


def test_notification_matches_specification_example() -> None:
    op = make_notification(
        "1299998",
        "3155555",
        "090196161057",
        DeliveryStatus.BUFFERED,
        delivered_at=datetime(1996, 1, 9, 16, 11, 5),
        reason=108,
    )
    assert encode_message(op) == (
        b"00/00234/O/53/1299998/3155555/////////////090196161057/1/108/090196161105/3//"
        b"4D65737361676520666F7220333135353535352C2077697468206964656E74696669636174696F6E"
        b"2039363031303931363130353720686173206265656E206275666665726564/////////////1F"
    )


def test_deliver_matches_specification_example_but_for_dcs() -> None:
    op = make_deliver(
        "076523578", "07686745", datetime(1996, 3, 12, 11, 10, 55), text="Call you back later."
    )
    spec = decode_message(
        "00/00120/O/52/076523578/07686745/////////////120396111055////3//"
        "43616C6C20796F75206261636B206C617465722E///0//////////A3"
    )
    assert isinstance(spec, DeliverSM)
    assert op == replace(spec, dcs="")  # the example also sets the old DCs field


def test_login_and_alert_match_specification_examples() -> None:
    login = login_frame("07656765", "Password", trn=2)
    assert login.fields[:4] == ("07656765", "6", "5", "1")
    spec_login = replace(login, fields=("07656765", "2", "1", *login.fields[3:]))
    assert (
        encode_frame(spec_login) == b"02/00059/O/60/07656765/2/1/1/50617373776F7264//0100//////61"
    )
    assert encode_frame(alert_frame("0234765439845", pid="0139", trn=2)) == (
        b"02/00035/O/31/0234765439845/0139/A0"
    )
    assert alert_frame("123").fields == ("123", "0539")


def test_results_match_specification_examples() -> None:
    submit = decode_frame("00/00070/O/51/123456789/321/////////////////3//504F4E47/////////////40")
    sm = submit_ack_sm("012234", datetime(1996, 9, 9, 10, 10, 10))
    assert encode_frame(ack_frame(submit, sm=sm)) == b"00/00039/R/51/A//012234:090996101010/68"
    call = decode_frame("00/00041/O/01/0888444///2/716436383334/C5")
    assert encode_frame(replace(nack_frame(call, "02"), trn=12)) == b"12/00022/R/01/N/02//03"
    assert encode_frame(ack_frame(login_frame("u", "p"))) == b"00/00019/R/60/A//6D"
    with pytest.raises(FieldError):
        ack_frame(call, mvp="0101961200")  # a result to 01 has no MVP
    with pytest.raises(FieldError):
        nack_frame(call, "2")
    with pytest.raises(FieldError):
        ack_frame(decode_frame("00/00019/R/60/A//6D"))


def test_gsm_text_goes_as_amsg() -> None:
    op = wire_round_trip(make_submit("+4917012345", sender="Hub", text="Hi €"))
    assert (op.adc, op.mt, op.nb, op.msg) == ("004917012345", "3", "", "486920" + "1B65")
    assert (op.otoa, op.sender) == ("5039", "Hub")
    assert op.xser == "" and op.text == "Hi €"


def test_unicode_text_goes_as_ucs2_transparent() -> None:
    op = wire_round_trip(make_submit("123", text="Привет 👋"))
    data = "Привет 👋".encode("utf-16-be")
    assert (op.mt, op.nb, op.msg) == ("4", str(8 * len(data)), data.hex().upper())
    assert op.xser == "020108" and op.text == "Привет 👋"


def test_udh_and_class_dcs() -> None:
    udh = concat_udh(7, 2, 1)
    op = wire_round_trip(make_submit("123", text="part", udh=udh, dcs=0x10))
    assert op.udh == udh and op.xser_dcs == 0x10
    assert op.xser == "01" + f"{len(udh):02X}" + udh.hex().upper() + "020110"
    assert op.text == "part"


def test_binary_user_data() -> None:
    op = wire_round_trip(make_submit("123", user_data=b"\x00\xff\x10", udh=b"\x02\x70\x00"))
    assert (op.mt, op.nb, op.user_data, op.text) == ("4", "24", b"\x00\xff\x10", None)
    assert op.xser_dcs == 0x04 and op.udh == b"\x02\x70\x00"


def test_senders() -> None:
    plus_text = make_submit("1", sender="+49x", text="x")  # '+' and letters: a name
    assert (plus_text.otoa, plus_text.sender) == ("5039", "+49x")
    international = make_submit("1", sender="+4912345", text="x")
    assert (international.oadc, international.otoa) == ("4912345", "1139")
    assert international.sender == "+4912345"
    numeric = make_submit("1", sender="12345", text="x")
    assert (numeric.oadc, numeric.otoa) == ("12345", "")
    none = make_submit("1", text="x")
    assert (none.oadc, none.otoa) == ("", "")


def test_times_notification_priority() -> None:
    op = make_submit(
        "1",
        text="x",
        validity=90,
        deferred=timedelta(hours=1),
        now=NOW,
        notify=True,
        priority=True,
    )
    assert (op.vp, op.dd, op.ddt) == ("1705241200", "1", "1705241130")
    assert (op.nrq, op.nt, op.pr) == ("1", "3", "1")
    assert op.notification_types == Notify.DELIVERED | Notify.NON_DELIVERED
    aware = datetime(2024, 5, 17, 8, 0, tzinfo=UTC)
    tz = timezone(timedelta(hours=2))
    assert make_submit("1", text="x", validity=aware, tz=tz).vp == "1705241000"
    plain = make_submit("1", text="x")
    assert (plain.vp, plain.dd, plain.nrq, plain.pr) == ("", "", "", "")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": "a", "user_data": b"a"}, "Msg"),
        ({}, "Msg"),
        ({"text": "a", "dcs": 0x04}, "Msg"),
        ({"user_data": b"a", "dcs": 0x00}, "TMsg"),
        ({"text": "a", "dcs": 256}, "XSer"),
        ({"text": "a", "udh": b"\x05\x00\x03"}, "XSer"),
        ({"text": "a", "sender": "TwelveLetter"}, "OAdC"),
        ({"text": "a", "sender": "+" + "1" * 17}, "OAdC"),
        ({"text": "a", "notify": 9}, "NT"),
        ({"text": "a", "validity": datetime(2090, 1, 1)}, "VP"),
    ],
)
def test_make_submit_refusals(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(FieldError) as info:
        make_submit("123", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize("recipient", ["", "+", "12a", "1" * 17])
def test_bad_recipient(recipient: str) -> None:
    with pytest.raises(FieldError) as info:
        make_submit(recipient, text="x")
    assert info.value.field == "AdC"


@PROPERTY
@given(text=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80))
def test_any_text_survives_the_wire(text: str) -> None:
    op = wire_round_trip(make_submit("4912345", text=text, trn=5))
    assert op.text == text
    assert op.trn == 5


def test_ack_and_nack_typed_round_trip() -> None:
    ack = Ack(ot="51", trn=4, sm="123:010124101010")
    assert decode_message(encode_message(ack)) == ack
    nack = Nack(ot="51", trn=4, ec="24", sm="too long")
    assert decode_message(encode_message(nack)) == nack
    assert isinstance(decode_message(to_wire(Frame(4, "R", "51", ("N", "24", "")))), Nack)


def test_notification_refusals() -> None:
    with pytest.raises(FieldError) as info:
        make_notification("1", "2", "0101961200", DeliveryStatus.DELIVERED)
    assert info.value.field == "SCTS"
    with pytest.raises(FieldError) as info:
        make_notification("1", "2", "010196120000", DeliveryStatus.DELIVERED, reason=1000)
    assert info.value.field == "Rsn"
    note = make_notification("1", "2", "010196120000", DeliveryStatus.NOT_DELIVERED, reason=5)
    assert (note.dst, note.rsn, note.dscts) == ("2", "005", "")
    assert note.text == "Message for 2, with identification 960101120000 could not be delivered"
