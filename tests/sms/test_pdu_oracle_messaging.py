"""The PDU codec against python-messaging (pmarti), an independent pure
Python implementation, over random messages. It is a test oracle only;
msghub never imports it.

- python-messaging's SmsSubmit.to_pdu() (one PDU, or several with its own
  concatenation UDH for long texts), decoded by us.
- Our SMS-DELIVER and SMS-STATUS-REPORT, decoded by its SmsDeliver.

Oracle quirks, and why the messages look the way they do:
- It decodes UCS-2 unit by unit, so characters outside the BMP come back
  as two lone surrogates: only BMP text is given to it.
- Its 7-bit alphanumeric sender is unpacked from whole octets, so spare
  bits can surface as a trailing "@": "@" is kept out of those senders and
  trailing "@"s of its answer are ignored.
- It reads two-digit years with strptime's %y (69-99 = 1969-1999): years
  1990-2068 only. It gives a DELIVER's time as naive UTC, and a status
  report's times as naive wall-clock times without their zone.
- Its splitter can cut an escape sequence in two at a part boundary: long
  GSM texts given to it hold no extension characters.
- Its 7-bit decoder raises TypeError on empty text: GSM texts given to its
  SmsDeliver are not empty.
- Its absolute validity gets negative zones wrong (it uses
  timedelta.seconds): only zones east of UTC are given there.
- It builds no message-waiting or automatic-deletion DCS, no enhanced
  validity and no reports; those are covered by test_pdu.py round trips
  and by gammu.
"""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from messaging.sms import SmsDeliver as MDeliver
from messaging.sms import SmsSubmit as MSubmit

from msghub.sms.gsm7 import EXTENSION, septet_length
from msghub.sms.pdu import Address, SmsDeliver, SmsStatusReport, SmsSubmit, Udh, decode, encode

from . import pdu_strategies as ps
from .helpers import GSM_CHARS, PROPERTY
from .helpers import gsm_text as long_gsm_text
from .helpers import ucs2_text as long_ucs2_text


def splits_cleanly(text: str) -> bool:
    """python-messaging under Python 3 can cut an escape sequence in two at a
    part boundary (it compares a bytes item with '\\x1b'): long GSM texts
    given to it have no extension characters."""
    return septet_length(text) <= 160 or not any(ch in EXTENSION.values() for ch in text)


bmp = st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",))
numbers = st.text(alphabet="0123456789", min_size=3, max_size=15)
years = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2068, 12, 31, 23, 59, 59))
stamps = st.builds(lambda d, tz: d.replace(microsecond=0, tzinfo=tz), years, ps.zones)
east = st.integers(0, 56).map(lambda q: timezone(timedelta(minutes=15 * q)))
absolute_east = st.builds(lambda d, tz: d.replace(microsecond=0, tzinfo=tz), years, east)


@PROPERTY
@given(
    st.one_of(long_gsm_text.filter(splits_cleanly), long_ucs2_text.filter(lambda t: all(ord(c) <= 0xFFFF for c in t))),
    numbers,
    st.booleans(),
    st.none() | st.integers(0, 3),
    st.one_of(st.none(), ps.relative, absolute_east),
    st.booleans(),
    st.integers(0, 255),
    st.none() | numbers,
)
def test_python_messaging_submits_decode(
    text: str, number: str, plus: bool, klass: int | None, validity: Any, srr: bool, ref: int, csca: str | None
):
    submit = MSubmit(("+" if plus else "") + number, text)
    if klass is not None:
        submit.klass = klass
    submit.validity = validity
    submit.request_status = srr
    submit.ref = ref
    submit.rand_id = ref ^ 0x5A
    submit.csca = csca and "+" + csca
    pdus = submit.to_pdu()
    parts = [decode(p.pdu, direction="ms_to_sc") for p in pdus]
    expected_to = Address("+" + number) if plus else Address(number, ton=0)
    for seq, (pdu, msg) in enumerate(zip(pdus, parts, strict=True), start=1):
        assert isinstance(msg, SmsSubmit)
        assert msg.recipient == expected_to
        assert msg.alphabet == {0x00: "gsm7", 0x08: "ucs2"}[submit.fmt]  # its choice: UCS-2 for ""
        assert (msg.message_class, msg.srr, msg.mr, msg.pid) == (klass, srr, ref, 0)
        assert msg.validity == validity
        assert msg.smsc == (Address("+" + csca) if csca else None)
        assert encode(msg)[1] == int(pdu.length)
        if len(pdus) > 1:
            assert msg.udh is not None and msg.udh.concat == ((ref ^ 0x5A) & 0xFF, len(pdus), seq)
        else:
            assert msg.udh is None
    assert "".join(str(m.user_data) for m in parts if isinstance(m, SmsSubmit)) == text


senders = st.one_of(
    numbers.map(lambda n: Address("+" + n)),
    numbers.map(lambda n: Address(n, ton=0)),
    st.text(alphabet=[c for c in GSM_CHARS if c not in "@{}[]~\\|^€\f"], min_size=1, max_size=11).map(
        lambda t: Address(t, ton=5, npi=0)
    ),
)
concats = st.none() | st.builds(
    lambda ref, total, seq, ref16: Udh.concatenated(ref if ref16 else ref & 0xFF, total, min(seq, total), ref16=ref16),
    st.integers(0, 0xFFFF), st.integers(1, 9), st.integers(1, 9), st.booleans(),
)
ports = st.builds(lambda dst, src: Udh(((0x05, dst.to_bytes(2, "big") + src.to_bytes(2, "big")),)), ps.word, ps.word)


@PROPERTY
@given(
    st.one_of(
        st.tuples(st.just("gsm7"), st.text(alphabet=GSM_CHARS, min_size=1, max_size=60)),
        st.tuples(st.just("ucs2"), st.text(alphabet=bmp, max_size=60)),
        st.tuples(st.just("8bit"), st.binary(max_size=100)),
    ),
    senders,
    stamps,
    st.none() | st.integers(0, 3),
    concats | ports,
    st.integers(0, 255),
    st.none() | numbers,
)
def test_our_delivers_decoded_by_python_messaging(
    payload: tuple[str, Any], sender: Address, scts: datetime, klass: int | None, udh: Udh | None, pid: int,
    smsc: str | None,
):
    alphabet, data = payload
    msg = SmsDeliver(
        sender, scts, data, alphabet=alphabet, message_class=klass, udh=udh, pid=pid,
        smsc=Address("+" + smsc) if smsc else None,
    )
    theirs = MDeliver(encode(msg)[0]).data
    number = theirs["number"]
    assert (number.rstrip("@") if sender.ton == 5 else number) == sender.number
    assert theirs["text"] == data
    assert theirs["pid"] == pid
    assert theirs["date"] == scts.astimezone(UTC).replace(tzinfo=None)
    assert theirs["csca"] == (msg.smsc.number if msg.smsc else None)
    assert theirs["fmt"] == {"gsm7": 0x00, "8bit": 0x04, "ucs2": 0x08}[alphabet]
    assert (theirs["dcs"] & 0x13 if klass is not None else theirs["dcs"] & 0x10) == (
        0x10 | klass if klass is not None else 0
    )
    if udh is not None and udh.concat is not None:
        assert (theirs["ref"], theirs["cnt"], theirs["seq"]) == tuple(udh.concat)
    if udh is not None and udh.ports is not None:
        sms = MDeliver(encode(msg)[0])
        assert (sms.udh.ports.dest_port, sms.udh.ports.orig_port) == tuple(udh.ports)


@PROPERTY
@given(st.integers(0, 255), st.booleans(), numbers, stamps, stamps, st.integers(0, 255))
def test_our_status_reports_decoded_by_python_messaging(
    mr: int, plus: bool, number: str, scts: datetime, discharge: datetime, status: int
):
    to = Address("+" + number) if plus else Address(number, ton=0)
    msg = SmsStatusReport(mr, to, scts, discharge, status)
    theirs = MDeliver(encode(msg)[0]).data
    assert theirs["type"] == 0x03
    assert theirs["ref"] == mr
    sr = theirs["sr"]
    assert sr["recipient"] == to.number
    assert sr["scts"] == scts.replace(tzinfo=None)
    assert sr["dt"] == discharge.replace(tzinfo=None)
    assert sr["status"] == status
