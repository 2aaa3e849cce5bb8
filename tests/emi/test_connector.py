"""The EMI connector against the real SMSC simulator: settings, login,
submits, refusals, delivery reports, the window, the throttle, keep-alive,
ack timeouts and lost links. The hub side is a recorder (HubRecorder)."""

from __future__ import annotations

import asyncio
import bisect
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest

from msghub.connectors.base import PermanentFailure, SegmentRef, TemporaryFailure, UncertainFailure
from msghub.connectors.emi.codec import Ack, decode_message, encode_frame, parse_ddt, to_wire, wrap
from msghub.connectors.emi.connector import EmiConnector, EmiError
from msghub.connectors.registry import kind_class
from msghub.connectors.settings import validate_config
from msghub.errors import ConfigError
from msghub.sms.gsm7 import is_gsm7
from msghub.sms.udh import Concat, parse_udh
from tests.emi.test_connector_support import (
    USER,
    WAIT_S,
    HubRecorder,
    Tap,
    connected,
    header,
    run,
    settings,
    simulator,
    sms,
    until,
)


def _ref(submit: object) -> str:
    adc, scts = submit.reference  # type: ignore[attr-defined]
    return f"{adc}:{scts}"


# -- settings -----------------------------------------------------------------


def test_kind_is_registered_with_typed_defaults():
    assert kind_class("emi") is EmiConnector
    declared = {s.name: s for s in EmiConnector.settings}
    assert declared["password"].secret and not declared["username"].secret
    config = validate_config(EmiConnector.settings, {"host": "smsc.example", "port": "2775", "tls": "yes"})
    assert config["port"] == 2775 and config["tls"] is True
    assert (
        config["window"],
        config["keepalive_s"],
        config["ack_timeout_s"],
        config["throttle_per_s"],
        config["reassembly_timeout_s"],
        config["tls_verify"],
        config["transliterate"],
        config["concat_ref16"],
        config["receive_port"],
    ) == (10, 60.0, 30.0, 0.0, 300.0, True, False, False, 0)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"port": "2775"}, "setting host is required"),
        ({"host": "smsc"}, "setting port is required"),
        ({"host": "smsc", "port": "0"}, "port: 0 is below the minimum 1"),
        ({"host": "smsc", "port": "65536"}, "above the maximum 65535"),
        ({"host": "smsc", "port": "x"}, "not a whole number"),
        ({"host": "smsc", "port": "1", "window": "101"}, "window: 101 is above the maximum 100"),
        ({"host": "smsc", "port": "1", "window": "0"}, "window: 0 is below"),
        ({"host": "smsc", "port": "1", "tls": "maybe"}, "tls: 'maybe' is not a yes/no value"),
        ({"host": "smsc", "port": "1", "alphanumeric_sender": "drop"}, "not one of send, replace, refuse"),
        ({"host": "smsc", "port": "1", "smsc_timezone": "Mars/Olympus"}, "not a known time zone"),
        ({"host": "smsc", "port": "1", "international_prefix": "+"}, "international_prefix: give 1-4 digits"),
        ({"host": "smsc", "port": "1", "receive_allow": "10.0.0.0/33"}, "receive_allow"),
        ({"host": "smsc", "port": "1", "throttle_per_s": "-1"}, "below the minimum"),
        ({"host": "smsc", "port": "1", "windw": "3"}, "unknown setting 'windw'"),
    ],
)
def test_bad_settings_are_refused_by_name(values, problem):
    with pytest.raises(ConfigError, match=problem):
        validate_config(EmiConnector.settings, values)


# -- login --------------------------------------------------------------------


def test_login_opens_the_session():
    async def main():
        async with simulator() as sim, connected(sim.port) as connector:
            assert sim.logins == [(USER, True)]
            assert connector.session is not None and not connector.session.closed
            assert connector.window == 10

    run(main())


def test_refused_login_raises_the_error_code():
    async def main():
        async with simulator() as sim:
            connector = EmiConnector("emi-refused", settings(sim.port, password="wrong"), HubRecorder())
            with pytest.raises(EmiError, match=r"^login refused: 07 authentication failure$"):
                await connector.open()
            await connector.close()
            assert sim.logins == [(USER, False)]
            await until(lambda: not sim.sessions, what="the refused session to close")

    run(main())


def test_unreachable_smsc_is_a_clear_error():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def main():
        connector = EmiConnector("emi-nowhere", settings(port), HubRecorder())
        with pytest.raises(EmiError, match=f"cannot connect to 127.0.0.1:{port}"):
            await connector.open()
        await connector.close()

    run(main())


# -- submits ------------------------------------------------------------------


def test_short_message_is_one_submit_referenced_by_adc_and_scts():
    async def main():
        async with simulator() as sim, connected(sim.port) as connector:
            result = await connector.send(sms("Hello {€}", sender="+15550001"))
            [submit] = sim.submits
            assert (submit.text, submit.udh, submit.recipient, submit.sender) == (
                "Hello {€}",
                None,
                "00447700900123",
                "+15550001",
            )
            assert submit.submit.mt == "3" and submit.submit.nrq == "" and submit.submit.pr == ""
            assert result.operator_ref == _ref(submit)
            assert result.segments == (SegmentRef(1, 1, _ref(submit)),)

    run(main())


def test_long_message_goes_as_three_parts_with_one_reference_each():
    text = "".join(f"word{i:03d} " for i in range(45))  # 360 GSM characters: 153 + 153 + 54

    async def main():
        async with simulator() as sim, connected(sim.port) as connector:
            message = sms(text)
            result = await connector.send(message)
            assert len(sim.submits) == 3
            concat = [parse_udh(s.udh).concat for s in sim.submits]
            ref = connector.concat_ref(message)
            assert concat == [Concat(ref, 3, 1), Concat(ref, 3, 2), Concat(ref, 3, 3)]
            assert all(s.udh[1] == 0x00 for s in sim.submits)  # 8-bit reference IE
            assert "".join(s.text for s in sim.submits) == text
            refs = [_ref(s) for s in sim.submits]
            assert len(set(refs)) == 3
            assert result.operator_ref == refs[0]
            assert result.segments == tuple(SegmentRef(i, 3, r) for i, r in enumerate(refs, start=1))

    run(main())


def test_unicode_long_message_with_16_bit_reference():
    text = "Ünïcödé ✓ " * 16  # 160 characters in UCS-2: 66 per part with a 16-bit reference

    async def main():
        async with simulator() as sim, connected(sim.port, concat_ref16=True) as connector:
            message = sms(text)
            result = await connector.send(message)
            concat = [parse_udh(s.udh).concat for s in sim.submits]
            assert concat == [Concat(connector.concat_ref(message), 3, n) for n in (1, 2, 3)]
            assert all(s.udh[1] == 0x08 for s in sim.submits)  # 16-bit reference IE
            assert all(s.submit.mt == "4" and s.submit.xser_dcs == 0x08 for s in sim.submits)
            assert "".join(s.text for s in sim.submits) == text
            assert len(result.segments) == 3

    run(main())


def test_transliteration_by_connection_or_by_message():
    text = "Cześć \u2013 \u201chi\u201d"  # an en dash and curly quotes: not GSM

    async def main():
        async with simulator() as sim:
            async with connected(sim.port, transliterate=True) as connector:
                await connector.send(sms(text))
            async with connected(sim.port) as connector:
                await connector.send(sms(text, transliterate=True))
                await connector.send(sms(text))
            sent = [s.text for s in sim.submits]
            assert is_gsm7(sent[0]) and sent[0] == sent[1] and sent[0] != text
            assert sent[2] == text and sim.submits[2].submit.mt == "4"  # kept as UCS-2

    run(main())


def test_report_request_priority_validity_and_alphanumeric_sender():
    valid_until = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)

    async def main():
        async with simulator() as sim, connected(sim.port, smsc_timezone="Europe/Amsterdam") as connector:
            await connector.send(sms("x", sender="MsgHub", delivery_report=True, priority=2, valid_until=valid_until))
            [s] = sim.submits
            assert (s.submit.nrq, s.submit.nt, s.submit.pr) == ("1", "7", "1")
            assert s.submit.vp == "0201300404"  # 03:04 UTC is 04:04 in Amsterdam in January
            assert (s.submit.otoa, s.sender) == ("5039", "MsgHub")
            assert s.submit.dd == ""

    run(main())


def test_default_validity_deferred_delivery_and_source_address():
    async def main():
        async with simulator() as sim, connected(sim.port, default_validity_min=90, source_address="4000") as connector:
            send_at = datetime.now(UTC) + timedelta(hours=2)
            await connector.send(sms("later", sender=None, send_at=send_at))
            [s] = sim.submits
            assert s.sender == "4000"
            assert s.submit.dd == "1"
            assert abs(parse_ddt(s.submit.ddt) - send_at.astimezone().replace(tzinfo=None)) < timedelta(minutes=1)
            expected_vp = datetime.now() + timedelta(minutes=90)
            assert abs(parse_ddt(s.submit.vp) - expected_vp) < timedelta(minutes=2)

    run(main())


def test_alphanumeric_sender_policies():
    async def main():
        async with simulator() as sim:
            async with connected(sim.port, alphanumeric_sender="refuse") as connector:
                with pytest.raises(PermanentFailure) as refused:
                    await connector.send(sms("x", sender="Shop"))
                assert refused.value.code == "sender_refused"
                await connector.send(sms("numbers pass", sender="+15550002"))
            async with connected(sim.port, alphanumeric_sender="replace", source_address="+15550009") as connector:
                await connector.send(sms("x", sender="Shop"))
            async with connected(sim.port) as connector:
                with pytest.raises(PermanentFailure) as too_long:
                    await connector.send(sms("x", sender="ElevenPlusOne"))
                assert too_long.value.code == "invalid_sender"
            assert [s.sender for s in sim.submits] == ["+15550002", "+15550009"]

    run(main())


def test_unsendable_messages_fail_permanently_before_the_link():
    async def main():
        async with simulator() as sim, connected(sim.port) as connector:
            with pytest.raises(PermanentFailure) as bad_number:
                await connector.send(sms("x", recipient="call me"))
            assert bad_number.value.code == "invalid_recipient"
            with pytest.raises(PermanentFailure) as mail:
                await connector.send(sms("x", channel="email"))
            assert mail.value.code == "unsupported_channel"
            with pytest.raises(PermanentFailure) as lone:
                await connector.send(sms("\ud800"))
            assert lone.value.code == "encoding"
            assert sim.submits == [] and sim.refused == []

    run(main())


# -- refusals -----------------------------------------------------------------


def test_nacks_are_permanent_or_temporary_by_error_code():
    async def main():
        async with simulator() as sim, connected(sim.port) as connector:
            outcomes = []
            for ec in ("24", "04", "99", "06"):
                sim.refuse_next(1, ec)
                with pytest.raises((PermanentFailure, TemporaryFailure)) as info:
                    await connector.send(sms("refuse me"))
                outcomes.append((type(info.value).__name__, info.value.code, info.value.reason))
            assert outcomes == [
                ("PermanentFailure", "24", "Message too long"),
                ("TemporaryFailure", "04", "Operation not allowed"),
                ("TemporaryFailure", "99", "unknown error code 99"),
                ("PermanentFailure", "06", "AdC invalid"),
            ]
            sim.refuse_recipients("0044770090099", "05")
            with pytest.raises(PermanentFailure, match="Call barring active"):
                await connector.send(sms("x", recipient="+447700900991"))
            await connector.send(sms("the link is still up"))
            assert connector.lost_reason == "" and len(sim.submits) == 1

    run(main())


@pytest.mark.parametrize(("ec", "failure"), [("04", UncertainFailure), ("24", PermanentFailure)])
def test_refused_second_part_after_an_accepted_first(ec, failure):
    async def main():
        async with simulator(ack_delay_s=0.3) as sim, connected(sim.port) as connector:
            task = asyncio.create_task(connector.send(sms("y" * 200)))
            await until(lambda: sim.sessions and sim.sessions[0].outstanding == 1, what="part 1 to arrive")
            sim.refuse_next(1, ec)  # the next submit is part 2
            with pytest.raises(failure) as info:
                await task
            assert info.value.code == ec and info.value.reason.endswith("(part 2 of 2)")
            assert len(sim.submits) == 1 and len(sim.refused) == 1

    run(main())


# -- delivery reports ---------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("delivered", [("delivered", None)]),
        ("failed", [("failed", "000 unknown subscriber")]),
        ("buffered", [("buffered", "108 delivery fail"), ("delivered", None)]),
    ],
)
def test_delivery_notifications_become_reports(outcome, expected):
    async def main():
        hub = HubRecorder()
        async with simulator(dr_outcomes={outcome: 1.0}) as sim, connected(sim.port, hub) as connector:
            result = await connector.send(sms("report me", delivery_report=True))
            await connector.send(sms("no report wanted"))
            await until(lambda: len(hub.reports) == len(expected), what="the reports")
            assert [(r.status, r.reason) for r in hub.reports] == expected
            assert {r.operator_ref for r in hub.reports} == {result.operator_ref}
            # acknowledged only once stored, and nothing for the second message
            await until(lambda: [o.status for o in sim.outbound] == ["acked"] * len(expected))
            await asyncio.sleep(0.2)
            assert len(hub.reports) == len(expected)

    run(main())


def test_each_part_of_a_long_message_gets_its_report_stored_one_at_a_time():
    async def main():
        hub = HubRecorder(report_delay_s=0.1)
        async with simulator() as sim, connected(sim.port, hub) as connector:
            results = await asyncio.gather(
                connector.send(sms("z" * 400, delivery_report=True)),
                *(connector.send(sms("one part", recipient=f"+4477009002{i}", delivery_report=True))
                  for i in range(3)))
            await until(lambda: len(hub.reports) == 6, what="six reports")
            assert sorted(r.operator_ref for r in hub.reports) == sorted(
                s.operator_ref for r in results for s in r.segments)
            # The parts of one message (one recipient) are stored in turn, so
            # the hub sees each one's effect; other recipients' go alongside.
            assert hub.most_storing_one_recipient == 1
            assert hub.most_storing >= 2
            assert len(connector._inbound.report_locks) == 0  # no lock left behind

    run(main())


# -- window, TRNs and throttle ------------------------------------------------


@pytest.mark.parametrize("window", [1, 4, 10])
def test_window_bounds_the_submits_awaiting_an_answer(window):
    async def main():
        async with simulator(ack_delay_s=0.1) as sim, connected(sim.port, window=window) as connector:
            count = window * 3 + 2
            results = await asyncio.gather(*(connector.send(sms(f"w{i}")) for i in range(count)))
            assert len(results) == len(sim.submits) == count
            assert sim.max_outstanding == window
            assert connector.session.max_outstanding == window
            assert [e for e in sim.events if e.kind in ("duplicate_trn", "window_exceeded")] == []

    run(main())


def test_full_window_of_100_cycles_through_the_trns():
    async def main():
        async with simulator(ack_delay_s=0.05) as sim, connected(sim.port, window=100) as connector:
            results = await asyncio.gather(*(connector.send(sms(f"t{i}")) for i in range(260)))
            assert len({r.operator_ref for r in results}) == 260
            assert sim.max_outstanding == 100
            trns = [s.trn for s in sim.submits]
            assert set(trns) == set(range(100))  # every TRN used, none outside 00-99
            assert [e for e in sim.events if e.kind in ("duplicate_trn", "window_exceeded")] == []

    run(main())


def test_throttle_caps_submits_per_second():
    rate, count = 20, 30

    async def main():
        async with simulator() as sim, connected(sim.port, throttle_per_s=rate, window=10) as connector:
            started = time.monotonic()
            await asyncio.gather(*(connector.send(sms(f"r{i}")) for i in range(count)))
            elapsed = time.monotonic() - started
            times = sorted(s.received_at for s in sim.submits)
        assert elapsed >= (count - 1) / rate * 0.95
        busiest = max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))
        assert busiest <= rate + 1  # + 1: arrival jitter on a busy machine can close up one gap

    run(main())


# -- keep-alive ---------------------------------------------------------------


def test_idle_link_gets_alerts_and_traffic_postpones_them():
    async def main():
        async with simulator() as sim, Tap(sim.port) as tap, connected(tap.port, keepalive_s=0.5) as connector:
            await until(lambda: len(tap.frames("down", "R", "31")) >= 1, timeout=WAIT_S, what="an answered alert")
            alert = decode_message(tap.frames("up", "O", "31")[0])
            assert (alert.adc, alert.pid) == (USER, "0539")
            before = len(tap.frames("up", "O", "31"))
            for i in range(8):  # traffic every 0.1 s: the link is never idle for 0.5 s
                await connector.send(sms(f"busy {i}"))
                await asyncio.sleep(0.1)
            assert len(tap.frames("up", "O", "31")) == before
            assert connector.lost_reason == ""

    run(main())


# -- ack timeouts and lost links ------------------------------------------------


def test_unanswered_submit_is_uncertain_and_drops_the_link():
    async def main():
        async with simulator() as sim, connected(sim.port, ack_timeout_s=0.3) as connector:
            sim.stop_acking()
            started = time.monotonic()
            outcomes = await asyncio.gather(
                *(connector.send(sms(f"lost {i}")) for i in range(3)), return_exceptions=True
            )
            assert 0.25 <= time.monotonic() - started < WAIT_S  # never before the ack timeout
            assert all(isinstance(o, UncertainFailure) for o in outcomes)
            assert "ack_timeout" in {o.code for o in outcomes}
            reason = await asyncio.wait_for(connector.wait_lost(), WAIT_S)
            assert reason.startswith("no answer to operation 51")
            assert len(sim.swallowed) == 3
            with pytest.raises(TemporaryFailure) as later:
                await connector.send(sms("after"))
            assert later.value.code == "link_down"
            await until(lambda: not sim.sessions, what="the connection to close")

    run(main())


def test_link_drop_fails_in_flight_sends_by_whether_they_were_written():
    async def main():
        async with simulator(ack_delay_s=0.5) as sim, connected(sim.port, window=2) as connector:
            tasks = [asyncio.create_task(connector.send(sms(f"d{i}"))) for i in range(5)]
            await until(lambda: sim.sessions and sim.sessions[0].outstanding == 2, what="a full window")
            sim.drop_links()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            assert sorted((type(o).__name__, o.code) for o in outcomes) == (
                [("TemporaryFailure", "link_down")] * 3 + [("UncertainFailure", "link_lost")] * 2
            )
            reason = await asyncio.wait_for(connector.wait_lost(), WAIT_S)
            assert "closed" in reason or "socket error" in reason

    run(main())


def test_unreadable_answer_makes_that_send_uncertain_only():
    async def main():
        async with simulator(ack_delay_s=1.0) as sim, Tap(sim.port) as tap, connected(tap.port) as connector:
            task = asyncio.create_task(connector.send(sms("garbled")))
            await until(lambda: sim.sessions and sim.sessions[0].outstanding == 1, what="the submit")
            trn = int(header(tap.frames("up", "O", "51")[0])[0])
            good = encode_frame(Ack(ot="51", trn=trn, sm="00447700900123:010125101010").to_frame())
            sim.send_garbage(wrap(good[:-2] + (b"00" if good[-2:] != b"00" else b"01")))  # wrong checksum
            with pytest.raises(UncertainFailure) as info:
                await task
            assert info.value.code == "garbled_answer"
            assert connector.lost_reason == ""
            assert connector.session.rejected_frames == 1

    run(main())


def test_answer_to_the_wrong_operation_is_a_protocol_violation():
    async def main():
        async with simulator(ack_delay_s=1.0) as sim, Tap(sim.port) as tap, connected(tap.port) as connector:
            task = asyncio.create_task(connector.send(sms("confused")))
            await until(lambda: sim.sessions and sim.sessions[0].outstanding == 1, what="the submit")
            trn = int(header(tap.frames("up", "O", "51")[0])[0])
            sim.send_garbage(to_wire(Ack(ot="31", trn=trn)))
            with pytest.raises(UncertainFailure) as info:
                await task
            assert info.value.code == "link_lost"
            reason = await asyncio.wait_for(connector.wait_lost(), WAIT_S)
            assert reason.startswith("protocol violation")

    run(main())


def test_a_cancelled_send_keeps_its_trn_until_the_late_answer():
    async def main():
        async with simulator(ack_delay_s=3.0) as sim, Tap(sim.port) as tap, connected(tap.port, window=1,
                                                                                       ack_timeout_s=2) as c:
            first = asyncio.create_task(c.send(sms("first")))
            await until(lambda: tap.frames("up", "O", "51"), what="the first submit")
            first.cancel()  # e.g. the hub stopping; its answer is still on the way
            sim.set_ack_delay(0)
            # 120 sends walk the TRNs past the first's before its answer comes
            results = [await c.send(sms(f"next {i}")) for i in range(120)]
            first_trn = header(tap.frames("up", "O", "51")[0])[0]

            def seen(way: str, kind: str) -> list[int]:
                return [i for i, (w, f) in enumerate(tap.log) if w == way and header(f) == (first_trn, kind, "51")]

            await until(lambda: seen("down", "R"), what="the late answer")
            # however long the 120 sends took: the first's TRN was not taken
            # again before its answer came (in the order the tap saw frames)
            answered = seen("down", "R")[0]
            assert [i for i in seen("up", "O") if i < answered] == seen("up", "O")[:1]
            trns = [header(f)[0] for f in tap.frames("up", "O", "51")]
            assert len(set(trns[1:]) - {first_trn}) == 99  # the sends went round every other TRN
            by_text = {s.text: _ref(s) for s in sim.submits}
            assert [r.operator_ref for r in results] == [by_text[f"next {i}"] for i in range(120)]
            assert c.lost_reason == "" and [e for e in sim.events if e.kind == "duplicate_trn"] == []

    run(main())
