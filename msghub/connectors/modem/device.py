"""One device: initialisation, identity, network state, and the SMS commands.

open() brings a device from whatever state it is in to a known one:
wake it (AT, a few tries: the first bytes after a reset may be lost), ATZ,
echo off, numeric errors (AT+CMEE=1; verbose answers are understood too),
the SIM (PIN once; see pin.py), PDU mode, AT+CSMS=1 where accepted (then
+CMT/+CDS are acknowledged with AT+CNMA), storage (AT+CPMS with fallbacks),
new-message indications (AT+CNMI with fallbacks), the SMSC (AT+CSCA) and the
user's own init commands. Commands a device refuses are skipped where they
are optional: devices differ.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from msghub.connectors.modem import pin as pin_guard
from msghub.connectors.modem.channel import AtChannel, Urc
from msghub.connectors.modem.errors import AtCommandError, AtError, AtTimeout, Reason
from msghub.connectors.modem.transport import open_transport
from msghub.errors import HubError

log = logging.getLogger(__name__)

WAKE_TRIES = 3
WAKE_TIMEOUT_S = 2.0
# AT+CNMI=<mode>,<mt>,<bm>,<ds>,<bfr>: tried in order until one is accepted.
# mt 1: +CMTI (stored, read and delete); mt 2: +CMT (direct, acknowledged).
# ds 1: +CDS directly; ds 2: +CDSI stored.
CNMI_STORED = ("2,1,0,1,0", "2,1,0,2,0", "1,1,0,1,0", "1,1,0,2,0", "2,1,0,0,0", "1,1,0,0,0", "2,1", "1,1")
CNMI_DIRECT = ("2,2,0,1,0", "1,2,0,1,0", "2,2,0,2,0", "2,2", *CNMI_STORED)
REGISTRATION = {0: "not_registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming"}
MISSING_MR = Reason(None, "no_reference", "the device accepted the message without a TP-MR", False)
_INDEX = re.compile(r'^\s*(?:"[^"]*"\s*,\s*)?(\d+)')


class DeviceError(HubError):
    """A device cannot be brought up (no answer, SIM problem, no PDU mode)."""


@dataclass(frozen=True)
class DeviceOptions:
    port: str
    baud: int = 115200
    pin: str = ""
    smsc: str = ""
    init: tuple[str, ...] = ()
    storage: str = "SM"
    receive: str = "stored"  # or "direct"
    command_timeout_s: float = 10.0
    send_timeout_s: float = 40.0
    unresponsive_after: int = 3
    reset: bool = True


@dataclass
class DeviceInfo:
    manufacturer: str = ""
    model: str = ""
    revision: str = ""
    imei: str = ""
    imsi: str = ""
    operator: str = ""
    signal: int | None = None  # +CSQ rssi 0..31, None: unknown (99)
    signal_dbm: int | None = None
    registration: str = "unknown"
    cnmi: str = ""
    cnma: bool = False  # +CMT/+CDS must be acknowledged with AT+CNMA
    storage: str = ""
    skipped: list[str] = field(default_factory=list)

    def as_meta(self) -> dict[str, Any]:
        return {"manufacturer": self.manufacturer, "model": self.model, "revision": self.revision,
                "imei": self.imei, "imsi": self.imsi, "operator": self.operator, "signal": self.signal,
                "signal_dbm": self.signal_dbm, "registration": self.registration, "cnmi": self.cnmi,
                "storage": self.storage}


def signal_of(csq: str) -> tuple[int | None, int | None]:
    """(rssi 0..31, dBm) from '+CSQ: 17,99'; 99 or garbage is unknown."""
    try:
        rssi = int(csq.split(",")[0])
    except ValueError:
        return None, None
    if not 0 <= rssi <= 31:
        return None, None
    return rssi, -113 + 2 * rssi


def registration_of(creg: str) -> str:
    """'home', 'roaming', ... from '+CREG: 0,1' (answer) or '+CREG: 1' (URC)."""
    fields = [f.strip().strip('"') for f in creg.split(",")]
    # the answer has <n>,<stat>[,...]; the URC only <stat>[,<lac>,<ci>]
    stat = fields[1] if len(fields) >= 2 and not (len(fields) == 3 and len(fields[1]) > 1) else fields[0]
    try:
        return REGISTRATION.get(int(stat), "unknown")
    except ValueError:
        return "unknown"


def operator_of(cops: str) -> str:
    """'Vodafone' from '+COPS: 0,0,"Vodafone",2'; '' without an operator."""
    parts = cops.split(",")
    return parts[2].strip().strip('"') if len(parts) >= 3 else ""


def index_of(urc_value: str) -> int | None:
    """The storage index of '+CMTI: "SM",3' (value after the prefix)."""
    match = _INDEX.match(urc_value)
    return int(match.group(1)) if match else None


def memory_of(urc_value: str) -> str | None:
    """The memory of '+CDSI: "SR",3' ("SR"), or None."""
    head = urc_value.strip().split(",", 1)[0].strip()
    return head.strip('"').upper() if head.startswith('"') and head.endswith('"') and len(head) > 2 else None


@dataclass(frozen=True)
class Stored:
    index: int
    stat: int
    pdu: str


class Device:
    def __init__(self, options: DeviceOptions, on_urc: Callable[[Urc], None], *,
                 on_lost: Callable[[str], None], name: str) -> None:
        self.options = options
        self.name = name
        self.info = DeviceInfo()
        self._on_urc = on_urc
        self._on_lost = on_lost
        self.channel: AtChannel | None = None

    @property
    def up(self) -> bool:
        return self.channel is not None and not self.channel.closed

    async def cmd(self, command: str, *, expect: str | None = None, timeout_s: float | None = None,
                  pdu: str | None = None, lenient: bool = False) -> Any:
        if self.channel is None:
            raise DeviceError(f"{self.name}: not open")
        return await self.channel.command(command, expect=expect, pdu=pdu, lenient=lenient,
                                          timeout_s=timeout_s or self.options.command_timeout_s)

    async def _optional(self, command: str, **kw: Any) -> Any:
        try:
            return await self.cmd(command, **kw)
        except AtCommandError as exc:
            self.info.skipped.append(command)
            log.info("%s: %s refused (%s); going on without it", self.name, command, exc.reason.text)
            return None

    # -- bringing it up --------------------------------------------------

    async def open(self) -> None:
        opt = self.options
        transport = await open_transport(opt.port, opt.baud, opt.command_timeout_s)
        self.channel = AtChannel(transport, self._on_urc, on_lost=self._lost, on_unresponsive=self._lost,
                                 on_reset=self._lost, unresponsive_after=opt.unresponsive_after, name=self.name)
        self.channel.start()
        try:
            await self._initialise()
        except BaseException:
            await self.close()
            raise

    def _lost(self, reason: str) -> None:
        self._on_lost(reason)

    async def close(self) -> None:
        if self.channel is not None:
            await self.channel.close()

    async def _wake(self) -> None:
        assert self.channel is not None
        for attempt in range(1, WAKE_TRIES + 1):
            try:
                # ESC first: a device left at a > prompt takes the next line as text
                await self.channel.transport.write(b"\x1b")
                await self.channel.command("AT", timeout_s=WAKE_TIMEOUT_S)
                return
            except AtTimeout:
                log.info("%s: no answer to AT (try %d of %d)", self.name, attempt, WAKE_TRIES)
            except AtCommandError:
                return  # it answers: good enough
        raise DeviceError(f"{self.name}: the device does not answer AT on {self.options.port}")

    async def _initialise(self) -> None:
        opt = self.options
        try:
            await self._wake()
            if opt.reset:
                await self._optional("ATZ")
            await self.cmd("ATE0")
            await self.cmd("AT")  # its echo would still be seen if ATE0 had not taken
            assert self.channel is not None
            self.channel.echo_off = True
            await self._optional("AT+CMEE=1")
            await self._sim()
            await self._identify()
            try:
                await self.cmd("AT+CMGF=0")
            except AtCommandError as exc:
                raise DeviceError(f"{self.name}: the device refuses PDU mode (AT+CMGF=0: {exc.reason.text})") \
                    from None
            await self._services()
            if opt.smsc:
                await self._optional(f'AT+CSCA="{opt.smsc}",{145 if opt.smsc.startswith("+") else 129}')
            for command in opt.init:
                await self._optional(command)
            await self._optional("AT+CREG=1")
            await self.refresh_status()
        except AtTimeout as exc:
            raise DeviceError(f"{self.name}: {exc}") from None
        except AtError as exc:
            raise DeviceError(f"{self.name}: {exc}") from None

    async def _sim(self) -> None:
        try:
            answer = await self.cmd("AT+CPIN?", expect="+CPIN:", lenient=True)  # Wavecom: no OK
        except AtCommandError as exc:
            raise DeviceError(f"{self.name}: SIM not usable: {exc.reason.text}") from None
        state = (answer.first("+CPIN:") or "").strip().upper()
        if state == "READY":
            return
        if state != "SIM PIN":
            raise DeviceError(f"{self.name}: the SIM wants {state or 'something unknown'}; "
                              "msghub only enters a PIN (unlock it in a phone)")
        key = self.options.port
        if not self.options.pin:
            raise DeviceError(f"{self.name}: the SIM needs a PIN: set the connection's pin")
        refused = pin_guard.refused(key, self.options.pin)
        if refused:
            raise DeviceError(f"{self.name}: {refused}")
        try:
            await self.cmd(f'AT+CPIN="{self.options.pin}"', timeout_s=max(20.0, self.options.command_timeout_s))
        except AtCommandError as exc:
            pin_guard.remember_refusal(key, self.options.pin, exc.reason.text)
            raise DeviceError(f"{self.name}: the SIM refused the PIN ({exc.reason.text}); it will not be tried "
                              "again, so the SIM is not locked: correct the pin setting") from None
        pin_guard.forget(key)

    async def _identify(self) -> None:
        info = self.info
        for command, attr in (("AT+CGMI", "manufacturer"), ("AT+CGMM", "model"), ("AT+CGMR", "revision"),
                              ("AT+CGSN", "imei"), ("AT+CIMI", "imsi")):
            answer = await self._optional(command)
            if answer is not None and answer.lines:
                value = answer.lines[0]
                # some devices repeat the command name: "+CGMI: huawei"
                if value.upper().startswith(command[2:].upper() + ":"):
                    value = value.split(":", 1)[1]
                setattr(info, attr, value.strip().strip('"'))

    async def _services(self) -> None:
        info = self.info
        direct = self.options.receive == "direct"
        if direct:
            answer = await self._optional("AT+CSMS=1", expect="+CSMS:")
            value = (answer.first("+CSMS:") or "") if answer is not None else ""
            info.cnma = value.replace(" ", "").startswith("1,1")
        storage = self.options.storage
        for choice in dict.fromkeys((storage, "SM", "ME", "MT")):
            answer = await self._optional(f'AT+CPMS="{choice}","{choice}","{choice}"', expect="+CPMS:")
            if answer is not None:
                info.storage = choice
                break
        for value in CNMI_DIRECT if direct and info.cnma else CNMI_STORED:
            if await self._optional(f"AT+CNMI={value}") is not None:
                info.cnmi = value
                break
        else:
            log.warning("%s: no AT+CNMI setting accepted; new messages are found by the storage sweep only",
                        self.name)

    async def refresh_status(self) -> DeviceInfo:
        """Signal, registration and operator, into info."""
        info = self.info
        answer = await self._optional("AT+CSQ", expect="+CSQ:")
        if answer is not None:
            info.signal, info.signal_dbm = signal_of(answer.first("+CSQ:") or "")
        answer = await self._optional("AT+CREG?", expect="+CREG:")
        if answer is not None:
            info.registration = registration_of(answer.first("+CREG:") or "")
        await self._optional("AT+COPS=3,0")
        answer = await self._optional("AT+COPS?", expect="+COPS:")
        if answer is not None:
            info.operator = operator_of(answer.first("+COPS:") or "")
        return info

    # -- SMS ---------------------------------------------------------------

    async def submit(self, pdu: str, tpdu_length: int) -> int:
        """The TP-MR the device gave the submitted message."""
        answer = await self.cmd(f"AT+CMGS={tpdu_length}", expect="+CMGS:", pdu=pdu,
                                timeout_s=self.options.send_timeout_s)
        value = answer.first("+CMGS:") or ""
        try:
            return int(value.split(",")[0]) & 0xFF
        except ValueError:
            raise AtCommandError(f"AT+CMGS={tpdu_length}", f"OK without a reference ({value!r})",
                                 MISSING_MR) from None

    async def read(self, index: int, memory: str | None = None) -> str | None:
        """The PDU at index of memory (the storage set at start when None)."""
        async with self._memory(memory):
            answer = await self.cmd(f"AT+CMGR={index}", expect="+CMGR:")
        lines = [line for line in answer.lines if not line.upper().startswith("+CMGR:")]
        return lines[0] if lines else None

    async def delete(self, index: int, memory: str | None = None) -> None:
        async with self._memory(memory):
            await self.cmd(f"AT+CMGD={index}")

    @contextlib.asynccontextmanager
    async def _memory(self, memory: str | None) -> AsyncIterator[None]:
        """Reads and deletes in another memory (a +CDSI: "SR",n report, a
        class 2 message on the SIM) by switching AT+CPMS there and back."""
        current = self.info.storage
        if not memory or not current or memory.upper() == current.upper():
            yield
            return
        await self.cmd(f'AT+CPMS="{memory}"', expect="+CPMS:")
        try:
            yield
        finally:
            await self._optional(f'AT+CPMS="{current}","{current}","{current}"', expect="+CPMS:")

    async def stored(self) -> list[Stored]:
        """Every message in storage (AT+CMGL=4: all), oldest index first."""
        try:
            answer = await self.cmd("AT+CMGL=4", expect="+CMGL:", timeout_s=max(30.0, self.options.command_timeout_s))
        except AtCommandError:
            return []
        found: list[Stored] = []
        header: tuple[int, int] | None = None
        for line in answer.lines:
            if line.upper().startswith("+CMGL:"):
                fields = line[6:].split(",")
                try:
                    header = (int(fields[0]), int(fields[1]) if len(fields) > 1 and fields[1].strip() else 0)
                except ValueError:
                    header = None
            elif header is not None:
                found.append(Stored(header[0], header[1], line))
                header = None
        return found

    async def acknowledge(self) -> None:
        if self.info.cnma:
            await self._optional("AT+CNMA")

