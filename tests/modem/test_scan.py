"""Detection: ports of one data card grouped by IMEI (the one taking SMS
commands is the command port), silent and busy ports apart, stable names."""

from __future__ import annotations

import os

from msghub.connectors.modem.known import is_known, usable
from msghub.connectors.modem.scan import Found, candidates, connection_name, group, scan
from msghub.devtools.modem import ModemSimulator
from tests.modem.support import run


def test_ports_of_one_card_are_one_device_with_its_command_port() -> None:
    found = [
        Found("/dev/serial/by-id/usb-HUAWEI-if00-port0", "/dev/ttyUSB0", answers=True, imei="111", sms=False),
        Found("/dev/serial/by-id/usb-HUAWEI-if02-port0", "/dev/ttyUSB2", answers=True, imei="111", sms=True),
        Found("/dev/serial/by-id/usb-HUAWEI-if01-port0", "/dev/ttyUSB1", answers=False),
        Found("/dev/ttyACM0", "/dev/ttyACM0", answers=True, imei="222", sms=True),
    ]
    devices = group(found)
    assert [d.port for d in devices] == ["/dev/serial/by-id/usb-HUAWEI-if02-port0", "/dev/ttyACM0"]
    assert devices[0].other_ports == ["/dev/serial/by-id/usb-HUAWEI-if00-port0"]
    assert connection_name(devices[1]) == "modem-222"
    # configured under its other port: still known
    assert is_known(devices[0], {"/dev/serial/by-id/usb-HUAWEI-if00-port0"}, set())
    assert is_known(devices[1], set(), {"222"})
    assert not usable(Found("p", "p", answers=True, sms=True, sim="SIM PIN"), "")
    assert usable(Found("p", "p", answers=True, sms=True, sim="SIM PIN"), "1234")


def test_scan_prefers_link_names_and_reports_busy_ports(tmp_path) -> None:
    async def body() -> None:
        link = str(tmp_path / "usb-ZTE-if00")
        with ModemSimulator("zte", link=link, imei="860000000000001") as sim:
            assert (link, os.path.realpath(link)) in candidates((str(tmp_path / "*"),))
            devices, _ = await scan((str(tmp_path / "*"),))
            mine = [d for d in devices if d.port == link]
            assert len(mine) == 1 and mine[0].imei == "860000000000001" and mine[0].sms
            assert not any(c.upper().startswith(("AT+CMGF=0", "AT+CNMI=", "ATZ", "AT+CPIN=")) for c in sim.commands)
            from msghub.connectors.modem.transport import SerialTransport

            held = await SerialTransport.open(link, 115200)  # as a running connection holds it
            try:
                _, skipped = await scan((str(tmp_path / "*"),))
                assert any(s.port == link and s.busy for s in skipped)
            finally:
                await held.close()

    run(body)
