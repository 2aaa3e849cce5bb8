"""The modem connector against scripted modems on real pseudo-terminals:
settings, initialisation (PIN once, fallbacks), sending with TP-MR refs,
refusals that never stall the queue, timeouts and unplugging, receiving
(+CMTI and the start sweep), status reports, and the device's state."""

from __future__ import annotations

import asyncio

import pytest

from msghub.connectors.base import OutboundMessage, PermanentFailure, TemporaryFailure, UncertainFailure
from msghub.connectors.modem.connector import ModemConnector
from msghub.connectors.modem.device import DeviceError
from msghub.connectors.registry import kind_class
from msghub.connectors.settings import validate_config
from msghub.errors import ConfigError
from tests.modem.fakemodem import FakeModem
from tests.modem.support import HubRecorder, connector, run, until


def sms(text: str = "hello", recipient: str = "+31612345678", id: int = 1, **kw: object) -> OutboundMessage:
    return OutboundMessage(id=id, attempt=1, channel="sms", recipient=recipient, sender=None, subject=None,
                           text=text, **kw)  # type: ignore[arg-type]


def test_kind_is_registered_and_settings_are_checked() -> None:
    assert kind_class("modem") is ModemConnector
    config = validate_config(ModemConnector.settings, {"port": "/dev/ttyUSB0"})
    assert config["baud"] == 115200 and config["receive"] == "stored" and config["pin"] == ""
    assert {s.name for s in ModemConnector.settings if s.secret} == {"pin"}
    for bad, message in [({"port": "ttyUSB0"}, "neither a device path"), ({"port": "tcp://nohost"}, "tcp://HOST"),
                         ({"port": "/dev/a,/dev/a"}, "listed twice"), ({"port": "/dev/a", "pin": "12"}, "4 to 8"),
                         ({"port": "/dev/a", "init": "ATE1|foo"}, "does not start with AT"),
                         ({"port": "/dev/a", "routes": "+31"}, "PREFIX")]:
        with pytest.raises(ConfigError, match=message):
            validate_config(ModemConnector.settings, bad)


def test_opens_identifies_and_reports_state() -> None:
    async def body() -> None:
        modem = FakeModem()
        modem.start()
        hub = HubRecorder()
        conn = connector(modem.path, hub)
        try:
            await conn.open()
            meta = hub.metas[-1]
            assert (meta["manufacturer"], meta["model"], meta["imei"], meta["imsi"]) == (
                "huawei", "E1752", "351234567890123", "204080123456789")
            assert meta["operator"] == "Test Net" and meta["registration"] == "home"
            assert meta["signal"] == "-73 dBm (20/31)"
            sent = modem.peer.received
            assert sent.index("ATE0") < sent.index("AT+CMGF=0") < sent.index("AT+CNMI=2,1,0,1,0")
        finally:
            await conn.close()
            modem.close()

    run(body)


def test_sends_and_matches_the_status_report_by_tp_mr() -> None:
    async def body() -> None:
        modem = FakeModem(report=True)
        modem.start()
        hub = HubRecorder()
        conn = connector(modem.path, hub)
        try:
            await conn.open()
            result = await conn.send(sms("hello", delivery_report=True))
            assert result.operator_ref == "351234567890123/1"
            assert [s.operator_ref for s in result.segments] == ["351234567890123/1"]
            assert modem.sent[0].user_data == "hello" and modem.sent[0].srr
            await until(lambda: hub.reports, "the status report")
            assert (hub.reports[0].operator_ref, hub.reports[0].status) == ("351234567890123/1", "delivered")
            long = await conn.send(sms("x" * 200, id=7))
            assert [(s.seq, s.total, s.operator_ref) for s in long.segments] == [
                (1, 2, "351234567890123/2"), (2, 2, "351234567890123/3")]
            assert [m.udh.concat for m in modem.sent[1:]] == [(7, 2, 1), (7, 2, 2)]  # type: ignore[union-attr]
        finally:
            await conn.close()
            modem.close()

    run(body)


def test_refusals_are_named_and_do_not_stall_the_next_message() -> None:
    async def body() -> None:
        modem = FakeModem(cms_error_for={"+31600000001": 1, "+31600000038": 38})
        modem.start()
        conn = connector(modem.path)
        try:
            await conn.open()
            with pytest.raises(PermanentFailure) as permanent:
                await conn.send(sms(recipient="+31600000001"))
            assert permanent.value.code == "unassigned_number"
            with pytest.raises(TemporaryFailure) as temporary:
                await conn.send(sms(recipient="+31600000038"))
            assert temporary.value.code == "network_out_of_order"
            assert (await conn.send(sms(recipient="+31611111111"))).operator_ref.endswith("/1")
            with pytest.raises(PermanentFailure, match="not a phone number"):
                await conn.send(sms(recipient="hello"))
        finally:
            await conn.close()
            modem.close()

    run(body)


def test_an_unanswered_submit_is_uncertain_and_a_silent_device_is_dropped() -> None:
    async def body() -> None:
        modem = FakeModem()
        modem.start()
        conn = connector(modem.path, send_timeout_s=0.5, unresponsive_after=2, sweep=False)
        try:
            await conn.open()
            modem.peer.on_pdu = lambda pdu: b""  # takes the PDU, never answers
            with pytest.raises(UncertainFailure) as caught:
                await conn.send(sms())
            assert caught.value.code == "no_answer"
            assert not conn._lost.is_set()
            with pytest.raises(UncertainFailure):
                await conn.send(sms())
            reason = await asyncio.wait_for(conn.wait_lost(), 30)
            assert "no answer to 2 commands in a row" in reason
        finally:
            await conn.close()
            modem.close()

    run(body)


def test_unplugged_mid_send_is_uncertain_and_the_link_is_lost() -> None:
    async def body() -> None:
        modem = FakeModem()
        modem.start()
        conn = connector(modem.path)
        try:
            await conn.open()
            modem.peer.on_pdu = lambda pdu: (modem.peer.unplug(), b"")[1]
            with pytest.raises(UncertainFailure) as caught:
                await conn.send(sms())
            assert caught.value.code == "link_lost"
            await asyncio.wait_for(conn.wait_lost(), 30)
            with pytest.raises(TemporaryFailure, match="no device is up"):
                await conn.send(sms())
        finally:
            await conn.close()
            modem.close()

    run(body)


def test_pin_is_entered_and_a_wrong_one_is_never_sent_twice() -> None:
    async def body() -> None:
        modem = FakeModem(pin="1234")
        modem.start()
        try:
            conn = connector(modem.path, pin="1234")
            await conn.open()
            await conn.close()
            assert modem.pin_tries == ["1234"]
        finally:
            modem.close()
        modem = FakeModem(pin="1234")
        modem.start()
        try:
            for _ in range(3):
                conn = connector(modem.path, pin="9999")
                with pytest.raises(DeviceError, match="refused"):
                    await conn.open()
            assert modem.pin_tries == ["9999"]  # once, not three times: the SIM is not locked
            conn = connector(modem.path)
            with pytest.raises(DeviceError, match="needs a PIN"):
                await conn.open()
        finally:
            modem.close()

    run(body)


def test_receives_by_cmti_and_sweeps_storage_at_start() -> None:
    async def body() -> None:
        modem = FakeModem()
        modem.start()
        hub = HubRecorder()
        conn = connector(modem.path, hub, own_number="+31699999999")
        try:
            modem.inject("+31611111111", "left while we were away", index=3)
            await conn.open()
            await until(lambda: hub.delivered, "the swept message")
            assert hub.delivered[0].text == "left while we were away" and 3 not in modem.storage
            modem.inject("+31622222222", "hi there")
            await until(lambda: len(hub.delivered) == 2, "the new message")
            message = hub.delivered[1]
            assert (message.sender, message.recipients, message.text) == ("+31622222222", ("+31699999999",),
                                                                           "hi there")
            await until(lambda: not modem.storage, "the message deleted from storage")
            hub.fail_deliveries = 1
            index = modem.inject("+31633333333", "kept when the hub cannot store it")
            await until(lambda: f"AT+CMGR={index}" in modem.peer.received, "the read")
            await asyncio.sleep(0.2)
            assert index in modem.storage  # not deleted: found again by the next sweep
        finally:
            await conn.close()
            modem.close()

    run(body)


def test_refused_optional_commands_fall_back() -> None:
    async def body() -> None:
        modem = FakeModem(refuse={"AT+CNMI=2,1,0,1,0", "AT+CNMI=2,1,0,2,0", 'AT+CPMS="SM"', "AT+CGMR"})
        modem.start()
        conn = connector(modem.path)
        try:
            await conn.open()
            info = conn.devices[modem.path].info
            assert info.cnmi == "1,1,0,1,0" and info.storage == "ME" and "AT+CGMR" in info.skipped
        finally:
            await conn.close()
            modem.close()

    run(body)


def test_a_device_that_refuses_pdu_mode_is_not_used() -> None:
    async def body() -> None:
        modem = FakeModem(refuse={"AT+CMGF=0"})
        modem.start()
        try:
            with pytest.raises(DeviceError, match="PDU mode"):
                await connector(modem.path).open()
        finally:
            modem.close()

    run(body)


def test_probe_says_what_the_device_is() -> None:
    async def body() -> None:
        modem = FakeModem()
        modem.start()
        try:
            result = await ModemConnector.probe({"port": modem.path, "command_timeout_s": 5.0})
            assert result.ok and "huawei E1752" in result.detail and "Test Net" in result.detail
            assert not any(c.startswith(("AT+CMGF=0", "AT+CNMI", "ATZ")) for c in modem.peer.received)
            missing = await ModemConnector.probe({"port": "/dev/nonexistent-modem"})
            assert not missing.ok and "cannot open" in missing.detail
        finally:
            modem.close()

    run(body)
