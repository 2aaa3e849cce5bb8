"""The modem connector against the modem simulator (msghub.devtools.modem)
over real pseudo-terminals: every vendor profile, and every fault."""

from __future__ import annotations

import asyncio
import os
import tempfile

import pytest

from msghub.connectors.base import TemporaryFailure, UncertainFailure
from msghub.connectors.modem.device import DeviceError
from msghub.devtools.modem import PROFILES, ModemSimulator
from tests.modem.support import HubRecorder, connector, run, until
from tests.modem.test_connector import sms

PROFILE_NAMES = sorted(PROFILES)


@pytest.mark.parametrize("profile", PROFILE_NAMES)
@pytest.mark.parametrize("receive", ["stored", "direct"])
def test_every_profile_sends_reports_and_receives(profile: str, receive: str) -> None:
    async def body() -> None:
        with ModemSimulator(profile, report_delay_s=0.1) as sim:
            hub = HubRecorder()
            conn = connector(sim.path, hub, receive=receive, own_number="+31600000000")
            try:
                await conn.open()
                meta = hub.metas[-1]
                assert meta["imei"] and meta["model"] and meta["registration"] == "home"
                result = await conn.send(sms("Hello from msghub, €10 {ok}", delivery_report=True))
                assert sim.sent[0].text == "Hello from msghub, €10 {ok}" and sim.sent[0].srr
                await until(lambda: hub.reports, "the status report")
                assert (hub.reports[0].operator_ref, hub.reports[0].status) == (result.operator_ref, "delivered")
                long = await conn.send(sms("Привет, мир! " * 12, id=300))
                assert len(long.segments) == 3
                assert "".join(s.text for s in sim.sent[1:]) == "Привет, мир! " * 12  # type: ignore[misc]
                sim.inject_sms("+31611111111", "hi from a handset")
                sim.inject_sms("+31622222222", "a long answer " * 20)
                await until(lambda: len(hub.delivered) == 2, "both inbound messages")
                texts = sorted(m.text for m in hub.delivered)
                assert texts == sorted(["hi from a handset", "a long answer " * 20])
                if receive == "stored":
                    await until(lambda: not sim.storage(conn.devices[sim.path].info.storage or "SM"),
                                "storage emptied")
            finally:
                await conn.close()

    run(body)


def test_pin_is_entered_and_a_wrong_pin_is_not_retried() -> None:
    async def body() -> None:
        with ModemSimulator("huawei", pin="4321") as sim:
            conn = connector(sim.path, pin="4321")
            await conn.open()
            await conn.close()
        with ModemSimulator("zte", pin="4321") as sim:
            for _ in range(3):
                with pytest.raises(DeviceError, match=r"refused the PIN|refused before"):
                    await connector(sim.path, pin="1111").open()
            tries = [c for c in sim.commands if c.upper().startswith("AT+CPIN=")]
            assert tries == ['AT+CPIN="1111"']

    run(body)


def test_a_refused_recipient_fails_alone() -> None:
    async def body() -> None:
        with ModemSimulator("wavecom", cms_error_for={"+4479": 21, "+4470": 38}) as sim:
            conn = connector(sim.path)
            try:
                await conn.open()
                outcomes = await asyncio.gather(
                    conn.send(sms(recipient="+447911123456", id=1)), conn.send(sms(recipient="+447011123456", id=2)),
                    conn.send(sms(recipient="+31612345678", id=3)), return_exceptions=True)
                assert type(outcomes[0]).__name__ == "PermanentFailure"
                assert isinstance(outcomes[1], TemporaryFailure) and outcomes[1].code == "network_out_of_order"
                assert not isinstance(outcomes[2], BaseException)
                assert [s.recipient for s in sim.sent] == ["+31612345678"]
            finally:
                await conn.close()

    run(body)


def test_no_network_is_a_temporary_failure_and_registration_shows() -> None:
    async def body() -> None:
        with ModemSimulator("generic") as sim:
            hub = HubRecorder()
            conn = connector(sim.path, hub)
            try:
                await conn.open()
                sim.set_registered(False)
                await until(lambda: hub.metas[-1].get("registration") == "searching", "the +CREG URC")
                with pytest.raises(TemporaryFailure) as caught:
                    await conn.send(sms())
                assert caught.value.code == "no_network"
                sim.set_registered(True)
                await until(lambda: hub.metas[-1].get("registration") == "home", "registered again")
                await conn.send(sms())
            finally:
                await conn.close()

    run(body)


def test_signal_changes_reach_the_state() -> None:
    async def body() -> None:
        with ModemSimulator("huawei") as sim:
            hub = HubRecorder()
            conn = connector(sim.path, hub, status_interval_s=1)
            try:
                await conn.open()
                sim.set_signal(9)
                await until(lambda: hub.metas[-1]["signal"] == "-95 dBm (9/31)", "the new signal")
            finally:
                await conn.close()

    run(body)


def test_no_answer_fault_drops_the_link_and_reopening_recovers() -> None:
    async def body() -> None:
        with ModemSimulator("generic") as sim:
            conn = connector(sim.path, send_timeout_s=1, command_timeout_s=1, unresponsive_after=2, sweep=False)
            try:
                await conn.open()
                sim.fault("no_answer")
                for _ in range(2):
                    with pytest.raises((UncertainFailure, TemporaryFailure)):
                        await conn.send(sms())
                await asyncio.wait_for(conn.wait_lost(), 30)
            finally:
                await conn.close()
            sim.clear_faults()
            again = connector(sim.path)
            try:
                await again.open()  # reset and re-initialised
                await again.send(sms())
            finally:
                await again.close()

    run(body)


def test_garbage_between_answers_is_survived() -> None:
    async def body() -> None:
        with ModemSimulator("zte") as sim:
            conn = connector(sim.path, command_timeout_s=2)
            try:
                await conn.open()
                sim.fault("garbage", count=3)
                ok = 0
                for i in range(6):
                    try:
                        await conn.send(sms(f"n{i}", id=i))
                        ok += 1
                    except (UncertainFailure, TemporaryFailure):
                        pass
                assert ok >= 3 and len(sim.sent) >= ok
                await conn.send(sms("after the noise", id=99))
            finally:
                await conn.close()

    run(body)


def test_unplug_mid_send_is_uncertain_and_a_replug_on_the_same_name_works() -> None:
    async def body() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            link = os.path.join(tmp, "usb-modem-if00")
            with ModemSimulator("huawei", link=link, send_delay_s=0.5) as sim:
                conn = connector(link)
                try:
                    await conn.open()
                    task = asyncio.create_task(conn.send(sms()))
                    await asyncio.to_thread(sim.wait_for, lambda: any(c.startswith("AT+CMGS") for c in sim.commands))
                    sim.fault("unplug")
                    with pytest.raises((UncertainFailure, TemporaryFailure)) as caught:
                        await task
                    if isinstance(caught.value, UncertainFailure):
                        assert caught.value.code in ("link_lost", "no_answer")
                    await asyncio.wait_for(conn.wait_lost(), 30)
                finally:
                    await conn.close()
                sim.replug()
                again = connector(link)
                try:
                    await again.open()
                    await again.send(sms("after the replug"))
                    assert sim.sent[-1].text == "after the replug"
                finally:
                    await again.close()

    run(body)


def test_a_reboot_is_noticed_and_the_next_open_reinitialises() -> None:
    async def body() -> None:
        with ModemSimulator("huawei") as sim:
            conn = connector(sim.path)
            try:
                await conn.open()
                sim.fault("reboot")  # echo on, +CNMI off: the connector's setup is gone
                await conn.send(sms("echo on now"))  # the channel copes with the echo
                reason = await asyncio.wait_for(conn.wait_lost(), 30)  # and sees the device restarted
                assert "restarted" in reason
            finally:
                await conn.close()
            again = connector(sim.path)
            try:
                await again.open()
                assert sim.settings.cnmi  # type: ignore[attr-defined]
            finally:
                await again.close()

    run(body)


def test_messages_left_in_storage_are_swept_at_start() -> None:
    async def body() -> None:
        with ModemSimulator("wavecom") as sim:
            hub = HubRecorder()
            for i in range(3):
                sim.inject_sms("+31611111111", f"waiting {i}")
            await until(lambda: len(sim.storage("SM")) == 3, "three stored messages")
            conn = connector(sim.path, hub)
            try:
                await conn.open()
                await until(lambda: len(hub.delivered) == 3, "the sweep")
                assert sorted(m.text for m in hub.delivered) == [f"waiting {i}" for i in range(3)]
            finally:
                await conn.close()

    run(body)


def test_over_tcp() -> None:
    async def body() -> None:
        with ModemSimulator("generic", tcp_port=0) as sim:
            conn = connector(f"tcp://127.0.0.1:{sim.tcp_port}")
            try:
                await conn.open()
                await conn.send(sms("over a serial server"))
                assert sim.sent[-1].text == "over a serial server"
            finally:
                await conn.close()

    run(body)


def test_the_connections_page_test_button_probes_a_modem_read_only() -> None:
    from msghub.services.connections import probe  # what the page's Test button runs

    async def body() -> None:
        with ModemSimulator("wavecom", imei="359876543210987") as sim:
            result = await probe("modem", {"port": sim.path})
            worked, detail = result.ok, result.detail
            assert worked and "359876543210987" in detail and "SIM READY" in detail
            assert not any(c.upper().startswith(("AT+CMGF=0", "AT+CNMI=", "ATZ")) for c in sim.commands)
            conn = connector(sim.path)
            try:
                await conn.open()
                result = await probe("modem", {"port": sim.path})
                worked, detail = result.ok, result.detail
                assert not worked and "in use" in detail
            finally:
                await conn.close()

    run(body)


@pytest.mark.parametrize("profile", ["huawei", "generic"])
def test_status_reports_stored_in_sr_are_read_from_there(profile: str) -> None:
    async def body() -> None:
        with ModemSimulator(profile, report_delay_s=0.1) as sim:
            hub = HubRecorder()
            conn = connector(sim.path, hub, init="AT+CNMI=2,1,0,2,0")  # ds 2: +CDSI: "SR",<index>
            try:
                await conn.open()
                result = await conn.send(sms("report me", delivery_report=True))
                await until(lambda: hub.reports, "the stored status report")
                assert (hub.reports[0].operator_ref, hub.reports[0].status) == (result.operator_ref, "delivered")
                await until(lambda: not sim.storage("SR"), "the report deleted from SR")
                sim.inject_sms("+31611111111", "still read from SM")
                await until(lambda: hub.delivered, "a message after the switch back")
            finally:
                await conn.close()

    run(body)


def test_failed_and_pending_reports_carry_their_reason() -> None:
    async def body() -> None:
        with ModemSimulator("generic", report_delay_s=0.1, report_status_for={"+4479": 0x46, "+4477": 0x21}) as sim:
            hub = HubRecorder()
            conn = connector(sim.path, hub)
            try:
                await conn.open()
                failed = await conn.send(sms(recipient="+447911123456", delivery_report=True, id=1))
                pending = await conn.send(sms(recipient="+447711123456", delivery_report=True, id=2))
                await until(lambda: len(hub.reports) == 2, "both reports")
                by_ref = {r.operator_ref: r for r in hub.reports}
                assert (by_ref[failed.operator_ref].status, by_ref[failed.operator_ref].reason) == (
                    "failed", "validity_expired (TP-ST 0x46)")
                assert (by_ref[pending.operator_ref].status, by_ref[pending.operator_ref].reason) == (
                    "buffered", "sme_busy (TP-ST 0x21)")
            finally:
                await conn.close()

    run(body)


def test_flash_validity_and_8bit_inbound() -> None:
    from datetime import UTC, datetime, timedelta

    async def body() -> None:
        with ModemSimulator("huawei") as sim:
            hub = HubRecorder()
            conn = connector(sim.path, hub, flash_priority=3, validity_min=60)
            try:
                await conn.open()
                await conn.send(sms("flash!", priority=3, id=1))
                await conn.send(sms("normal", priority=1, id=2,
                                    valid_until=datetime.now(UTC) + timedelta(hours=2)))
                flash, normal = (s.message for s in sim.sent)
                assert flash.message_class == 0 and normal.message_class is None
                assert flash.validity == timedelta(minutes=60)
                assert timedelta(hours=1, minutes=50) < normal.validity <= timedelta(hours=2)
                sim.inject_sms("+31611111111", "\x00\x01binary\xff", encoding="8bit")
                await until(lambda: hub.delivered, "the 8-bit message")
                message = hub.delivered[0]
                assert message.text == "" and message.attachments[0].data == b"\x00\x01binary\xff"
            finally:
                await conn.close()

    run(body)


def test_cms_error_and_slow_faults() -> None:
    async def body() -> None:
        with ModemSimulator("zte") as sim:
            conn = connector(sim.path, command_timeout_s=5, send_timeout_s=5, sweep=False)
            try:
                await conn.open()
                sim.fault("cms_error", count=1, code=42)
                with pytest.raises(TemporaryFailure) as caught:
                    await conn.send(sms("congested", id=1))
                assert caught.value.code == "congestion"
                await conn.send(sms("after the congestion", id=2))
                sim.fault("slow", delay_s=0.5)  # slower than a real modem's first answer, inside the timeouts
                await conn.send(sms("slowly", id=3))
                sim.clear_faults()
                assert [s.text for s in sim.sent] == ["after the congestion", "slowly"]
            finally:
                await conn.close()

    run(body)
