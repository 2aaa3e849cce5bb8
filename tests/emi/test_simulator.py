"""The SMSC simulator over real TCP, driven by a minimal client built on the codec."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from msghub.connectors.emi import (
    Ack,
    DeliverSM,
    DeliveryNotification,
    DeliveryStatus,
    Frame,
    Nack,
    Notify,
    SubmitSM,
    alert_frame,
    checksum,
    encode_frame,
    make_submit,
    parse_scts,
    wrap,
)
from msghub.devtools.emi.simulator import SimulatorConfig, SimulatorError, SmscSimulator
from msghub.errors import ConfigError
from msghub.sms.reassembly import Fragment, Reassembler
from msghub.sms.udh import parse_udh
from tests.emi.simclient import Client

ACCOUNTS = {"esme": "secret"}
LONG_TEXT = " ".join(f"word{i:03d}" for i in range(60))  # 479 GSM characters: 4 parts of 153
ROOT = Path(__file__).resolve().parents[2]

Scenario = Callable[[SmscSimulator], Awaitable[None]]


def run(scenario: Scenario, **config: object) -> None:
    """Start a simulator with config, run the scenario against it, stop it."""

    async def main() -> None:
        settings: dict[str, object] = {"accounts": dict(ACCOUNTS), "dr_delay_s": 0.2}
        settings.update(config)
        simulator = SmscSimulator(SimulatorConfig(**settings))  # type: ignore[arg-type]
        await simulator.start()
        try:
            async with asyncio.timeout(30):
                await scenario(simulator)
        finally:
            await simulator.stop()

    asyncio.run(main())


async def bound_client(sim: SmscSimulator) -> Client:
    client = await Client.connect(sim.port)
    assert isinstance(await client.login("esme", "secret"), Ack)
    return client


def submit(recipient: str = "0612345678", *, trn: int = 0, **kwargs: object) -> SubmitSM:
    kwargs.setdefault("text", "hello")
    return make_submit(recipient, trn=trn, **kwargs)  # type: ignore[arg-type]


# -- login ------------------------------------------------------------------


def test_login_with_the_right_password_is_acked_and_wrong_ones_get_ec_07() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        good = await Client.connect(sim.port)
        bad = await Client.connect(sim.port)
        try:
            answer = await good.login("esme", "secret")
            assert isinstance(answer, Ack) and answer.ot == "60"
            wrong = await bad.login("esme", "guess")
            assert isinstance(wrong, Nack) and wrong.ec == "07"
            unknown = await bad.login("nobody", "secret")
            assert isinstance(unknown, Nack) and unknown.ec == "07"
            assert sim.logins == [("esme", True), ("esme", False), ("nobody", False)]
            # The refused session stays connected but may not submit.
            await bad.send(submit())
            refused = await bad.recv()
            assert isinstance(refused, Nack) and refused.ec == "07" and refused.ot == "51"
            assert sim.submits == []
        finally:
            await good.close()
            await bad.close()

    run(scenario)


def test_empty_accounts_accept_any_login_and_no_login_mode_accepts_submits() -> None:
    async def any_login(sim: SmscSimulator) -> None:
        client = await Client.connect(sim.port)
        try:
            assert isinstance(await client.login("whoever", "whatever"), Ack)
        finally:
            await client.close()

    async def no_login(sim: SmscSimulator) -> None:
        client = await Client.connect(sim.port)
        try:
            await client.send(submit())
            assert isinstance(await client.recv(), Ack)
            assert sim.submits[0].username is None
        finally:
            await client.close()

    run(any_login, accounts={})
    run(no_login, require_login=False)


# -- submits ------------------------------------------------------------------


def test_submit_is_acked_with_adc_and_a_fresh_scts() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            before = datetime.now().replace(microsecond=0)
            await client.send(submit("0612345678", trn=7, sender="Shop", text="Price: 10€ [ok]"))
            answer = await client.recv()
            assert isinstance(answer, Ack) and answer.trn == 7 and answer.ot == "51"
            reference = answer.submit_reference
            assert reference is not None and reference[0] == "0612345678"
            stamped = parse_scts(reference[1])
            assert before <= stamped <= datetime.now()
            [received] = sim.submits
            assert received.reference == reference
            assert (received.text, received.sender, received.username) == ("Price: 10€ [ok]", "Shop", "esme")
            assert received.udh is None and received.trn == 7
        finally:
            await client.close()

    run(scenario)


def test_submits_to_one_recipient_within_a_second_get_distinct_scts() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            for trn in range(4):
                await client.send(submit("0611111111", trn=trn))
            await client.send(submit("0622222222", trn=4))
            answers = [await client.recv() for _ in range(5)]
            references = [a.submit_reference for a in answers if isinstance(a, Ack)]
            assert len(references) == 5 and len(set(references)) == 5
            same = sorted(parse_scts(r[1]) for r in references if r and r[0] == "0611111111")
            # Stepped one second apart: a burst runs ahead of the clock.
            assert [(b - a).total_seconds() for a, b in itertools.pairwise(same)] == [1.0, 1.0, 1.0]
        finally:
            await client.close()

    run(scenario)


def test_binary_submit_with_udh_and_international_sender_is_recorded_decoded() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        ports_udh = bytes.fromhex("060504158A0000")
        try:
            await client.send(submit(sender="+4917012345", text=None, user_data=b"\x01\x02\xff", udh=ports_udh))
            assert isinstance(await client.recv(), Ack)
            [received] = sim.submits
            assert received.text is None and received.submit.user_data == b"\x01\x02\xff"
            assert received.udh == ports_udh and received.sender == "+4917012345"
        finally:
            await client.close()

    run(scenario)


def test_alert_is_acked() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            await client.send(alert_frame("esme", trn=42))
            answer = await client.recv()
            assert isinstance(answer, Ack) and (answer.ot, answer.trn) == ("31", 42)
        finally:
            await client.close()

    run(scenario)


# -- delivery reports -------------------------------------------------------------


def test_report_arrives_after_the_delay_naming_the_submission() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            await client.send(submit("0612345678", trn=3, sender="0800123", notify=True))
            ack = await client.recv()
            acked_at = time.monotonic()
            assert isinstance(ack, Ack)
            report = await client.recv()
            waited = time.monotonic() - acked_at
            assert isinstance(report, DeliveryNotification)
            assert 0.15 <= waited < 2.0  # dr_delay_s = 0.2
            assert report.submit_reference == ack.submit_reference
            assert report.status is DeliveryStatus.DELIVERED
            assert report.adc == "0800123"  # back to the originator
            assert report.dscts_time is not None
            assert sim.outbound[0].status == "pending"
            await client.ack(report)
            await sim.wait_for(lambda: sim.outbound[0].status == "acked")
            assert sim.outbound[0].attempts == 1
        finally:
            await client.close()

    run(scenario)


def test_buffered_then_delivered_and_failed_reports_follow_the_mask() -> None:
    async def buffered(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            await client.send(submit(notify=Notify.DELIVERED | Notify.NON_DELIVERED | Notify.BUFFERED))
            ack = await client.recv()
            first = await client.recv()
            await client.send(Ack(ot="53", trn=first.trn).to_frame())
            second = await client.recv()
            assert isinstance(first, DeliveryNotification) and isinstance(second, DeliveryNotification)
            assert (first.status, first.reason) == (DeliveryStatus.BUFFERED, 108)
            assert second.status is DeliveryStatus.DELIVERED
            assert isinstance(ack, Ack)
            assert first.submit_reference == second.submit_reference == ack.submit_reference
        finally:
            await client.close()

    async def failed(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            await client.send(submit(trn=1, notify=True))
            assert isinstance(await client.recv(), Ack)
            report = await client.recv()
            assert isinstance(report, DeliveryNotification)
            assert report.status is DeliveryStatus.NOT_DELIVERED and report.reason == 0
            # Asking for "delivered" only: a failure sends nothing.
            await client.send(submit(trn=2, notify=Notify.DELIVERED))
            assert isinstance(await client.recv(), Ack)
            assert await client.nothing_within(0.6)
        finally:
            await client.close()

    run(buffered, dr_outcomes={"buffered": 1.0})
    run(failed, dr_outcomes={"failed": 1.0})


def test_report_for_a_closed_session_is_held_until_the_account_binds_again() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        first = await bound_client(sim)
        await first.send(submit(notify=True))
        ack = await first.recv()
        await first.close()
        await sim.wait_for(lambda: any(e.kind == "held" for e in sim.events), timeout=3)
        second = await bound_client(sim)
        try:
            report = await second.recv()
            assert isinstance(report, DeliveryNotification) and isinstance(ack, Ack)
            assert report.submit_reference == ack.submit_reference
        finally:
            await second.close()

    run(scenario)


# -- mobile-originated ------------------------------------------------------------


def test_short_mo_is_delivered_and_its_ack_recorded() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            assert await sim.inject_mo("+31612345678", "4444", "STOP now") == 1
            deliver = await client.recv()
            assert isinstance(deliver, DeliverSM)
            assert (deliver.text, deliver.sender, deliver.adc, deliver.udh) == (
                "STOP now",
                "+31612345678",
                "4444",
                None,
            )
            assert deliver.scts_time is not None
            await client.ack(deliver)
            await sim.wait_for(lambda: sim.outbound[0].status == "acked")
        finally:
            await client.close()

    run(scenario)


@pytest.mark.parametrize("text", [LONG_TEXT, "Привет, мир! " * 12], ids=["gsm7", "ucs2"])
def test_long_mo_goes_as_concatenated_parts_that_reassemble(text: str) -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            frames = await sim.inject_mo("0612345678", "4444", text)
            assert frames > 1
            reassembler = Reassembler()
            whole = None
            for _ in range(frames):
                part = await client.recv()
                assert isinstance(part, DeliverSM) and part.udh is not None and part.text is not None
                await client.ack(part)
                concat = parse_udh(part.udh).concat
                assert concat is not None and concat.total == frames
                whole = (
                    reassembler.add(Fragment("sim", part.sender, concat.ref, concat.total, concat.seq, part.text, 0.0))
                    or whole
                )
            assert whole is not None and not whole.partial and whole.text == text
            await sim.wait_for(lambda: [o.status for o in sim.outbound] == ["acked"] * frames)
        finally:
            await client.close()

    run(scenario)


def test_mo_without_split_goes_in_one_frame_and_without_a_session_fails() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        with pytest.raises(SimulatorError):
            await sim.inject_mo("0612345678", "4444", "nobody is bound")
        client = await bound_client(sim)
        try:
            with pytest.raises(SimulatorError):
                await sim.inject_mo("0612345678", "4444", "hi", session="other-account")
            assert await sim.inject_mo("0612345678", "4444", LONG_TEXT, split=False) == 1
            deliver = await client.recv()
            assert isinstance(deliver, DeliverSM) and deliver.text == LONG_TEXT and deliver.udh is None
        finally:
            await client.close()

    run(scenario)


def test_unanswered_mo_is_sent_again_with_the_same_trn_then_given_up() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            await sim.inject_mo("0612345678", "4444", "anyone?")
            first = await client.frame()
            again = await client.frame()
            assert first == again  # same TRN, same bytes
            await sim.wait_for(lambda: sim.outbound[0].status == "unanswered", timeout=3)
            assert sim.outbound[0].attempts == 2
            assert [e.kind for e in sim.events if e.kind in ("retransmit", "unanswered")] == [
                "retransmit",
                "unanswered",
            ]
        finally:
            await client.close()

    run(scenario, mo_ack_timeout_s=0.2, mo_retries=1)


def test_client_nack_to_an_mo_is_recorded() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            await sim.inject_mo("0612345678", "4444", "unwanted")
            deliver = await client.recv()
            await client.send(Nack(ot="52", trn=deliver.trn, ec="05").to_frame())
            await sim.wait_for(lambda: sim.outbound[0].status == "nacked")
            assert sim.outbound[0].ec == "05"
        finally:
            await client.close()

    run(scenario)


# -- fault injection ---------------------------------------------------------------


def test_drop_links_resets_every_connection() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        clients = [await bound_client(sim), await bound_client(sim)]
        try:
            assert len(sim.sessions) == 2
            assert sim.drop_links() == 2
            for client in clients:
                with contextlib.suppress(ConnectionResetError):  # an abort is a reset
                    assert await client.raw() == b""
            await sim.wait_for(lambda: sim.sessions == [])
            again = await bound_client(sim)  # the server still accepts
            await again.close()
        finally:
            for client in clients:
                await client.close()

    run(scenario)


def test_refuse_next_and_refuse_recipients_nack_with_the_given_codes() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            sim.refuse_next(2, "04")
            sim.refuse_recipients("0666", "05")
            for trn, recipient in enumerate(["0611", "0612", "066612", "0613", "+4917"]):
                await client.send(submit(recipient, trn=trn) if recipient[0] != "+" else _raw_adc(recipient, trn))
            answers = [await client.recv() for _ in range(5)]
            codes = [a.ec if isinstance(a, Nack) else "ack" for a in answers]
            assert codes == ["04", "04", "05", "ack", "06"]
            assert [r.ec for r in sim.refused] == ["04", "04", "05", "06"]
            assert [s.recipient for s in sim.submits] == ["0613"]
            sim.refuse_recipients("0666", None)
            await client.send(submit("066612", trn=9))
            assert isinstance(await client.recv(), Ack)
        finally:
            await client.close()

    run(scenario)


def _raw_adc(adc: str, trn: int) -> SubmitSM:
    """A submit whose AdC is not a number (make_submit would refuse it)."""
    return SubmitSM(trn=trn, adc=adc, mt="3", msg="41")


def test_stop_acking_swallows_submits_and_a_retransmission_is_answered_after_resume() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            sim.stop_acking()
            await client.send(submit(trn=5))
            assert await client.nothing_within(0.4)
            assert len(sim.swallowed) == 1 and sim.submits == []
            assert sim.sessions[0].outstanding == 1  # the client still waits for it
            sim.resume_acking()
            await client.send(submit(trn=5))  # the client's retransmission
            answer = await client.recv()
            assert isinstance(answer, Ack) and answer.trn == 5
            assert sim.sessions[0].outstanding == 0
        finally:
            await client.close()

    run(scenario)


def test_ack_delay_and_max_outstanding() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            sent_at = time.monotonic()
            for trn in range(7):
                await client.send(submit(f"06{trn:08d}", trn=trn))
            answers = [await client.recv() for _ in range(7)]
            assert time.monotonic() - sent_at >= 0.25
            assert sorted(a.trn for a in answers if isinstance(a, Ack)) == list(range(7))
            assert sim.max_outstanding == 7
            sim.set_ack_delay(0)
            await client.send(submit(trn=10))
            assert isinstance(await client.recv(0.2), Ack)
        finally:
            await client.close()

    run(scenario, ack_delay_s=0.3)


def test_operations_beyond_the_window_are_discarded() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            for trn in range(5):
                await client.send(submit(f"06{trn:08d}", trn=trn))
            answers = [await client.recv() for _ in range(3)]
            assert sorted(a.trn for a in answers) == [0, 1, 2]
            assert await client.nothing_within(0.5)
            assert sim.max_outstanding == 3
            assert [e.detail[:6] for e in sim.events if e.kind == "window_exceeded"] == ["TRN 03", "TRN 04"]
        finally:
            await client.close()

    run(scenario, ack_delay_s=0.2, window=3)


def test_duplicate_trn_while_outstanding_is_discarded() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            await client.send(submit(trn=1))
            await client.send(submit(trn=1))
            assert isinstance(await client.recv(), Ack)
            assert await client.nothing_within(0.4)
            assert [e.kind for e in sim.events].count("duplicate_trn") == 1
        finally:
            await client.close()

    run(scenario, ack_delay_s=0.2)


def test_garbage_gets_the_codecs_nack_and_the_session_survives() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            good = encode_frame(alert_frame("esme", trn=11))
            bad_checksum = good[:-2] + (b"00" if good[-2:] != b"00" else b"01")
            await client.send(b"line noise\r\n" + wrap(bad_checksum))
            answer = await client.recv()
            assert isinstance(answer, Nack) and (answer.ec, answer.trn, answer.ot) == ("01", 11, "31")
            unknown = b"12/00020/O/99/xyz/"
            await client.send(wrap(unknown + checksum(unknown).encode()))
            # The NACK names OT 99, which the codec refuses to decode: check the bytes.
            nack = await client.frame()
            assert nack[:-2] == b"12/00022/R/99/N/03//" and nack[-2:].decode() == checksum(nack[:-2])
            bad_field = encode_frame(Frame(13, "O", "51", ("0612", "", "", "X") + ("",) * 29))
            await client.send(wrap(bad_field))
            answer = await client.recv()
            assert isinstance(answer, Nack) and (answer.ec, answer.trn) == ("02", 13)
            await client.send(b"\x02not a frame at all\x03")
            await client.send(submit(trn=14))
            answer = await client.recv()  # the unreadable header got no answer
            assert isinstance(answer, Ack) and answer.trn == 14
            assert [e.kind for e in sim.events].count("bad_frame") == 4
        finally:
            await client.close()

    run(scenario)


def test_oversized_frame_is_skipped_and_the_session_survives() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            await client.send(submit(trn=1, text="x" * 200))  # 400 hex digits of AMsg
            assert await client.nothing_within(0.3)
            await client.send(submit(trn=2, text="short"))
            answer = await client.recv()
            assert isinstance(answer, Ack) and answer.trn == 2
            assert [e.kind for e in sim.events].count("frame_too_large") == 1
            assert [s.trn for s in sim.submits] == [2]
        finally:
            await client.close()

    run(scenario, max_frame=256)


def test_client_leaving_mid_frame_is_harmless() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        await client.send(wrap(encode_frame(submit().to_frame()))[:30])
        await client.close()
        await sim.wait_for(lambda: any(e.kind == "partial_frame" for e in sim.events))
        await sim.wait_for(lambda: sim.sessions == [])
        again = await bound_client(sim)
        try:
            await again.send(submit())
            assert isinstance(await again.recv(), Ack)
        finally:
            await again.close()

    run(scenario)


def test_send_garbage_reaches_every_client() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        client = await bound_client(sim)
        try:
            assert sim.send_garbage(b"\x02zz\x03junk") == 1
            assert await client.raw() == b"\x02zz\x03junk"
        finally:
            await client.close()

    run(scenario)


def test_config_is_checked() -> None:
    with pytest.raises(ConfigError):
        SimulatorConfig(dr_outcomes={"lost": 1.0})
    with pytest.raises(ConfigError):
        SimulatorConfig(dr_outcomes={"delivered": 0.0})
    with pytest.raises(ConfigError):
        SimulatorConfig(window=101)
    with pytest.raises(ConfigError):
        SmscSimulator().refuse_next(1, "4")


# -- HTTP control API and command line --------------------------------------------------


def test_http_api_injects_mo_reports_status_and_drops() -> None:
    async def scenario(sim: SmscSimulator) -> None:
        assert sim.http_port
        client = await bound_client(sim)
        base = f"http://127.0.0.1:{sim.http_port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=3) as http:
                reply = await http.post("/mo", json={"sender": "0612345678", "recipient": "4444", "text": "hi"})
                assert reply.status_code == 200 and reply.json() == {"frames": 1}
                deliver = await client.recv()
                assert isinstance(deliver, DeliverSM) and deliver.text == "hi"
                assert (await http.post("/mo", json={"sender": "1"})).status_code == 400
                assert (await http.post("/mo", content=b"not json")).status_code == 400
                reply = await http.post("/faults", json={"refuse_next": {"count": 1, "ec": "04"}})
                assert reply.status_code == 200
                await client.send(submit(trn=1))
                answer = await client.recv()
                assert isinstance(answer, Nack) and answer.ec == "04"
                status = (await http.get("/status")).json()
                assert status["sessions"][0]["username"] == "esme"
                assert (status["submits"], status["refused"], status["max_outstanding"]) == (0, 1, 1)
                assert (await http.get("/nowhere")).status_code == 404
                assert (await http.post("/drop")).json() == {"dropped": 1}
                await sim.wait_for(lambda: sim.sessions == [])
                reply = await http.post("/mo", json={"sender": "0612345678", "recipient": "4444", "text": "hi"})
                assert reply.status_code == 409
        finally:
            await client.close()

    run(scenario, http_port=0)


def test_cli_prints_its_port_serves_and_stops_on_sigterm() -> None:
    command = [
        sys.executable, "-m", "msghub.devtools.emi.simulator_cli",
        "--port", "0", "--account", "esme:secret", "--dr-outcomes", "delivered=0.9,failed=0.1", "--seed", "1",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready, "the simulator printed nothing within 15 s"
        line = proc.stdout.readline()
        assert "listening on 127.0.0.1:" in line, line
        port = int(line.rsplit(":", 1)[1])

        async def talk() -> None:
            client = Client(*await asyncio.open_connection("127.0.0.1", port))
            try:
                assert isinstance(await client.login("esme", "secret"), Ack)
                assert isinstance(await client.login("esme", "wrong"), Nack)
            finally:
                await client.close()

        asyncio.run(talk())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_cli_refuses_bad_arguments() -> None:
    from msghub.devtools.emi.simulator_cli import main

    with pytest.raises(SystemExit):
        main(["--account", "no-colon"])
    with pytest.raises(SystemExit):
        main(["--dr-outcomes", "delivered=x"])
    assert main(["--window", "0", "--port", "0"]) == 2
