"""Kannel's sendsms fields and dlr-url escape codes, as pure functions:
Kannel's answers for each malformed field, and each escape code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msghub.gateway.dlr import DlrFacts, fill_escape_codes, message_uuid, report_text, url_encode
from msghub.gateway.kannel import KannelError, args_from_headers, parse_sendsms, scan_int

NOW = datetime(2026, 2, 1, 9, 30, 5, tzinfo=UTC)


def _args(**fields: str | bytes) -> dict[str, bytes]:
    base: dict[str, str | bytes] = {"username": "k", "password": "p", "to": "+4917012345", "text": "hi"}
    base.update({name.replace("_", "-"): value for name, value in fields.items()})
    return {name: value.encode() if isinstance(value, str) else value for name, value in base.items()}


def test_scan_int_reads_like_sscanf():
    assert [scan_int(v) for v in (b"31", b" 7x", b"-1", b"+3", b"x", b"", None)] == [31, 7, -1, 3, -1, -1, -1]


def test_a_plain_request():
    send = parse_sendsms(_args(to="+4917000001 +4917000002 +4917000001", dlr_mask="31",
                               dlr_url="http://h/dlr?t=%d", validity="60", deferred="5", priority="2",
                               account="acct", binfo="b1", meta_data="?smpp?x=1"), NOW)
    assert send.receivers == ("+4917000001", "+4917000002")
    assert send.dlr_mask == 31 and send.dlr_url == "http://h/dlr?t=%d" and send.priority == 2
    assert send.valid_until == datetime(2026, 2, 1, 10, 30, 5, tzinfo=UTC)
    assert send.send_at == datetime(2026, 2, 1, 9, 35, 5, tzinfo=UTC)
    assert send.outbox_row()["delivery_report"] is True
    assert send.params["account"] == "acct" and send.params["meta-data"] == "?smpp?x=1"


@pytest.mark.parametrize(("fields", "answer"), [
    ({"to": None}, "Missing receiver number, rejected"),
    ({"to": ""}, "Empty receiver number not allowed, rejected"),
    ({"to": "abc"}, "Number(s) has/have been denied by white- and/or black-lists."),
    ({"udh": b"\x05\x00\x03"}, "UDH field misformed, rejected"),
    ({"dlr_url": "ftp://x/y"}, "DLR-URL field misformed, rejected"),
    ({"dlr_url": "http:/"}, "DLR-URL field misformed, rejected"),
    ({"dlr_mask": "64"}, "DLR-Mask field misformed, rejected"),
    ({"mclass": "4"}, "MClass field misformed, rejected"),
    ({"pid": "256"}, "PID field misformed, rejected"),
    ({"rpi": "3"}, "RPI field misformed, rejected"),
    ({"alt_dcs": "2"}, "Alt-DCS field misformed, rejected"),
    ({"mwi": "8"}, "MWI field misformed, rejected"),
    ({"coding": "3"}, "Coding field misformed, rejected"),
    ({"compress": "2"}, "Compress field misformed, rejected"),
    ({"validity": "-2"}, "Validity field misformed, rejected"),
    ({"deferred": "-5"}, "Deferred field misformed, rejected"),
    ({"priority": "4"}, "Priority field misformed, rejected"),
    ({"account": "a[b]"}, "Account field misformed or too long, rejected"),
    ({"account": "a" * 65}, "Account field misformed or too long, rejected"),
    ({"charset": "no-such-charset"}, "Charset or body misformed, rejected"),
    ({"text": b"\xff\xfe", "charset": "UTF-8"}, "Charset or body misformed, rejected"),
])
def test_kannel_refusals(fields, answer):
    args = _args(**{k: v for k, v in fields.items() if v is not None})
    if fields.get("to", "") is None:
        del args["to"]
    with pytest.raises(KannelError) as caught:
        parse_sendsms(args, NOW)
    assert (caught.value.status, caught.value.text) == (400, answer)


def test_charsets_and_ucs2():
    assert parse_sendsms(_args(text="Gr\xfc\xdfe".encode("latin-1"), charset="ISO-8859-1"), NOW).text == "Grüße"
    assert parse_sendsms(_args(text="Привет".encode("utf-16-be"), coding="2"), NOW).text == "Привет"
    assert parse_sendsms(_args(text="Привет"), NOW).text == "Привет"


def test_x_kannel_headers():
    args = args_from_headers([(b"X-Kannel-Username", b" key "), (b"X-Kannel-To", b"+491"),
                              (b"X-Kannel-DLR-Mask", b"3"), (b"X-Kannel-UDH", b"050003010201"),
                              (b"Content-Type", b"text/plain")])
    assert args == {"username": b"key", "to": b"+491", "dlr-mask": b"3", "udh": bytes.fromhex("050003010201")}


@given(st.dictionaries(st.sampled_from(["to", "text", "udh", "dlr-mask", "dlr-url", "coding", "charset", "validity",
                                        "deferred", "priority", "account", "mclass", "from", "smsc", "meta-data"]),
                       st.binary(max_size=40)))
def test_fuzz_only_kannel_errors_escape(fields):
    try:
        send = parse_sendsms(fields, NOW)
    except KannelError as error:
        assert error.status == 400 and error.text
    else:
        assert send.receivers and "\x00" not in send.text


def _facts(**extra) -> DlrFacts:
    base = dict(message_id=1001, dlr_type=1, sender="0049170111", receiver="+4917022 2",
                reply="id:ab12 sub:001 dlvrd:001 stat:DELIVRD err:000 text:Hello *world",
                time=datetime(2026, 2, 1, 9, 30, 5, tzinfo=UTC), smsc_id="smsc one", foreign_id="ab/12",
                service="3f9c2a7d41b0e855",
                params={"coding": 0, "mclass": 1, "mwi": -1, "account": "acc t", "binfo": "b&1",
                        "meta-data": "?smpp?a=b"})
    base.update(extra)
    return DlrFacts(**base)  # type: ignore[arg-type]


def test_every_escape_code():
    facts = _facts()
    expect = {
        "%d": "1", "%p": "0049170111", "%P": "%2B4917022+2", "%q": "%2B49170111", "%Q": "%2B4917022+2",
        "%t": "2026-02-01+09:30:05", "%T": str(int(facts.time.timestamp())), "%i": "smsc+one",
        "%I": "00000000-0000-0000-0000-0000000003e9", "%F": "ab%2F12", "%n": "3f9c2a7d41b0e855",
        "%A": "id%3Aab12+sub%3A001+dlvrd%3A001+stat%3ADELIVRD+err%3A000+text%3AHello+*world",
        "%k": "id%3Aab12", "%s": "sub%3A001", "%c": "0", "%m": "1", "%M": "-1", "%C": "UTF-8",
        "%o": "acc+t", "%B": "b%261", "%D": "%3Fsmpp%3Fa%3Db", "%O": "17", "%%": "%", "%Z": "%Z", "%f": "",
    }
    for code, value in expect.items():
        assert fill_escape_codes(code, facts) == value, code
    # %s and %S walk the words; %r is the rest
    assert fill_escape_codes("%k/%s/%S/%r", facts) == (
        "id%3Aab12/sub%3A001/dlvrd:001/stat%3ADELIVRD+err%3A000+text%3AHello+*world")
    assert fill_escape_codes("x%", facts) == "x%"
    assert message_uuid(1001) == "00000000-0000-0000-0000-0000000003e9"


def test_report_texts():
    t = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
    assert report_text(8, "r1", t, t, "hi", None, None) == "ACK/"
    assert report_text(16, None, t, t, "hi", "refused", "no route") == "NACK/refused/no route"
    assert report_text(2, "r1", t, t, "hi", None, None).endswith("stat:UNDELIV err:000 text:hi")


@given(st.text(max_size=60))
def test_fuzz_patterns_never_raise(pattern):
    out = fill_escape_codes(pattern, _facts())
    assert isinstance(out, str)


@given(st.text(max_size=30))
def test_url_encode_round_trips(text):
    from urllib.parse import unquote_plus

    assert unquote_plus(url_encode(text)) == text


def test_rate_limit_window_and_retry_after():
    from msghub.gateway.throttle import RateLimit

    limit = RateLimit(2)
    assert limit.retry_after("k", now=0.0) is None and limit.retry_after("k", now=1.0) is None
    assert limit.retry_after("k", now=30.0) == 30  # the first of the two leaves the window at 60 s
    assert limit.retry_after("other", now=30.0) is None
    assert limit.retry_after("k", now=60.5) is None
