"""Finding devices: which serial ports have a modem behind them.

Each candidate port (/dev/ttyUSB*, /dev/ttyACM*, /dev/serial/by-id/* and any
globs given) is opened with short timeouts and asked, read-only, who it is:
AT, ATE0, +CGMI, +CGMM, +CGSN (IMEI), +CIMI, +CPIN?, +COPS?, and AT+CMGF=?
(whether it takes SMS commands). Nothing is changed on the device. A data
card shows several ports with one IMEI: the one that takes SMS commands is
its command port, the others are listed as its other ports. A port that
stays silent (a diagnostic or GPS port, or no modem at all) is skipped, and
one that is locked by another program (the running hub) is reported busy.
/dev/serial/by-id names survive re-plugging, so they are what a new
connection is keyed by; without one, the port as found.
"""

from __future__ import annotations

import asyncio
import glob
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from msghub.connectors.modem.channel import AtChannel
from msghub.connectors.modem.device import operator_of
from msghub.connectors.modem.errors import AtCommandError, AtError, LinkDown
from msghub.connectors.modem.transport import SerialTransport

DEFAULT_GLOBS = ("/dev/ttyUSB*", "/dev/ttyACM*", "/dev/serial/by-id/*")
SCAN_TIMEOUT_S = 1.5


@dataclass
class Found:
    port: str  # the stable name (by-id where there is one)
    device: str  # the real device file
    answers: bool = False
    busy: bool = False
    sms: bool = False
    manufacturer: str = ""
    model: str = ""
    imei: str = ""
    imsi: str = ""
    sim: str = ""  # READY, SIM PIN, SIM PUK, absent
    operator: str = ""
    error: str = ""
    other_ports: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def candidates(globs: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(stable name, real device) for each distinct device file."""
    by_device: dict[str, str] = {}
    for pattern in (*DEFAULT_GLOBS, *globs):
        for path in sorted(glob.glob(pattern)):
            real = os.path.realpath(path)
            if not os.path.exists(real):
                continue
            known = by_device.get(real)
            # a link name (by-id, or a configured one) is stabler than the device file
            if known is None or (known == real and path != real):
                by_device[real] = path
    return sorted(((name, real) for real, name in by_device.items()), key=lambda item: item[0])


async def _ask(channel: AtChannel, command: str, expect: str | None = None) -> str | None:
    try:
        answer = await channel.command(command, timeout_s=SCAN_TIMEOUT_S, expect=expect,
                                       lenient=expect is not None)
    except AtCommandError as exc:
        return f"!{exc.reason.name}"
    if expect:
        return answer.first(expect)
    return answer.lines[0].strip().strip('"') if answer.lines else ""


async def identify(name: str, device: str, baud: int = 115200) -> Found:
    found = Found(port=name, device=device)
    try:
        transport = await SerialTransport.open(device, baud)
    except LinkDown as exc:
        text = str(exc)
        found.busy = "lock" in text.lower() or "busy" in text.lower()
        found.error = text
        return found
    channel = AtChannel(transport, lambda _urc: None, name=name, unresponsive_after=1000)
    channel.start()
    try:
        await transport.write(b"\x1b")
        for _ in range(2):
            try:
                await channel.command("AT", timeout_s=SCAN_TIMEOUT_S)
                found.answers = True
                break
            except AtCommandError:
                found.answers = True
                break
            except AtError:
                continue
        if not found.answers:
            found.error = "no answer to AT"
            return found
        await _ask(channel, "ATE0")
        for command, attr in (("AT+CGMI", "manufacturer"), ("AT+CGMM", "model"), ("AT+CGSN", "imei"),
                              ("AT+CIMI", "imsi")):
            value = await _ask(channel, command)
            if value and not value.startswith("!"):
                setattr(found, attr, value.split(":", 1)[1].strip() if value.upper().startswith("+") else value)
        sim = await _ask(channel, "AT+CPIN?", "+CPIN:")
        found.sim = "absent" if sim in ("!sim_not_inserted", "!sim_failure") else (sim or "unknown").upper()
        cops = await _ask(channel, "AT+COPS?", "+COPS:")
        found.operator = operator_of(cops) if cops and not cops.startswith("!") else ""
        cmgf = await _ask(channel, "AT+CMGF=?")
        found.sms = cmgf is not None and not cmgf.startswith("!")
    except AtError as exc:
        found.error = str(exc)
    finally:
        await channel.close()
    return found


def group(found: list[Found]) -> list[Found]:
    """One entry per device: ports sharing an IMEI are one data card."""
    devices: list[Found] = []
    by_imei: dict[str, Found] = {}
    for entry in found:
        if not entry.answers:
            continue
        if not entry.imei:
            devices.append(entry)
            continue
        main = by_imei.get(entry.imei)
        if main is None:
            by_imei[entry.imei] = entry
            devices.append(entry)
        elif entry.sms and not main.sms:
            entry.other_ports = [*main.other_ports, main.port]
            by_imei[entry.imei] = entry
            devices[devices.index(main)] = entry
        else:
            main.other_ports.append(entry.port)
    return devices


async def scan(globs: tuple[str, ...] = (), *, baud: int = 115200) -> tuple[list[Found], list[Found]]:
    """(modems, ports that are busy or silent)."""
    ports = candidates(globs)
    results = await asyncio.gather(*(identify(name, device, baud) for name, device in ports))
    return group(list(results)), [r for r in results if not r.answers]


def connection_name(found: Found) -> str:
    tail = found.imei[-6:] if found.imei else os.path.basename(found.port)
    return "modem-" + "".join(ch if ch.isalnum() or ch in "_.-" else "-" for ch in tail)[:50]
