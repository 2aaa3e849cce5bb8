"""The simulated device's AT behaviour, command by command (engine only)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from msghub.devtools.modem.device import Network
from msghub.sms.pdu import Address, SmsDeliver, SmsStatusReport, SmsSubmit, decode, encode
from tests.modem_sim.harness import Bench


def submit_hex(number: str = "+447700900999", text: str = "hi", srr: bool = False) -> tuple[str, int]:
    return encode(SmsSubmit(Address(number), text, srr=srr))


def send_pdu(b: Bench, number: str = "+447700900999", text: str = "hi", srr: bool = False) -> list[str]:
    pdu, length = submit_hex(number, text, srr)
    assert b.at(f"AT+CMGS={length}") == "\r\n> "
    b.engine.feed(pdu.encode() + b"\x1a")
    b.advance()
    return [x for x in b.take().split("\r\n") if x]


def test_basic_answers_and_echo() -> None:
    b = Bench(echo=True)
    assert b.at("AT") == "AT\r\r\nOK\r\n"
    assert b.at("ATE0") == "ATE0\r\r\nOK\r\n"  # echo of the command that turns it off
    assert b.at("AT") == "\r\nOK\r\n"
    assert b.at("ATE1") == "\r\nOK\r\n"
    assert b.at("AT").startswith("AT\r")


def test_numeric_results_and_quiet() -> None:
    b = Bench()
    assert b.at("ATV0") == "0\r"
    assert b.at("AT+NOSUCH") == "4\r"
    assert b.at("AT+CSQ") == "+CSQ: 20,99\r\n0\r"
    b.at("ATV1")
    assert b.at("ATQ1") == ""
    assert b.at("ATQ0") == "\r\nOK\r\n"


def test_several_commands_on_one_line_stop_at_the_first_error() -> None:
    b = Bench()
    assert b.lines("AT+CGMI;+CGMM") == ["msghub", "SIM-1", "OK"]
    assert b.lines("ATE0+CMEE=1;+CMGF=1;+CMGF=7;+CMGF=0") == ["+CMS ERROR: 305"]
    assert b.state.settings.cmgf == 1  # the ones before the error ran
    assert b.lines("AT+CMGF?") == ["+CMGF: 1", "OK"]


def test_line_discipline_noise_backspace_and_repeat() -> None:
    b = Bench()
    b.engine.feed(b"\x00garbage\rATX\x08+CGSN\r")
    b.advance()
    assert b.take() == "\r\n350000000000006\r\n\r\nOK\r\n"
    b.engine.feed(b"A/")
    assert b.take() == "\r\n350000000000006\r\n\r\nOK\r\n"
    b.engine.feed(b"\x1b\x1a\n")  # stray prompt terminators outside a prompt do nothing
    assert b.take() == ""
    b.engine.feed(b"at+cgmm\r")  # lower case is fine
    assert b.take() == "\r\nSIM-1\r\n\r\nOK\r\n"


@pytest.mark.parametrize(("cmee", "expected"), [
    ("0", "ERROR"), ("1", "+CME ERROR: 11"), ("2", "+CME ERROR: SIM PIN required"),
])
def test_cmee_modes(cmee: str, expected: str) -> None:
    b = Bench(pin="1234")
    b.at(f"AT+CMEE={cmee}")
    assert b.lines("AT+CIMI") == [expected]


def test_pin_flow_wrong_then_right() -> None:
    b = Bench(pin="1234")
    b.at("AT+CMEE=1;+CREG=1")
    assert b.lines("AT+CPIN?") == ["+CPIN: SIM PIN", "OK"]
    assert b.lines("AT+CREG?") == ["+CREG: 1,0", "OK"]
    assert b.lines('AT+CPIN="0000"') == ["+CME ERROR: 16"]
    assert b.lines('AT+CPIN="1234"') == ["OK", "+CREG: 1"]
    assert b.lines("AT+CPIN?") == ["+CPIN: READY", "OK"]
    assert b.lines("AT+CIMI") == ["001010123456789", "OK"]
    assert b.lines('AT+CPIN="1234"') == ["OK"]  # no PIN needed any more


def test_three_wrong_pins_need_the_puk() -> None:
    b = Bench(pin="1234")
    b.at("AT+CMEE=1")
    assert b.lines('AT+CPIN="1"') == ["+CME ERROR: 16"]
    assert b.lines('AT+CPIN="2"') == ["+CME ERROR: 16"]
    assert b.lines('AT+CPIN="3"') == ["+CME ERROR: 12"]
    assert b.lines("AT+CPIN?") == ["+CPIN: SIM PUK", "OK"]
    assert b.lines('AT+CPIN="1234"') == ["+CME ERROR: 16"]  # the PIN no longer helps
    assert b.lines("AT+CMGL=4") == ["+CMS ERROR: 316"]
    assert b.lines('AT+CPIN="12345678","4321"') == ["OK"]
    assert b.state.pin == "4321"
    assert b.lines("AT+CPIN?") == ["+CPIN: READY", "OK"]


def test_no_sim() -> None:
    b = Bench()
    b.state.sim_present = False
    b.at("AT+CMEE=1")
    assert b.lines("AT+CPIN?") == ["+CME ERROR: 10"]
    assert b.lines("AT+CMGS=20") == ["+CMS ERROR: 310"]
    assert b.lines("AT+CGMI") == ["msghub", "OK"]  # identity needs no SIM


@pytest.mark.parametrize(("profile", "word"), [
    ("generic", "ERROR"), ("huawei", "COMMAND NOT SUPPORT"), ("zte", "ERROR"), ("wavecom", "ERROR"),
])
def test_unknown_commands_in_each_dialect(profile: str, word: str) -> None:
    b = Bench(profile)
    b.state.settings.curc = 0  # no ^RSSI in the way
    assert b.lines("AT+NOSUCHTHING=1") == [word]
    assert b.lines("AT+ZPAS?") == (['+ZPAS: "UMTS","CS_PS"', "OK"] if profile == "zte" else [word])


def test_wavecom_quirks() -> None:
    b = Bench("wavecom")
    assert b.lines("AT+CGMI") == [" WAVECOM MODEM", "OK"]
    assert b.lines("AT+CPIN?") == ["+CPIN: READY"]  # no OK after it
    b.at("AT+CMEE=1")
    assert b.lines('AT+CPMS="SM","SM","SM"') == ["+CMS ERROR: 302"]  # three memories: refused
    assert b.lines('AT+CPMS="SM","SM"') == ["+CPMS: 0,50,0,50,0,50", "OK"]
    assert b.lines("AT+WIND?") == ["+WIND: 0", "OK"]


def test_huawei_rssi_between_command_and_answer_until_curc_0() -> None:
    b = Bench("huawei")
    answers = [b.lines("AT+CSQ") for _ in range(5)]
    assert answers[:4] == [["+CSQ: 20,99", "OK"]] * 4
    assert answers[4] == ["^RSSI:20", "+CSQ: 20,99", "OK"]
    b.at("AT^CURC=0")
    assert all(b.lines("AT") == ["OK"] for _ in range(10))


def test_signal_and_registration_urcs() -> None:
    from msghub.devtools.modem.commands import registration_changed, signal_changed

    b = Bench("huawei")
    b.state.rssi = 7
    signal_changed(b.engine)
    assert b.take() == "\r\n^RSSI:7\r\n"
    b.at("AT+CREG=2")
    b.state.network = False
    registration_changed(b.engine)
    assert b.take() == "\r\n+CREG: 2\r\n"
    assert b.lines("AT+COPS?") == ["+COPS: 0", "OK"]
    b.state.network = True
    registration_changed(b.engine)
    assert b.take() == '\r\n+CREG: 1,"1A2B","00003C4D"\r\n\r\n^SRVST:2\r\n'
    assert b.lines("AT+CREG?") == ['+CREG: 2,1,"1A2B","00003C4D"', "OK"]
    assert b.lines("AT+COPS=3,2;+COPS?") == ['+COPS: 0,2,"00101",2', "OK"]


def test_cmgs_pdu_mode_records_the_decoded_submit() -> None:
    b = Bench()
    assert send_pdu(b, text="hello world") == ["+CMGS: 1", "OK"]
    assert send_pdu(b, text="again") == ["+CMGS: 2", "OK"]
    sent = b.state.sent
    assert [(s.recipient, s.text, s.mr) for s in sent] == [("+447700900999", "hello world", 1),
                                                           ("+447700900999", "again", 2)]
    assert isinstance(sent[0].message, SmsSubmit)


def test_cmgs_with_echo_echoes_the_pdu() -> None:
    b = Bench(echo=True)
    pdu, length = submit_hex()
    assert b.at(f"AT+CMGS={length}") == f"AT+CMGS={length}\r\r\n> "
    b.engine.feed(pdu.encode() + b"\x1a")
    assert b.take() == pdu + "\r\n+CMGS: 1\r\n\r\nOK\r\n"


def test_cmgs_refusals() -> None:
    b = Bench(network=Network(cms_error_for={"+4479..": 38, "+44791": 21}))  # trailing dots: a prefix
    b.at("AT+CMEE=1")
    assert send_pdu(b, "+447900000000") == ["+CMS ERROR: 38"]
    assert send_pdu(b, "+447910000000") == ["+CMS ERROR: 21"]  # the longest prefix wins
    _, length = submit_hex()
    assert b.at(f"AT+CMGS={length + 1}") == "\r\n> "
    b.engine.feed(submit_hex()[0].encode() + b"\x1a")  # length does not match
    assert b.take() == "\r\n+CMS ERROR: 304\r\n"
    b.at(f"AT+CMGS={length}")
    b.engine.feed(b"00ZZ\x1a")
    assert b.take() == "\r\n+CMS ERROR: 304\r\n"
    b.state.network = False
    assert send_pdu(b) == ["+CMS ERROR: 331"]
    assert b.state.sent == []
    assert [r.error for r in b.state.refused] == [38, 21, 331]


def test_escape_cancels_a_prompt() -> None:
    b = Bench()
    b.at("AT+CMGS=20")
    b.engine.feed(b"0011\x1b")
    assert b.take() == "\r\nOK\r\n"
    assert b.state.sent == []
    assert b.lines("AT") == ["OK"]


def test_cmgs_text_mode() -> None:
    b = Bench()
    b.at("AT+CMGF=1;+CSMP=49,167,0,0")
    assert b.at('AT+CMGS="+447700900999"') == "\r\n> "
    b.engine.feed(b"line one\rline two\x1a")
    assert b.take() == "\r\n> \r\n+CMGS: 1\r\n\r\nOK\r\n"
    assert b.state.sent[0].text == "line one\nline two"
    assert b.state.sent[0].srr  # CSMP first octet 49 has TP-SRR


def test_send_delay_holds_the_answer_and_later_input() -> None:
    b = Bench(network=Network(send_delay_s=3.0))
    pdu, length = submit_hex()
    b.at(f"AT+CMGS={length}")
    b.engine.feed(pdu.encode() + b"\x1aAT\r")
    assert b.take() == ""
    b.advance(2.9)
    assert b.take() == ""
    b.advance(0.2)
    assert b.take() == "\r\n+CMGS: 1\r\n\r\nOK\r\n\r\nOK\r\n"


@pytest.mark.parametrize(("ds", "expect"), [(1, "+CDS: "), (2, '+CDSI: "SR",1'), (0, None)])
def test_status_report_after_the_delay(ds: int, expect: str | None) -> None:
    b = Bench(network=Network(report_delay_s=5.0, report_status_for={"+44770": 70}))
    b.at(f"AT+CNMI=2,1,0,{ds},0")
    assert send_pdu(b, srr=True) == ["+CMGS: 1", "OK"]
    b.advance(4.0)
    assert b.take() == ""
    b.advance(1.5)
    out = [x for x in b.take().split("\r\n") if x]
    if expect is None:
        assert out == []
        return
    assert out[0].startswith(expect)
    pdu = out[1] if ds == 1 else b.state.storage.memories["SR"].slots[1].pdu
    report = decode(pdu, direction="sc_to_ms")
    assert isinstance(report, SmsStatusReport)
    assert (report.mr, report.recipient.number, report.status, report.outcome) == (1, "+447700900999", 70,
                                                                                   "failed")
    if ds == 2:
        b.at('AT+CPMS="SR"')
        assert b.lines("AT+CMGR=1")[0] == "+CMGR: 0,,25"


def test_no_report_without_srr() -> None:
    b = Bench(network=Network(report_delay_s=1.0))
    b.at("AT+CNMI=2,1,0,1,0")
    send_pdu(b)
    b.advance(10)
    assert b.take() == ""


def inject(b: Bench, text: str = "hello", sender: str = "+447700900123", cls: int | None = None) -> list[int | None]:
    from datetime import UTC, datetime

    from msghub.devtools.modem import sms as pdus
    from msghub.devtools.modem.network import deliver

    parts = pdus.deliver_pdus(sender, text, scts=datetime(2026, 12, 2, 1, 2, 3, tzinfo=UTC), smsc="+447785016005",
                              ref=9, message_class=cls)
    return [deliver(b.engine, p, cls) for p in parts]


def test_inbound_stored_and_indicated_then_read_and_deleted() -> None:
    b = Bench()
    b.at("AT+CMGF=0;+CNMI=2,1,0,0,0")
    assert inject(b) == [1]
    assert b.take() == '\r\n+CMTI: "SM",1\r\n'
    header, pdu, ok = b.lines("AT+CMGR=1")
    assert header.startswith("+CMGR: 0,,") and ok == "OK"
    msg = decode(pdu, direction="sc_to_ms")
    assert isinstance(msg, SmsDeliver) and msg.user_data == "hello" and msg.sender.number == "+447700900123"
    assert b.lines("AT+CMGR=1")[0].startswith("+CMGR: 1,,")  # now read
    assert b.lines("AT+CMGL=0") == ["OK"]  # no unread left
    assert len(b.lines("AT+CMGL=4")) == 3
    assert b.lines("AT+CMGD=1") == ["OK"]
    b.at("AT+CMEE=1")
    assert b.lines("AT+CMGR=1") == ["+CMS ERROR: 321"]
    assert b.lines("AT+CMGR=999") == ["+CMS ERROR: 321"]


def test_huawei_indices_start_at_zero_and_cpms_reports_use() -> None:
    b = Bench("huawei")
    b.state.settings.curc = 0
    b.at("AT+CNMI=2,1,0,0,0")
    assert inject(b) == [0]
    assert inject(b, "second") == [1]
    assert b.take() == '\r\n+CMTI: "SM",0\r\n\r\n+CMTI: "SM",1\r\n'
    assert b.lines("AT+CPMS?") == ['+CPMS: "SM",2,30,"SM",2,30,"SM",2,30', "OK"]
    assert b.lines('AT+CPMS="ME","ME","ME"') == ["+CPMS: 0,100,0,100,0,100", "OK"]
    assert b.lines("AT+CMGL=4") == ["OK"]
    assert b.lines('AT+CPMS="SM"') == ["+CPMS: 2,30,0,100,0,100", "OK"]
    assert b.lines("AT+CMGD=0,4") == ["OK"]
    assert b.state.storage.memories["SM"].used == 0


def test_long_inbound_is_split_with_concatenation() -> None:
    b = Bench()
    b.at("AT+CNMI=2,1,0,0,0")
    indices = inject(b, "x" * 300)
    assert indices == [1, 2]
    parts = [decode(s.pdu, direction="sc_to_ms") for s in b.state.storage.memories["SM"].slots.values()]
    assert all(isinstance(p, SmsDeliver) for p in parts)
    concat = [p.udh.concat for p in parts if isinstance(p, SmsDeliver) and p.udh is not None]
    assert [(c.ref, c.total, c.seq) for c in concat if c is not None] == [(9, 2, 1), (9, 2, 2)]


def test_direct_cmt_with_and_without_cnma() -> None:
    b = Bench(network=Network(cnma_timeout_s=5.0))
    b.at("AT+CMEE=1;+CSMS=1;+CNMI=2,2,0,0,0")
    assert inject(b) == [None]
    out = [x for x in b.take().split("\r\n") if x]
    assert out[0].startswith("+CMT: ,") and decode(out[1], direction="sc_to_ms")
    assert b.lines("AT+CNMA") == ["OK"]
    assert b.lines("AT+CNMA") == ["+CMS ERROR: 340"]  # nothing left to acknowledge
    inject(b, "not acknowledged")
    b.take()
    b.advance(6.0)
    assert b.take() == '\r\n+CMTI: "SM",1\r\n'  # kept, not lost


def test_class_2_goes_to_the_sim_even_with_direct_delivery() -> None:
    b = Bench()
    b.at("AT+CNMI=2,2,0,0,0")
    assert inject(b, cls=2) == [1]
    assert b.take() == '\r\n+CMTI: "SM",1\r\n'


def test_cnmi_mode_0_buffers_until_mode_2() -> None:
    b = Bench()
    b.at("AT+CNMI=0,1,0,0,0")
    inject(b)
    assert b.take() == ""
    assert b.lines("AT+CNMI=2,1,0,0,0") == ["OK", '+CMTI: "SM",1']


def test_cnmi_ranges_per_profile() -> None:
    b = Bench()
    b.at("AT+CMEE=1")
    assert b.lines("AT+CNMI=?") == ["+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", "OK"]
    assert b.lines("AT+CNMI=3,1,0,0,0") == ["+CMS ERROR: 303"]
    assert b.lines("AT+CNMI=2,1") == ["OK"]
    assert b.lines("AT+CNMI?") == ["+CNMI: 2,1,0,0,0", "OK"]


def test_full_memory_holds_messages_back_until_a_delete() -> None:
    b = Bench(capacity={"SM": 2, "ME": 2, "SR": 2})
    b.at("AT+CNMI=2,1,0,0,0")
    assert inject(b, "a") == [1]
    assert inject(b, "b") == [2]
    assert inject(b, "c") == [None]  # nowhere to go: the network keeps it
    b.take()
    assert b.at("AT+CMGD=1") == '\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


def test_text_mode_listing() -> None:
    b = Bench()
    b.at("AT+CMGF=1;+CNMI=2,1,0,0,0")
    inject(b, "text mode")
    b.take()
    lines = b.lines('AT+CMGL="ALL"')
    assert lines == ['+CMGL: 1,"REC UNREAD","+447700900123",,"26/12/02,01:02:03+00"', "text mode", "OK"]


def test_cmgw_then_cmss() -> None:
    b = Bench()
    pdu, length = submit_hex(text="stored")
    b.at(f"AT+CMGW={length}")
    b.engine.feed(pdu.encode() + b"\x1a")
    assert [x for x in b.take().split("\r\n") if x] == ["+CMGW: 1", "OK"]
    assert b.lines("AT+CMSS=1") == ["+CMSS: 1", "OK"]
    assert b.state.sent[0].text == "stored"


def test_faults_mute_and_garbage() -> None:
    b = Bench()
    b.state.faults.mute_count = 2
    assert b.at("AT") == ""
    assert b.at("AT") == ""
    assert b.at("AT") == "\r\nOK\r\n"
    b.state.faults.garbage_count = 1
    assert b.at("AT").endswith("\r\nOK\r\n") and b.take() == ""
    b.state.faults.garbage_count = 1
    b.engine.feed(b"AT\r")
    data = b.take()
    assert data != "\r\nOK\r\n" and data.endswith("\r\nOK\r\n")
    b.state.faults.mute_until = 10.0
    assert b.at("AT") == ""
    b.advance(11)
    assert b.at("AT") == "\r\nOK\r\n"


def test_urc_waits_for_an_open_prompt() -> None:
    b = Bench()
    b.at("AT+CNMI=2,1,0,0,0")
    b.at("AT+CMGS=20")
    inject(b)
    assert b.take() == ""  # not in the middle of the prompt
    b.engine.feed(b"\x1b")
    b.advance(0.1)
    assert b.take() == '\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


def test_an_answer_held_back_is_lost_when_the_device_powers_up_meanwhile() -> None:
    b = Bench(network=Network(send_delay_s=3.0))
    pdu, length = submit_hex()
    b.at(f"AT+CMGS={length}")
    b.engine.feed(pdu.encode() + b"\x1a")
    assert len(b.state.sent) == 1  # the network has it ...
    b.engine.power_on()
    b.advance(5.0)
    assert b.take() == ""  # ... the client never hears +CMGS
    assert b.at("AT") == "AT\r\r\nOK\r\n"


def test_text_mode_in_the_ucs2_character_set() -> None:
    b = Bench()
    b.at('AT+CMGF=1;+CSCS="UCS2";+CNMI=2,1,0,0,0')
    number = "+447700900999".encode("utf-16-be").hex().upper()
    assert b.at(f'AT+CMGS="{number}"') == "\r\n> "
    b.engine.feed("Grüße €".encode("utf-16-be").hex().encode() + b"\x1a")
    assert b.take() == "\r\n+CMGS: 1\r\n\r\nOK\r\n"
    assert (b.state.sent[0].recipient, b.state.sent[0].text) == ("+447700900999", "Grüße €")
    inject(b, "Привет")
    b.take()
    header, body, _ = b.lines("AT+CMGR=1")
    assert "+447700900123".encode("utf-16-be").hex().upper() in header
    assert bytes.fromhex(body).decode("utf-16-be") == "Привет"
    b.at("AT+CMEE=1")
    assert b.at('AT+CMGS="00"') == "\r\n+CMS ERROR: 305\r\n"  # not UCS2 hex
    b.at(f'AT+CMGS="{number}"')
    b.engine.feed(b"XYZ\x1a")
    assert b.take() == "\r\n+CMS ERROR: 305\r\n"


def test_pending_then_final_reports() -> None:
    b = Bench(network=Network(report_delay_s=2.0, report_status_for={"+4477": (32, 0)}))
    b.at("AT+CNMI=2,1,0,1,0")
    send_pdu(b, srr=True)
    b.advance(2.5)
    first = [x for x in b.take().split("\r\n") if x]
    b.advance(2.0)
    second = [x for x in b.take().split("\r\n") if x]
    reports = [decode(lines[1], direction="sc_to_ms") for lines in (first, second)]
    assert [(r.mr, r.status, r.outcome) for r in reports if isinstance(r, SmsStatusReport)] == [
        (1, 32, "pending"), (1, 0, "delivered")]


def test_real_captures_are_stored_and_read_back_unchanged() -> None:
    from msghub.devtools.modem import sms as pdus
    from msghub.devtools.modem.network import deliver
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"
    root = Path(os.environ.get("MSGHUB_VECTORS", default)) / "at-sms"
    if not root.is_dir():
        pytest.skip("no at-sms vectors")
    captures = sorted(root.glob("*.dump"))
    b = Bench("huawei", capacity={"SM": 60, "ME": 10, "SR": 10})
    b.state.settings.curc = 0
    b.at("AT+CNMI=2,1,0,0,0")
    for path in captures:
        lines = [x.strip() for x in path.read_text("latin-1").splitlines() if x.strip()]
        header = next(i for i, x in enumerate(lines) if x.startswith("+CMGR"))
        # one capture ends its PDU line with a stray quote (gammu's parser skips it)
        pdu = lines[header + 1].upper().rstrip('"')
        index = deliver(b.engine, pdus.pdu_of(pdu), None)
        assert index is not None
        assert b.take() == f'\r\n+CMTI: "SM",{index}\r\n'
        head, back, ok = b.lines(f"AT+CMGR={index}")
        assert (back, ok) == (pdu, "OK")
        assert head == f"+CMGR: 0,,{len(pdu) // 2 - pdus.smsc_octets(pdu)}"
    assert len(captures) >= 30


def test_stopping_mid_send_loses_the_answer_not_the_message() -> None:
    b = Bench()
    pdu, length = submit_hex()
    b.at(f"AT+CMGS={length}")
    b.state.faults.mute_until = float("inf")
    b.engine.feed(pdu.encode() + b"\x1a")
    b.advance(1.0)
    assert b.take() == ""
    assert [s.mr for s in b.state.sent] == [1]
