"""The 55 verified frames of ../shared/vectors/ucp/frames.txt: every one decodes,
re-encodes byte for byte, and the ones from the specification decode to the
values the specification (and Protocol::EMIUCP's tests) give for them."""

import os
from datetime import datetime
from pathlib import Path

import pytest

from msghub.connectors.emi import (
    Ack,
    DeliveryNotification,
    DeliveryStatus,
    Nack,
    SessionLogin,
    ShortMessageOperation,
    SubmitSM,
    checksum,
    decode_frame,
    decode_message,
    encode_frame,
    encode_message,
    wrap,
)


def vectors_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"
    return Path(os.environ.get("MSGHUB_VECTORS", default))


def vector_frames() -> list[str]:
    path = vectors_dir() / "ucp" / "frames.txt"
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text("ascii").splitlines() if line.strip()]


FRAMES = vector_frames()
needs_vectors = pytest.mark.skipif(not FRAMES, reason="UCP vectors not found (MSGHUB_VECTORS)")


def by_prefix(prefix: str) -> str:
    matches = [frame for frame in FRAMES if frame.startswith(prefix)]
    assert len(matches) == 1, prefix
    return matches[0]


@needs_vectors
def test_all_55_vectors_present() -> None:
    assert len(FRAMES) == 55


@needs_vectors
@pytest.mark.parametrize("text", FRAMES)
def test_vector_round_trips_byte_exact(text: str) -> None:
    frame = decode_frame(text)
    assert encode_frame(frame) == text.encode("ascii")
    assert decode_frame(wrap(text.encode("ascii"))) == frame
    message = decode_message(text)
    assert encode_message(message) == text.encode("ascii")
    assert message.to_frame() == frame


@needs_vectors
@pytest.mark.parametrize("text", FRAMES)
def test_vector_header_matches_its_content(text: str) -> None:
    frame = decode_frame(text)
    assert text[:2] == f"{frame.trn:02d}"
    assert int(text[3:8]) == len(text)
    assert text[-2:] == checksum(text[:-2].encode("ascii"))


@needs_vectors
def test_submit_with_notification_and_validity() -> None:
    text = by_prefix("18/00113/O/51/")
    op = decode_message(text)
    assert isinstance(op, SubmitSM)
    assert (op.adc, op.oadc, op.nadc, op.npid) == ("012345", "09876", "1920870340125000", "0539")
    assert op.notification_requested and op.nt == "4"
    assert op.validity_time == datetime(1996, 12, 30, 12, 12)
    assert op.text == "Message 51"


@needs_vectors
def test_transparent_submit_with_deferred_delivery() -> None:
    op = decode_message(by_prefix("39/00099/O/51/"))
    assert isinstance(op, SubmitSM)
    assert op.mt == "4" and op.nb == "32"
    assert op.user_data == bytes.fromhex("F5AA34DE")
    assert op.deferred_time == datetime(1997, 8, 8, 18, 0)
    assert (op.lrq, op.lrad, op.lpid, op.mcls) == ("1", "0545765", "0122", "1")


@needs_vectors
def test_alphanumeric_senders() -> None:
    hello = decode_message(by_prefix("00/00120/O/51/"))
    net_ucp = decode_message(by_prefix("01/00154/O/51/"))
    assert isinstance(hello, SubmitSM) and isinstance(net_ucp, SubmitSM)
    assert (hello.otoa, hello.sender, hello.text) == ("5039", "test", "hello world")
    assert net_ucp.sender == "ALPHA@NUM"
    assert net_ucp.text == "Short Message for NEMUX by Net::UCP"


@needs_vectors
def test_udh_and_dcs_from_xser() -> None:
    op = decode_message(by_prefix("84/00236/O/51/"))
    assert isinstance(op, ShortMessageOperation)
    assert op.udh == bytes.fromhex("027000")
    assert op.xser_dcs == 0xF6 and op.data_coding == 0xF6
    assert op.text is None  # DCS F6 is 8-bit data
    assert len(op.user_data) * 8 == int(op.nb) == 528


@needs_vectors
def test_xser_with_other_services_is_kept() -> None:
    op = decode_message(by_prefix("00/00120/O/51/"))
    assert isinstance(op, ShortMessageOperation)
    assert [(item.type, item.data) for item in op.xser_items] == [
        (0x02, b"\x00"),
        (0x06, b"\x01"),
        (0x07, b"\x01"),
    ]
    assert op.udh is None and op.xser_dcs == 0


@needs_vectors
def test_deliver_and_notification() -> None:
    deliver = decode_message(by_prefix("00/00120/O/52/"))
    assert isinstance(deliver, ShortMessageOperation)
    assert deliver.text == "Call you back later."
    assert deliver.scts_time == datetime(1996, 3, 12, 11, 10, 55)
    note = decode_message(by_prefix("00/00234/O/53/"))
    assert isinstance(note, DeliveryNotification)
    assert note.status is DeliveryStatus.BUFFERED and note.reason == 108
    assert note.submit_reference == ("3155555", "090196161057")
    assert note.dscts_time == datetime(1996, 1, 9, 16, 11, 5)
    assert note.text == ("Message for 3155555, with identification 960109161057 has been buffered")


@needs_vectors
def test_results() -> None:
    ack = decode_message(by_prefix("00/00039/R/51/"))
    assert isinstance(ack, Ack)
    assert ack.submit_reference == ("012234", "090996101010")
    nack = decode_message(by_prefix("00/00022/R/51/"))
    assert isinstance(nack, Nack)
    assert (nack.ec, nack.description, nack.permanent) == ("31", "Fax group not supported", True)
    extra = decode_message(by_prefix("04/00024/R/31/"))
    assert isinstance(extra, Ack) and extra.extra == ("0003",)


@needs_vectors
def test_session_login_password() -> None:
    login = decode_message(by_prefix("02/00059/O/60/"))
    assert isinstance(login, SessionLogin)
    assert (login.oadc, login.styp, login.vers, login.password) == (
        "07656765",
        "1",
        "0100",
        "Password",
    )
