"""The simulator over real pseudo-terminals and TCP: what a client sees."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from msghub.devtools.modem import FAULTS, ModemSimulator
from msghub.errors import ConfigError
from msghub.sms.pdu import Address, SmsDeliver, SmsStatusReport, SmsSubmit, decode, encode
from tests.modem_sim.client import LinkGone, PtyClient


@pytest.fixture
def sim() -> Iterator[ModemSimulator]:
    with ModemSimulator("generic", report_delay_s=0.2) as s:
        yield s
        assert s.internal_errors == []


def test_answers_on_the_pty_and_records_commands(sim: ModemSimulator) -> None:
    with PtyClient(sim.path) as c:
        assert c.command("AT") == ["OK"]
        assert c.command("ATE0") == ["OK"]
        assert c.command("AT+CGMI;+CGSN") == ["msghub", "350000000000006", "OK"]
    assert sim.commands == ["AT", "ATE0", "AT+CGMI;+CGSN"]
    assert sim.wait_for(lambda: not sim.connected)


def test_settings_survive_the_client_reopening_the_port(sim: ModemSimulator) -> None:
    with PtyClient(sim.path) as c:
        c.command("ATE0")
        c.send(b"AT+CG")  # half a line, then the port closes
    assert sim.wait_for(lambda: not sim.connected)
    with PtyClient(sim.path) as c:
        c.send(b"AT\r")
        assert c.read_until(b"OK\r\n") == b"\r\nOK\r\n"  # no echo, the half line is gone
    assert sim.settings.echo is False


def test_inbound_sms_reaches_the_client_as_cmti_and_reads_back(sim: ModemSimulator) -> None:
    with PtyClient(sim.path) as c:
        c.command("ATE0;+CMGF=0;+CNMI=2,1,0,1,0")
        assert sim.inject_sms("+447700900123", "hello") == [1]
        assert c.read_until(b"\r\n", 10) == b"\r\n"
        assert c.read_until(b"\r\n") == b'+CMTI: "SM",1\r\n'
        header, pdu, ok = c.command("AT+CMGR=1")
        assert header.startswith("+CMGR: 0,,") and ok == "OK"
        msg = decode(pdu, direction="sc_to_ms")
        assert isinstance(msg, SmsDeliver) and msg.user_data == "hello"
        assert sim.storage("SM")[1]["stat"] == "REC READ"


def test_send_then_status_report(sim: ModemSimulator) -> None:
    pdu, length = encode(SmsSubmit(Address("+447700900999"), "report me", srr=True))
    with PtyClient(sim.path) as c:
        c.command("ATE0;+CMGF=0;+CNMI=2,1,0,1,0")
        c.send(f"AT+CMGS={length}\r".encode())
        c.read_until(b"> ")
        c.send(pdu.encode() + b"\x1a")
        assert c.read_until(b"OK\r\n") == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
        c.read_until(b"+CDS: ")
        c.read_until(b"\r\n")
        report_pdu = c.read_until(b"\r\n").decode().strip()
    (sent,) = sim.wait_sent(1)
    assert (sent.recipient, sent.text, sent.mr, sent.srr) == ("+447700900999", "report me", 1, True)
    report = decode(report_pdu, direction="sc_to_ms")
    assert isinstance(report, SmsStatusReport) and report.mr == 1 and report.outcome == "delivered"
    assert sim.reports == [report_pdu]


def test_wait_sent_is_bounded(sim: ModemSimulator) -> None:
    with pytest.raises(TimeoutError):
        sim.wait_sent(1, timeout_s=0.1)


def test_unplug_and_replug_on_a_stable_link(tmp_path: Path) -> None:
    link = tmp_path / "ttyMODEM0"
    with ModemSimulator("huawei", pin="1234", link=link) as sim:
        first = sim.pty_path
        assert os.path.realpath(link) == first
        with PtyClient(str(link)) as c:
            c.read_until(b"^BOOT:20952796,0,0,0,72\r\n")  # the device's power-up banner
            c.command('ATE0;+CPIN="1234"')
            sim.fault("unplug")
            with pytest.raises(LinkGone):
                c.read_until(b"never", 10)
        assert not link.exists() and sim.pty_path is None
        path = sim.replug()
        assert path == str(link) and os.path.realpath(link) == sim.pty_path
        with PtyClient(str(link)) as c:
            c.read_until(b"^BOOT:20952796,0,0,0,72\r\n")
            c.send(b"AT+CPIN?\r")
            # power-up state again: echo on, the SIM wants its PIN
            assert c.read_until(b"OK\r\n").endswith(b"AT+CPIN?\r\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n")


def test_unplug_for_a_while_comes_back_by_itself() -> None:
    with ModemSimulator() as sim:
        sim.fault("unplug", duration_s=0.2)
        assert sim.wait_for(lambda: sim.pty_path is not None)
        with PtyClient(sim.path) as c:
            assert c.command("AT") == ["OK"]


def test_no_answer_then_cleared(sim: ModemSimulator) -> None:
    with PtyClient(sim.path) as c:
        c.command("ATE0")
        sim.fault("no_answer")
        c.send(b"AT\r")
        assert c.drain(0.3) == b""
        sim.clear_faults()
        assert c.command("AT") == ["OK"]


def test_garbage_before_an_answer(sim: ModemSimulator) -> None:
    with PtyClient(sim.path) as c:
        c.command("ATE0")
        sim.fault("garbage", count=1)
        c.send(b"AT\r")
        data = c.read_until(b"OK\r\n")
        assert data.endswith(b"\r\nOK\r\n") and b"\xff" in data
        assert c.command("AT") == ["OK"]


def test_cms_error_fault_and_per_prefix(sim: ModemSimulator) -> None:
    pdu, length = encode(SmsSubmit(Address("+447900000001"), "x"))
    with PtyClient(sim.path) as c:
        c.command("ATE0;+CMEE=1")
        sim.fault("cms_error", code=42)
        sim.set_cms_error("+4479", 38)
        for expected in ("+CMS ERROR: 42", "+CMS ERROR: 38"):
            c.send(f"AT+CMGS={length}\r".encode())
            c.read_until(b"> ")
            c.send(pdu.encode() + b"\x1a")
            assert c.read_until(b"\r\n", 10) == b"\r\n"
            assert c.read_until(b"\r\n").decode().strip() == expected
        sim.set_cms_error("+4479", None)
    assert [r.error for r in sim.refused] == [42, 38] and sim.sent == []


def test_signal_and_registration_seen_by_the_client() -> None:
    with ModemSimulator("huawei") as sim, PtyClient(sim.path) as c:
        c.read_until(b"^BOOT:20952796,0,0,0,72\r\n")
        c.command("ATE0;+CREG=1")
        sim.set_signal(9)
        c.read_until(b"^RSSI:9\r\n")
        sim.set_registered(False)
        c.read_until(b"+CREG: 2\r\n")
        assert c.command("AT+CSQ") == ["+CSQ: 9,99", "OK"]
        sim.set_registered(True, roaming=True)
        c.read_until(b"+CREG: 5\r\n")


def test_the_same_device_over_tcp() -> None:
    with ModemSimulator(tcp_port=0) as sim:
        assert sim.tcp_port
        with socket.create_connection(("127.0.0.1", sim.tcp_port), timeout=10) as s:
            s.sendall(b"ATE0\r")
            data = b""
            while b"OK\r\n" not in data:
                chunk = s.recv(100)
                assert chunk
                data += chunk
            sim.inject_sms("+447700900123", "over tcp")  # +CNMI is off: stored silently
            s.sendall(b"AT+CPMS?\r")
            data = b""
            while b"OK\r\n" not in data:
                data += s.recv(100)
            assert b'+CPMS: "SM",1,30' in data


def test_bad_profile_and_fault_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="unknown modem profile"):
        ModemSimulator("nokia-3310")
    with ModemSimulator() as sim, pytest.raises(ConfigError, match="unknown fault"):
        sim.fault("meltdown")
    assert "unplug" in FAULTS


def test_slow_answers(sim: ModemSimulator) -> None:
    with PtyClient(sim.path) as c:
        c.command("ATE0")
        sim.fault("slow", delay_s=0.3)
        started = time.monotonic()
        assert c.command("AT") == ["OK"]
        assert time.monotonic() - started >= 0.3  # held back at least as long as asked
        sim.clear_faults()
        assert c.command("AT") == ["OK"]


def test_a_port_in_use_is_a_clear_error_and_leaves_nothing_behind() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        sim = ModemSimulator(tcp_port=port)
        with pytest.raises(ConfigError, match="cannot start"):
            sim.start()
        assert sim.pty_path is None
        sim.stop()  # a second stop does nothing


def test_a_data_card_with_a_data_port_and_a_silent_diagnostic_port(tmp_path: Path) -> None:
    links = [tmp_path / "if00-data", tmp_path / "if01-diag"]
    with ModemSimulator("huawei", pin="1234", link=tmp_path / "if02-command",
                        extra_ports=[("data", links[0]), ("diag", links[1])]) as sim:
        assert sim.extra_paths == [str(links[0]), str(links[1])]
        with PtyClient(str(links[0])) as data, PtyClient(str(links[1])) as diag:
            assert data.command("AT+CGSN") == ["353000000000004", "OK"]  # the same device
            assert data.command("AT+CPIN?") == ["+CPIN: SIM PIN", "OK"]
            assert data.command("AT+CMGF=?") == ["COMMAND NOT SUPPORT"]  # no SMS here
            diag.send(b"AT\r")
            assert diag.drain(0.3) == b""
            with PtyClient(sim.path) as command:
                command.read_until(b"^BOOT:20952796,0,0,0,72\r\n")
                assert command.command('ATE0;+CPIN="1234"') == ["OK"]
                sim.inject_sms("+447700900123", "only on the command port")
            assert data.command("AT+CPIN?") == ["+CPIN: READY", "OK"]
            assert b"+CMTI" not in data.drain(0.2)
            sim.fault("unplug")
            with pytest.raises(LinkGone):
                data.read_until(b"never", 10)
        assert sim.extra_paths == [None, None] and not links[0].exists()
        sim.replug()
        with PtyClient(str(links[0])) as data:
            assert all(data.command("AT") == ["OK"] for _ in range(6))  # no ^RSSI on a data port
            assert data.command('AT+CPIN="1234"') == ["OK"]  # powered up: the PIN again, here
        assert sim.state.pin_state == "READY"


def test_an_unknown_kind_of_port_is_refused() -> None:
    with pytest.raises(ConfigError, match="kind of port"):
        ModemSimulator(extra_ports=[("gps", None)])


def test_noise_on_the_wire_leaves_the_device_answering(sim: ModemSimulator) -> None:
    import random

    noise = random.Random(12).randbytes(8192)
    with PtyClient(sim.path) as c:
        for i in range(0, len(noise), 512):
            c.send(noise[i:i + 512])
        c.send(b"\x1b\rATZ\r")
        c.read_until(b"ATZ\r\r\nOK\r\n")  # ATZ: echo on again, so its echo precedes the OK
        assert c.command("AT") == ["OK"]
    assert sim.internal_errors == []


def test_chatter_comes_between_commands_by_itself() -> None:
    with ModemSimulator("huawei", chatter_s=0.05) as sim, PtyClient(sim.path) as c:
        c.read_until(b"^BOOT:20952796,0,0,0,72\r\n")
        c.read_until(b"^RSSI:20\r\n")
        c.read_until(b"^DSFLOWRPT:")
        c.send(b"ATE0\r")
        c.read_until(b"OK\r\n")
        for _ in range(20):  # answers stay whole whatever the device prints meanwhile
            c.send(b"AT+CSQ\r")
            assert c.read_until(b"OK\r\n").endswith(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
    assert sim.internal_errors == []
