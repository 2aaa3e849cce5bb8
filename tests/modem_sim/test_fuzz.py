"""Whatever a client sends, the simulated device neither crashes nor gets
stuck: the parser raises only its own error, the engine answers on."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from msghub.devtools.modem import PROFILES
from msghub.devtools.modem import sms as pdus
from msghub.devtools.modem.atparse import AtSyntaxError, parse_line, split_args
from msghub.devtools.modem.network import deliver, status_report
from tests.modem_sim.harness import Bench

PIECES = [
    b"AT", b"at", b"+CMGS=", b"+CMGW=", b"+CMGF=1", b"+CMGF=0", b"+CNMI=2,2,0,1,0", b"+CNMI=0,1,0,2,1",
    b'+CPMS="SR","ME"', b'+CPMS="SM"', b"+CMGL=4", b'+CMGL="ALL"', b"+CMGR=1", b"+CMGR=0", b"+CMGD=1,4",
    b"+CSMS=1", b"+CNMA", b"+CMEE=2", b'+CPIN="1234"', b'+CPIN="0"', b"+CREG=2", b"+CFUN=0", b"+CFUN=1",
    b"E0", b"E1", b"V0", b"Q1", b"Z", b"I", b"S3=13", b"&F", b"^CURC=0", b"+WIND?", b"+CMSS=1",
    b"\r", b"\n", b"\x1a", b"\x1b", b"\x08", b'"', b";", b"?", b"=?", b"=", b",", b"A/", b"00", b"0011000B91",
    b"\xff", b"\x00",
]
INPUT = st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=12)), max_size=40).map(b"".join)


@given(st.text(max_size=80))
def test_parse_line_raises_only_its_own_error(text: str) -> None:
    try:
        commands = parse_line("AT" + text)
    except AtSyntaxError:
        return
    assert all(c.name for c in commands)


@given(st.text(max_size=60))
def test_split_args_raises_only_its_own_error(text: str) -> None:
    try:
        args = split_args(text)
    except AtSyntaxError:
        return
    assert len(args) == (text.count(",") + 1 if text and '"' not in text else len(args))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(PROFILES)), st.booleans(), INPUT, st.lists(st.integers(0, 2), max_size=4))
def test_engine_survives_anything_and_answers_after(profile: str, pin: bool, data: bytes,
                                                    events: list[int]) -> None:
    b = Bench(profile, pin="1234" if pin else None, echo=True)
    cut = len(data) // 2
    b.engine.feed(data[:cut])
    when = datetime(2026, 12, 2, 1, 0, 0, tzinfo=UTC)
    for event in events:  # the network acts in the middle of whatever the client did
        if event == 0:
            for part in pdus.deliver_pdus("+447700900123", "fuzz", scts=when, smsc="+447785016005", ref=1):
                deliver(b.engine, part, None)
        elif event == 1:
            status_report(b.engine, 1, "+447700900999", when)
        else:
            b.advance(20.0)
    b.engine.feed(data[cut:])
    b.advance(20.0)
    b.take()
    # ESC leaves a prompt, CR ends a half line, ATZ restores verbose answers.
    b.engine.feed(b"\x1b\rATZ\r")
    b.advance(20.0)
    assert b.take().endswith("\r\nOK\r\n")
    assert b.state.internal_errors == []
