"""The modem connection kind: SMS through GSM modems and data cards.

One connection holds one device or a pool of them (several ports). open()
initialises every device (device.py) and succeeds when at least one is up;
the others, and any that die later, are reopened in the background with
backoff. When none is left up the link counts as lost and the supervisor
reopens the whole connection (which resets and re-initialises each device).

Outcomes of send():
- every part accepted (+CMGS: <mr>): SendResult with one SegmentRef per part,
  referenced "<device>/<mr>" (IMEI or port), which status reports match;
- refused (+CMS ERROR): PermanentFailure or TemporaryFailure by the code's
  class, UncertainFailure when earlier parts were already accepted;
- written and unanswered (timeout, device unplugged mid-send):
  UncertainFailure, so the retry is flagged possible_duplicate;
- the device went away before anything was written: the next device of the
  pool takes the message; with none left, TemporaryFailure.
A refused message never holds up the ones behind it: each gets its own
outcome and the worker moves on.

With an mms_url the connection carries MMS too (MM1, msghub/connectors/mm1):
an MMS is an m-send-req POSTed to the MMSC, not an AT command, and a WAP
push SMS to port 2948 goes to the MMS client before it could be stored as
a data SMS (docs/protocols/MM1.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from msghub.connectors.base import (
    Connector,
    HubPort,
    OutboundMessage,
    PermanentFailure,
    ProbeResult,
    SegmentRef,
    SendFailure,
    SendResult,
    TemporaryFailure,
    UncertainFailure,
)
from msghub.connectors.mm1.agent import Mm1Agent
from msghub.connectors.mm1.client import Mm1Client
from msghub.connectors.modem.channel import Urc
from msghub.connectors.modem.device import (
    Device,
    DeviceError,
    DeviceOptions,
    index_of,
    memory_of,
    registration_of,
    signal_of,
)
from msghub.connectors.modem.errors import AtCommandError, AtError, AtTimeout, LinkDown
from msghub.connectors.modem.inbound import Inbound, InboundError, segment_ref
from msghub.connectors.modem.outbound import PartPdu, SubmitOptions, submit_pdus
from msghub.connectors.modem.pool import NoDevice, Pool, Slot, parse_routes
from msghub.connectors.modem.settings import SETTINGS, ModemSettings, init_commands, ports_of

log = logging.getLogger(__name__)

REVIVE_FIRST_S = 1.0
REVIVE_MAX_S = 60.0
EXPIRE_EVERY_S = 5.0
UNKNOWN_SIGNAL = "unknown"
WAITING_PER_DEVICE = 2


class _TryElsewhere(Exception):
    """The device was gone before the message was written."""


def options_for(config: Mapping[str, Any], port: str) -> DeviceOptions:
    return DeviceOptions(
        port=port, baud=int(config["baud"]), pin=config["pin"], smsc=config["smsc"],
        init=init_commands(config["init"]), storage=config["storage"], receive=config["receive"],
        command_timeout_s=float(config["command_timeout_s"]), send_timeout_s=float(config["send_timeout_s"]),
        unresponsive_after=int(config["unresponsive_after"]), reset=bool(config["reset"]))


def prefixes_for(routes: dict[str, tuple[str, ...]], port: str, imsi: str, imei: str) -> tuple[str, ...]:
    """The number prefixes routed to a device: by its port, by its SIM
    (imsi:<start of the IMSI>, e.g. imsi:20408 for one network's SIMs) or by
    the device itself (imei:<IMEI>)."""
    found: list[str] = list(routes.get(port, ()))
    for target, prefixes in routes.items():
        kind, _, value = target.partition(":")
        if (kind == "imsi" and value and imsi.startswith(value)) or (kind == "imei" and value and imei == value):
            found.extend(prefixes)
    return tuple(found)


def describe_signal(rssi: int | None, dbm: int | None) -> str:
    return UNKNOWN_SIGNAL if rssi is None else f"{dbm} dBm ({rssi}/31)"


class ModemConnector(Connector):
    kind = "modem"
    channels = ("sms", "mms")
    description = ("SMS through GSM modems, phones and data cards (AT commands, PDU mode; one device or a pool); "
                   "MMS too (MM1) with an MMSC URL")
    settings = SETTINGS
    settings_type = ModemSettings
    config: ModemSettings

    def __init__(self, name: str, config: dict[str, Any], hub: HubPort) -> None:
        full = self.with_defaults(config)
        super().__init__(name, full, hub)
        self.routes = parse_routes(full["routes"])
        self.slots = [Slot(key=port, port=port, prefixes=self.routes.get(port, ()),
                           per_minute=int(full["per_minute"]), per_day=int(full["per_day"]))
                      for port in ports_of(full["port"])]
        self.pool = Pool(self.slots)
        # One message waits, already claimed, behind each one being sent:
        # a device that answers takes the next at once instead of waiting for
        # the worker's next claim; pool.ACQUIRE_TIMEOUT_S bounds the wait well
        # under the hub's sending lease.
        self.window = WAITING_PER_DEVICE * len(self.slots)
        self.devices: dict[str, Device] = {}
        self.mm1 = Mm1Agent(name, hub, full["own_number"], full) if full["mms_url"] else None
        self.inbound = Inbound(name, hub, full["own_number"], float(full["reassembly_timeout_s"]),
                               on_wap_push=self.mm1.handle_push if self.mm1 is not None else None)
        validity = int(full["validity_min"])
        self.submit_options = SubmitOptions(transliterate=bool(full["transliterate"]),
                                            default_validity=timedelta(minutes=validity) if validity else None,
                                            flash_priority=int(full["flash_priority"]))
        self._work: asyncio.Queue[tuple[Slot, str, Any]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._opened = False
        self._meta_sent: dict[str, Any] | None = None

    @classmethod
    def channels_for(cls, config: Mapping[str, Any]) -> tuple[str, ...]:
        return ("sms", "mms") if config.get("mms_url") else ("sms",)

    # -- link ----------------------------------------------------------------

    def device_key(self, slot: Slot) -> str:
        device = self.devices.get(slot.port)
        return (device.info.imei if device is not None and device.info.imei else "") or slot.port

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=f"modem-{self.name}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def open(self) -> None:
        results = await asyncio.gather(*(self._open_slot(slot) for slot in self.slots), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if not any(slot.up for slot in self.slots):
            await self._close_devices()
            first = errors[0] if errors else DeviceError("no device")
            if len(self.slots) == 1:
                raise first
            raise DeviceError("no device of the pool came up: " + "; ".join(str(e) for e in errors))
        self._opened = True
        for slot, result in zip(self.slots, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("modem %s: %s stays down for now: %s", self.name, slot.port, result)
                self._spawn(self._revive(slot), f"revive-{slot.port}")
            elif self.config["sweep"]:
                self._work.put_nowait((slot, "sweep", None))
        self._spawn(self._inbound_loop(), "inbound")
        self._spawn(self._status_loop(), "status")
        self._spawn(self._expire_loop(), "expire")
        await self._publish()
        log.info("modem %s: up with %d of %d device(s)", self.name, sum(s.up for s in self.slots), len(self.slots))

    async def _open_slot(self, slot: Slot) -> None:
        device = Device(options_for(self.config, slot.port), lambda urc: self._urc(slot, urc),
                        on_lost=lambda reason: self._device_lost(slot, reason), name=f"{self.name}:{slot.port}")
        await device.open()
        self.devices[slot.port] = device
        slot.prefixes = prefixes_for(self.routes, slot.port, device.info.imsi, device.info.imei)
        slot.up = True
        await self.pool.changed()

    def _device_lost(self, slot: Slot, reason: str) -> None:
        if not slot.up:
            return
        slot.up = False
        log.warning("modem %s: %s lost: %s", self.name, slot.port, reason)
        device = self.devices.get(slot.port)
        if not self._opened:
            return
        if not any(s.up for s in self.slots):
            self.link_lost(f"{slot.port}: {reason}")
            return
        if device is not None:
            self._spawn(device.close(), f"close-{slot.port}")
        self._spawn(self._revive(slot), f"revive-{slot.port}")
        self._spawn(self._changed(), "changed")

    async def _changed(self) -> None:
        await self.pool.changed()
        await self._publish()

    async def _revive(self, slot: Slot) -> None:
        delay = REVIVE_FIRST_S
        while self._opened and not slot.up:
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            try:
                await self._open_slot(slot)
            except (AtError, DeviceError, OSError) as exc:
                log.info("modem %s: %s still down: %s", self.name, slot.port, exc)
                delay = min(delay * 2, REVIVE_MAX_S)
                continue
            log.info("modem %s: %s is back", self.name, slot.port)
            if self.config["sweep"]:
                self._work.put_nowait((slot, "sweep", None))
            await self._publish()

    async def close(self) -> None:
        self._opened = False
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._close_devices()
        for slot in self.slots:
            slot.up = False
        if self.mm1 is not None:
            await self.mm1.aclose()

    async def _close_devices(self) -> None:
        for device in list(self.devices.values()):
            with contextlib.suppress(Exception):
                await device.close()

    # -- sending -------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.channel == "mms":
            if self.mm1 is None:
                raise PermanentFailure(f"connection {self.name} sends no MMS: it has no mms_url", code="no_mms")
            return await self.mm1.send(message)
        parts = submit_pdus(message, self.submit_options)
        tried: set[str] = set()
        while True:
            try:
                slot = await self.pool.acquire(message.recipient, tried)
            except NoDevice as exc:
                raise TemporaryFailure(f"no modem can send now: {exc}", code="no_device") from None
            used = True  # the device spent time (and maybe money) on it
            try:
                return await self._send_on(slot, parts)
            except _TryElsewhere:
                used = False
                tried.add(slot.key)
            except SendFailure:
                slot.failed += 1
                raise
            finally:
                await self.pool.release(slot, sent=used)

    async def _send_on(self, slot: Slot, parts: list[PartPdu]) -> SendResult:
        device = self.devices.get(slot.port)
        if device is None or not device.up:
            raise _TryElsewhere
        key = self.device_key(slot)
        refs: list[str] = []
        for part in parts:
            where = f" (part {part.seq} of {part.total})" if part.total > 1 else ""
            accepted_before = bool(refs)
            try:
                mr = await device.submit(part.pdu, part.length)
            except AtCommandError as exc:
                reason = f"{exc.reason.text}{where}"
                code = exc.reason.name
                if not exc.reason.retry:
                    raise PermanentFailure(reason, code=code) from None
                if accepted_before:
                    raise UncertainFailure(reason, code=code) from None
                raise TemporaryFailure(reason, code=code) from None
            except AtTimeout as exc:
                raise UncertainFailure(f"no answer from {slot.port}{where}: {exc}", code="no_answer") from None
            except LinkDown as exc:
                if exc.written or accepted_before:
                    raise UncertainFailure(f"{slot.port} went away before answering{where}: {exc}",
                                           code="link_lost") from None
                raise _TryElsewhere from None
            refs.append(segment_ref(key, mr))
        slot.sent += 1
        total = len(refs)
        return SendResult(operator_ref=refs[0],
                          segments=tuple(SegmentRef(seq, total, ref) for seq, ref in enumerate(refs, start=1)))

    # -- what the devices say by themselves ------------------------------------

    def _urc(self, slot: Slot, urc: Urc) -> None:
        line = urc.line
        head, _, value = line.partition(":")
        head = head.strip().upper()
        if head in ("+CMTI", "+CDSI"):
            index = index_of(value)
            if index is not None:
                self._work.put_nowait((slot, "read", (index, memory_of(value))))
        elif head in ("+CMT", "+CDS") and urc.pdu is not None:
            self._work.put_nowait((slot, "pdu", urc.pdu))
        elif head in ("+CREG", "+CGREG"):
            device = self.devices.get(slot.port)
            if device is not None and head == "+CREG":
                device.info.registration = registration_of(value)
                self._spawn(self._publish(), "publish")
        elif head == "^RSSI":
            device = self.devices.get(slot.port)
            if device is not None:
                device.info.signal, device.info.signal_dbm = signal_of(value.strip())
                self._spawn(self._publish(), "publish")
        else:
            log.debug("modem %s: %s says %r", self.name, slot.port, line)

    async def _inbound_loop(self) -> None:
        while True:
            slot, what, arg = await self._work.get()
            device = self.devices.get(slot.port)
            if device is None or not device.up:
                continue
            try:
                if what == "sweep":
                    await self._sweep(slot, device)
                elif what == "read":
                    await self._read(slot, device, *arg)
                else:
                    await self._direct(slot, device, str(arg))
            except AtError as exc:
                log.warning("modem %s: %s: %s failed: %s", self.name, slot.port, what, exc)
            except Exception:
                log.exception("modem %s: %s: could not handle %s", self.name, slot.port, what)

    async def _store(self, slot: Slot, pdu: str) -> bool:
        """True when the PDU is done with (stored, or unreadable and dropped)."""
        try:
            kind = await self.inbound.handle_pdu(self.device_key(slot), pdu)
        except InboundError as exc:
            log.warning("modem %s: %s: dropping %s", self.name, slot.port, exc)
            return True
        except Exception:
            log.exception("modem %s: %s: the hub could not store a received PDU; kept", self.name, slot.port)
            return False
        if kind != "report":
            slot.received += 1
        return True

    async def _read(self, slot: Slot, device: Device, index: int, memory: str | None) -> None:
        pdu = await device.read(index, memory)
        if pdu is None or await self._store(slot, pdu):
            await device.delete(index, memory)

    async def _direct(self, slot: Slot, device: Device, pdu: str) -> None:
        if await self._store(slot, pdu):
            await device.acknowledge()  # unacknowledged, the network delivers it again

    async def _sweep(self, slot: Slot, device: Device) -> None:
        for stored in await device.stored():
            if stored.stat in (2, 3):
                continue  # drafts and sent copies: not ours to read or delete
            if await self._store(slot, stored.pdu):
                await device.delete(stored.index)

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(EXPIRE_EVERY_S)
            try:
                await self.inbound.expire()
                if self.mm1 is not None:
                    await self.mm1.retry_deferred()
            except Exception:
                log.exception("modem %s: timed work failed; trying again later", self.name)

    async def _status_loop(self) -> None:
        interval = float(self.config["status_interval_s"])
        while True:
            await asyncio.sleep(interval)
            for slot in self.slots:
                device = self.devices.get(slot.port)
                if device is None or not slot.up:
                    continue
                try:
                    await device.refresh_status()
                except (AtError, DeviceError) as exc:
                    log.info("modem %s: %s status: %s", self.name, slot.port, exc)
            await self._publish()

    # -- state for the connections page --------------------------------------------

    def meta(self) -> dict[str, Any]:
        devices = []
        for slot in self.slots:
            device = self.devices.get(slot.port)
            entry: dict[str, Any] = {"port": slot.port, "up": slot.up, "sent": slot.sent, "failed": slot.failed,
                                     "received": slot.received, "sent_today": slot.day_count}
            if device is not None:
                entry |= device.info.as_meta()
            devices.append(entry)
        signals = [describe_signal(d.get("signal"), d.get("signal_dbm")) for d in devices if d["up"]]
        meta: dict[str, Any] = {"kind": "modem", "devices": devices,
                                "signal": ", ".join(signals) if signals else UNKNOWN_SIGNAL}
        if len(devices) == 1:
            meta |= {k: devices[0].get(k) for k in ("manufacturer", "model", "imei", "imsi", "operator",
                                                     "registration")}
        return meta

    async def _publish(self) -> None:
        set_meta = getattr(self.hub, "set_meta", None)
        meta = self.meta()
        if set_meta is None or meta == self._meta_sent:
            return
        try:
            await set_meta(meta | {"updated_at": datetime.now(UTC).isoformat(timespec="seconds")})
            self._meta_sent = meta
        except Exception:
            log.exception("modem %s: could not record the device state", self.name)

    # -- test connection ---------------------------------------------------------

    @classmethod
    async def probe(cls, config: dict[str, Any]) -> ProbeResult:
        """Read-only: each port is opened, asked who it is (scan.identify) and
        closed; nothing is changed on the device and no PIN is entered. With
        an mms_url, the MMSC must answer HTTP (through mms_proxy)."""
        from msghub.connectors.modem.scan import identify

        full = cls.with_defaults(config)
        ports = ports_of(str(full["port"]))
        results = await asyncio.gather(*(identify(port, port, int(full["baud"])) for port in ports))
        details: list[str] = []
        ok = True
        for found in results:
            if found.busy:
                ok = False
                details.append(f"{found.port} is in use (a running connection holds it; its state is on the "
                               "connections page)")
            elif not found.answers:
                ok = False
                details.append(f"{found.port}: {found.error or 'no answer'}")
            else:
                usable = found.sms and found.sim in ("READY", "SIM PIN")
                ok = ok and usable
                details.append(f"{found.port}: {found.manufacturer} {found.model}, IMEI {found.imei or '?'}, "
                               f"SIM {found.sim or '?'}, operator {found.operator or 'none'}"
                               + ("" if found.sms else ", no SMS commands"))
        if full["mms_url"]:
            client = Mm1Client(full)
            try:
                details.append(await client.reach())
            except SendFailure as exc:
                ok = False
                details.append(exc.reason)
            finally:
                await client.aclose()
        return ProbeResult(ok, "; ".join(details))
