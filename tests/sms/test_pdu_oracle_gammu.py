"""The PDU codec against python-gammu (libgammu) over random messages.

- Our encode(), decoded by gammu.DecodePDU: SUBMIT, DELIVER, STATUS-REPORT.
- gammu.EncodePDU's PDUs (SUBMIT, DELIVER; it encodes no status report),
  decoded by us and by gammu.DecodePDU: the two decoders must agree.

Oracle quirks, and why the messages look the way they do (see also
tests/sms/test_oracle_gammu.py):
- DecodePDU's 7-bit Text is sized in septets, so each escape leaves one
  character of undefined memory at the end: only the prefix is compared.
- In UCS-2 libgammu treats "~" as an escape and NUL ends its strings; an
  alphanumeric address with "@" (septet 0) is cut there. Such texts are
  not given to it.
- It reads two-digit years 90-99 as 1990 + yy (2080-2089): years 2000-2089.
- It knows no enhanced validity (refuses VPF 1) and shows an absolute one as
  "NA"; its Class ignores bit 4 in the 01xx (automatic deletion) DCS group.
  Neither is generated here.
- DecodePDUFrame leaves ReplyViaSameSMSC, RejectDuplicates and the status
  report request unset, so they are not compared.
- EncodePDU ignores the time zone of DateTime (writes +00 and the wall-clock
  time) and parses week validities such as "5W" as days: DateTime is naive
  and the validity is compared between the two decoders only.
"""

import unicodedata
from datetime import datetime, timedelta
from typing import Any

import gammu
from hypothesis import given
from hypothesis import strategies as st

from msghub.sms.gsm7 import is_gsm7
from msghub.sms.pdu import Address, MessageWaiting, SmsDeliver, SmsStatusReport, SmsSubmit, decode, encode
from msghub.sms.pdu.times import relative_code

from . import pdu_strategies as ps
from .helpers import GSM_CHARS, PROPERTY
from .helpers import gsm_text as long_gsm_text
from .helpers import ucs2_text as long_ucs2_text

CODINGS = {"gsm7": "Default_No_Compression", "ucs2": "Unicode_No_Compression", "8bit": "8bit"}


def gammu_safe_ucs2(text: str) -> bool:
    return "~" not in text and all(ch in "\n\r" or unicodedata.category(ch) != "Cc" for ch in text)


def gammu_validity(period: timedelta | None) -> str:
    """How DecodePDU shows a relative validity period."""
    if period is None:
        return "NA"
    if relative_code(period) == 255:
        return "Max"
    if period <= timedelta(days=1):
        return f"{period // timedelta(minutes=1)}M"
    if period <= timedelta(days=30):
        return f"{period.days}D"
    return f"{period.days // 7}W"


numbers = st.one_of(
    ps.international,
    st.builds(Address, ps.digits, st.sampled_from([0, 2]), st.just(1)),
    st.builds(Address, st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ", min_size=1,
                               max_size=11), st.just(5), st.just(0)),
)
texts = st.one_of(
    st.tuples(st.just("gsm7"), st.text(alphabet=GSM_CHARS, max_size=60)),
    st.tuples(st.just("ucs2"), ps.ucs2_text.filter(gammu_safe_ucs2)),
    st.tuples(st.just("8bit"), st.binary(max_size=100)),
)
years_gammu_reads = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2089, 12, 31, 23, 59, 59))
stamps = st.builds(lambda d, tz: d.replace(microsecond=0, tzinfo=tz), years_gammu_reads, ps.zones)
smscs = st.none() | ps.international


def _ours_common(msg: SmsSubmit | SmsDeliver, theirs: dict[str, Any]) -> None:
    number = (msg.recipient if isinstance(msg, SmsSubmit) else msg.sender).number
    assert theirs["Number"] == number
    assert theirs["Coding"] == CODINGS[msg.alphabet]
    assert theirs["Class"] == (-1 if msg.message_class is None else msg.message_class)
    assert theirs["UDH"]["Text"] == (msg.udh.to_bytes() if msg.udh else b"")
    if msg.alphabet == "gsm7":
        assert isinstance(msg.user_data, str)
        assert theirs["Text"][: len(msg.user_data)] == msg.user_data
    else:
        assert theirs["Text"] == msg.user_data
    assert theirs["SMSC"]["Number"] == (msg.smsc.number if msg.smsc else "")


@PROPERTY
@given(
    texts, numbers, ps.udhs, st.none() | st.integers(0, 3), st.integers(0, 255), st.none() | ps.relative, smscs,
)
def test_our_submit_decoded_by_gammu(
    text: tuple[str, Any], to: Address, udh: Any, klass: int | None, mr: int, validity: timedelta | None, smsc: Any
):
    alphabet, data = text
    msg = SmsSubmit(to, data, alphabet=alphabet, message_class=klass, udh=udh, mr=mr, validity=validity, smsc=smsc)
    theirs = gammu.DecodePDU(bytes.fromhex(encode(msg)[0]), True)
    assert theirs["Type"] == "Submit"
    assert theirs["MessageReference"] == mr
    assert theirs["SMSC"]["Validity"] == gammu_validity(validity)
    _ours_common(msg, theirs)


@PROPERTY
@given(texts, numbers, ps.udhs, st.none() | st.integers(0, 3), stamps, smscs)
def test_our_deliver_decoded_by_gammu(
    text: tuple[str, Any], sender: Address, udh: Any, klass: int | None, scts: datetime, smsc: Any
):
    alphabet, data = text
    msg = SmsDeliver(sender, scts, data, alphabet=alphabet, message_class=klass, udh=udh, smsc=smsc)
    theirs = gammu.DecodePDU(bytes.fromhex(encode(msg)[0]), True)
    assert theirs["Type"] == "Deliver"
    assert theirs["DateTime"] == scts
    assert theirs["DateTime"].utcoffset() == scts.utcoffset()
    _ours_common(msg, theirs)


def gammu_status_word(status: int) -> str:
    if status < 0x03:
        return "Delivered"
    if status & 0x40:
        return "Failed"
    if status & 0x20:
        return "Pending"
    return "Unknown"


@PROPERTY
@given(st.integers(0, 255), numbers.filter(lambda a: a.ton != 5), stamps, stamps, st.integers(0, 255), smscs)
def test_our_status_report_decoded_by_gammu(
    mr: int, to: Address, scts: datetime, discharge: datetime, status: int, smsc: Any
):
    msg = SmsStatusReport(mr, to, scts, discharge, status, smsc=smsc)
    theirs = gammu.DecodePDU(bytes.fromhex(encode(msg)[0]), True)
    assert theirs["Type"] == "Status_Report"
    assert (theirs["MessageReference"], theirs["Number"], theirs["DeliveryStatus"]) == (mr, to.number, status)
    assert (theirs["DateTime"], theirs["SMSCDateTime"]) == (scts, discharge)
    word = theirs["Text"]
    assert word == gammu_status_word(status)
    if status < 0x80:
        expected = {"Delivered": "delivered", "Failed": "failed", "Pending": "pending"}.get(word, "delivered")
        assert msg.outcome == expected


GAMMU_BASE = {
    "Folder": 0, "InboxFolder": 0, "Memory": "", "Location": 0, "Name": "", "State": "UnSent",
    "ReplaceMessage": 0, "DeliveryStatus": 0,
}
GAMMU_VALIDITY = st.sampled_from(["5M", "10M", "505M", "720M", "750M", "1440M", "2D", "4D", "30D", "1W", "Max"])


@PROPERTY
@given(
    texts, numbers.filter(lambda a: a.ton != 5), ps.udhs, st.integers(-1, 3), st.integers(0, 255), st.booleans(),
    st.booleans(), GAMMU_VALIDITY, st.sampled_from(["", "+447785016005", "+12345"]),
    st.sampled_from(["Submit", "Deliver"]),
    years_gammu_reads.map(lambda d: d.replace(microsecond=0)),
)
def test_gammu_encoded_pdus_decode_alike(
    text: tuple[str, Any], number: Address, udh: Any, klass: int, mr: int, rd: bool, rp: bool, validity: str,
    smsc: str, kind: str, when: datetime,
):
    alphabet, data = text
    sms = GAMMU_BASE | {
        "Type": kind,
        "Number": number.number,
        "Text": data,
        "Coding": CODINGS[alphabet],
        "Class": klass,
        "MessageReference": mr,
        "RejectDuplicates": int(rd),
        "ReplyViaSameSMSC": int(rp),
        "SMSC": {"Location": 0, "Number": smsc, "Validity": validity},
        "UDH": {"Type": "UserUDH", "Text": udh.to_bytes()} if udh else {"Type": "NoUDH", "Text": b""},
        "DateTime": when,
    }
    pdu = gammu.EncodePDU(sms, kind)
    theirs = gammu.DecodePDU(pdu, True)
    msg = decode(pdu, direction="ms_to_sc" if kind == "Submit" else "sc_to_ms")
    assert isinstance(msg, SmsSubmit if kind == "Submit" else SmsDeliver)
    assert msg.reply_path is rp
    if isinstance(msg, SmsSubmit):
        assert (msg.mr, msg.reject_duplicates) == (mr, rd)
        assert gammu_validity(msg.validity) == theirs["SMSC"]["Validity"]
    else:
        assert msg.scts.replace(tzinfo=None) == when
        assert msg.scts.utcoffset() == timedelta(0)
    _ours_common(msg, theirs)


@PROPERTY
@given(st.one_of(texts.filter(lambda t: t[0] != "8bit")), numbers, ps.waitings, stamps)
def test_message_waiting_groups_decoded_by_gammu(text: tuple[str, Any], sender: Address, waiting: Any, scts: datetime):
    """DCS 1100-1110 (TS 23.038 section 4): gammu reads the alphabet and no class."""
    alphabet, data = text
    if alphabet == "ucs2":
        waiting = MessageWaiting(waiting.active, waiting.kind, store=True)
    msg = SmsDeliver(sender, scts, data, alphabet=alphabet, waiting=waiting)
    theirs = gammu.DecodePDU(bytes.fromhex(encode(msg)[0]), True)
    assert (theirs["Coding"], theirs["Class"]) == (CODINGS[alphabet], -1)
    _ours_common(msg, theirs)


@PROPERTY
@given(st.one_of(long_gsm_text, long_ucs2_text.filter(gammu_safe_ucs2)).filter(bool), st.booleans())
def test_gammu_long_messages_decode_and_join(text: str, ref16: bool):
    """gammu.EncodeSMS splits a long text and EncodePDU writes each part: we
    read every part's concatenation IE and text, and the parts join up."""
    unicode = not is_gsm7(text)
    entry = "ConcatenatedTextLong16bit" if ref16 else "ConcatenatedTextLong"
    parts = gammu.EncodeSMS({"Class": -1, "Unicode": unicode, "Entries": [{"ID": entry, "Buffer": text}]})
    decoded = []
    for part in parts:
        sms = GAMMU_BASE | part | {
            "Type": "Submit", "Number": "+447911123456", "MessageReference": 0, "RejectDuplicates": 0,
            "ReplyViaSameSMSC": 0, "SMSC": {"Location": 0, "Number": "", "Validity": "Max"},
        }
        msg = decode(gammu.EncodePDU(sms), direction="ms_to_sc")
        assert isinstance(msg, SmsSubmit)
        assert msg.alphabet == ("ucs2" if unicode else "gsm7")
        assert (msg.udh.to_bytes() if msg.udh else b"") == part["UDH"]["Text"]
        decoded.append(msg)
    if len(parts) > 1:
        concats = [m.udh.concat for m in decoded if m.udh]
        assert [(c.total, c.seq) for c in concats if c] == [(len(parts), i) for i in range(1, len(parts) + 1)]
        assert len({c.ref for c in concats if c}) == 1
    assert "".join(str(m.user_data) for m in decoded) == text
