"""Hypothesis strategies for PDU messages (tests/sms/test_pdu*.py).

Sizes are bounded so that every generated message fits one SM: at most
20 UDH octets, 60 GSM characters (120 septets), 30 UCS-2 characters
(120 octets with surrogate pairs) or 100 octets of 8-bit data.
"""

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from msghub.sms.pdu import (
    Address,
    DeliverReport,
    EnhancedValidity,
    MessageWaiting,
    SmsCommand,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    SubmitReport,
    Udh,
)
from msghub.sms.pdu.times import relative_period

from .helpers import GSM_CHARS, any_char, emoji

digits = st.text(alphabet="0123456789", min_size=1, max_size=15)
international = digits.map(lambda d: Address("+" + d))
other_number = st.builds(
    Address,
    st.text(alphabet="0123456789*#abc", max_size=20),
    st.sampled_from([0, 2, 3, 4, 6, 7]),
    st.integers(0, 15),
)
alphanumeric = st.builds(
    Address,
    st.text(alphabet=[c for c in GSM_CHARS if c not in "{}[]~\\|^€\f"], min_size=1, max_size=11),
    st.just(5),
    st.sampled_from([0, 1]),
)
addresses = st.one_of(international, other_number, alphanumeric)
smscs = st.one_of(st.none(), international, other_number.filter(lambda a: len(a.number) <= 20))

# Time zones: whole quarter hours, -48..+56 (UTC-12 .. UTC+14), and beyond up to 79 quarters.
zones = st.integers(-79, 79).map(lambda q: timezone(timedelta(minutes=15 * q)))
timestamps = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2089, 12, 31, 23, 59, 59)).map(
        lambda d: d.replace(microsecond=0)
    ),
    zones,
)

relative = st.integers(0, 255).map(relative_period)


def _seconds(n: int) -> timedelta:
    return timedelta(seconds=n)


enhanced = st.one_of(
    st.builds(EnhancedValidity, st.none(), st.just("none"), st.booleans()),
    st.builds(EnhancedValidity, relative, st.just("relative"), st.booleans()),
    st.builds(EnhancedValidity, st.integers(0, 255).map(_seconds), st.just("seconds"), st.booleans()),
    st.builds(EnhancedValidity, st.integers(0, 99 * 3600 + 3599).map(_seconds), st.just("hhmmss"), st.booleans()),
)
validities = st.one_of(st.none(), relative, timestamps, enhanced)

_OTHER_IEI = st.integers(0, 255).filter(lambda i: i not in (0x00, 0x04, 0x05, 0x08))
octet = st.integers(0, 255)
word = st.integers(0, 0xFFFF)
elements = st.one_of(
    st.builds(lambda r, t, s: (0x00, bytes((r, t, s))), octet, octet, octet),
    st.builds(lambda r, t, s: (0x08, r.to_bytes(2, "big") + bytes((t, s))), word, octet, octet),
    st.builds(lambda d, s: (0x04, bytes((d, s))), octet, octet),
    st.builds(lambda d, s: (0x05, d.to_bytes(2, "big") + s.to_bytes(2, "big")), word, word),
    st.tuples(_OTHER_IEI, st.binary(max_size=6)),
)
udhs = st.one_of(
    st.none(),
    st.lists(elements, max_size=3).map(lambda e: Udh(tuple(e))).filter(lambda u: len(u.to_bytes()) <= 20),
)

gsm_text = st.text(alphabet=GSM_CHARS, max_size=60)
ucs2_text = st.text(alphabet=st.one_of(st.sampled_from(GSM_CHARS), any_char, emoji), max_size=30)
payloads = st.one_of(
    st.tuples(st.just("gsm7"), gsm_text),
    st.tuples(st.just("ucs2"), ucs2_text),
    st.tuples(st.just("8bit"), st.binary(max_size=100)),
)
waitings = st.builds(MessageWaiting, st.booleans(), st.integers(0, 3), st.booleans())


@st.composite
def coding(draw: st.DrawFn) -> dict[str, object]:
    """alphabet, user_data and a consistent DCS choice (class, waiting, auto-delete)."""
    alphabet, data = draw(payloads)
    out: dict[str, object] = {"alphabet": alphabet, "user_data": data}
    if alphabet != "8bit" and draw(st.integers(0, 4)) == 0:
        waiting = draw(waitings)
        if alphabet == "ucs2":
            waiting = MessageWaiting(waiting.active, waiting.kind, True)
        out["waiting"] = waiting
    else:
        out["message_class"] = draw(st.none() | st.integers(0, 3))
        out["auto_delete"] = draw(st.booleans())
    return out


submits = st.builds(
    lambda c, **kw: SmsSubmit(**c, **kw),
    coding(),
    recipient=addresses,
    udh=udhs,
    mr=st.integers(0, 255),
    srr=st.booleans(),
    validity=validities,
    reject_duplicates=st.booleans(),
    reply_path=st.booleans(),
    pid=st.integers(0, 255),
    smsc=smscs,
)
delivers = st.builds(
    lambda c, **kw: SmsDeliver(**c, **kw),
    coding(),
    sender=addresses,
    scts=timestamps,
    udh=udhs,
    pid=st.integers(0, 255),
    more_messages=st.booleans(),
    sri=st.booleans(),
    reply_path=st.booleans(),
    smsc=smscs,
    loop_prevention=st.booleans(),
)


@st.composite
def _tail(draw: st.DrawFn) -> dict[str, object]:
    """The optional PID / DCS / user data of reports."""
    out: dict[str, object] = {"pid": draw(st.none() | st.integers(0, 255))}
    if draw(st.booleans()):
        alphabet, data = draw(payloads)
        out["alphabet"] = alphabet if alphabet != "gsm7" or draw(st.booleans()) else None
        out["user_data"] = data
        out["udh"] = draw(udhs)
    else:
        out["alphabet"] = draw(st.none() | st.sampled_from(["gsm7", "8bit", "ucs2"]))
    return out


status_reports = st.builds(
    lambda t, **kw: SmsStatusReport(**t, **kw),
    _tail(),
    mr=st.integers(0, 255),
    recipient=addresses,
    scts=timestamps,
    discharge=timestamps,
    status=st.integers(0, 255),
    smsc=smscs,
    more_messages=st.booleans(),
    srq=st.booleans(),
    loop_prevention=st.booleans(),
)
fcs = st.none() | st.integers(0x80, 0xFF)
submit_reports = st.builds(lambda t, **kw: SubmitReport(**t, **kw), _tail(), scts=timestamps, fcs=fcs, smsc=smscs)
deliver_reports = st.builds(lambda t, **kw: DeliverReport(**t, **kw), _tail(), fcs=fcs, smsc=smscs)
commands = st.builds(
    SmsCommand,
    mr=octet,
    command_type=octet,
    message_number=octet,
    recipient=addresses,
    pid=octet,
    srr=st.booleans(),
    data=st.binary(max_size=157),
    udhi=st.booleans(),
    smsc=smscs,
)
