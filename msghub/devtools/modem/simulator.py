"""ModemSimulator: the simulated device on a pseudo-terminal (and optionally
a TCP port, as a serial server would offer it), run by one background
thread; every public method is thread-safe and returns at once."""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from msghub.devtools.modem import sms as pdus
from msghub.devtools.modem.commands import check_sim, general_handlers, registration_changed
from msghub.devtools.modem.commands import signal_changed as _signal_changed
from msghub.devtools.modem.device import DeviceState, Network, SentSms, Settings
from msghub.devtools.modem.engine import Engine
from msghub.devtools.modem.ioloop import IoLoop
from msghub.devtools.modem.network import deliver, status_report
from msghub.devtools.modem.ports import PtyPort
from msghub.devtools.modem.profiles import get_profile
from msghub.devtools.modem.smscmds import sms_handlers
from msghub.devtools.modem.storage import STAT_TEXT, Storage
from msghub.errors import ConfigError

log = logging.getLogger(__name__)

FAULTS = ("no_answer", "garbage", "unplug", "cms_error", "slow", "reboot")


class ModemSimulator:
    """A GSM modem on a pseudo-terminal. See msghub.devtools.modem for the API."""

    def __init__(
        self,
        profile: str = "generic",
        *,
        pin: str | None = None,
        puk: str = "12345678",
        sim_present: bool = True,
        imei: str | None = None,
        imsi: str | None = None,
        smsc: str = "+447785016005",
        own_number: str | None = None,
        tcp_port: int | None = None,
        host: str = "127.0.0.1",
        link: str | os.PathLike[str] | None = None,
        report_delay_s: float = 1.0,
        report_status_for: dict[str, int | tuple[int, ...]] | None = None,
        cms_error_for: dict[str, int] | None = None,
        send_delay_s: float = 0.0,
        cnma_timeout_s: float = 10.0,
        chatter_s: float | None = None,
        signal: int = 20,
        registered: bool = True,
        capacity: dict[str, int] | None = None,
        control_port: int | None = None,
        extra_ports: Sequence[tuple[str, str | os.PathLike[str] | None]] = (),
    ) -> None:
        base = get_profile(profile)
        if imei or imsi:
            base = replace(base, imei=imei or base.imei, imsi=imsi or base.imsi)
        self.profile = base
        storage = Storage(capacity or base.capacity, base.first_index)
        network = Network(report_delay_s=report_delay_s, report_status_for=dict(report_status_for or {}),
                          cms_error_for=dict(cms_error_for or {}), send_delay_s=send_delay_s,
                          cnma_timeout_s=cnma_timeout_s)
        self.state = DeviceState(profile=base, settings=Settings(), storage=storage, pin=pin, puk=puk,
                                 sim_present=sim_present, smsc=smsc, own_number=own_number,
                                 network_config=network, pin_state="SIM PIN" if pin else "READY",
                                 network=registered, rssi=signal)
        self.host = host
        self._tcp_port_wanted = tcp_port
        self._control_port_wanted = control_port
        self.link = Path(link) if link is not None else None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._engine = Engine(self.state, self._emit, self._schedule, time.monotonic,
                              {**general_handlers(), **sms_handlers()}, precheck=check_sim)
        self._command = PtyPort("command", self.link, self._engine)
        self._ports = [self._command]
        for kind, extra_link in extra_ports:
            if kind not in ("data", "diag"):
                raise ConfigError(f"unknown kind of port {kind!r}; known: data, diag")
            port = PtyPort(kind, Path(extra_link) if extra_link is not None else None, None)
            if kind == "data":
                port.engine = self._aux_engine(port)
            self._ports.append(port)
        self._loop = IoLoop(self._changed, self._ports, on_input=self._on_input, on_arrival=self._on_arrival,
                            on_left=self._on_left, on_error=self.state.internal_errors.append)
        self._started = False
        self.chatter_s = chatter_s
        self._chatter_n = 0
        self._ref = 0
        self._control: Any = None

    # -- life cycle ------------------------------------------------------------

    def start(self) -> str:
        """Opens the pty (and TCP port), starts the thread; the path to open."""
        if self._started:
            raise ConfigError("the modem simulator was started already")
        self._started = True
        try:
            for port in self._ports:
                port.plug()
            if self._tcp_port_wanted is not None:
                self._loop.listen(self.host, self._tcp_port_wanted)
            self._loop.start(f"modem-sim-{self.profile.name}")
            if chatter := self.chatter_s:
                with self._lock:
                    self._schedule(chatter, self._chat)
            if self._control_port_wanted is not None:
                from msghub.devtools.modem.control import ControlServer
                self._control = ControlServer(self, self.host, self._control_port_wanted)
                self._control.start()
        except OSError as e:
            self.stop()
            raise ConfigError(f"the modem simulator cannot start: {e}") from e
        return self.path

    def stop(self) -> None:
        """Stops everything (bounded waits); a second stop does nothing."""
        if self._control is not None:
            self._control.stop()
            self._control = None
        self._loop.stop()

    def __enter__(self) -> ModemSimulator:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def path(self) -> str:
        """What a client opens: the link if one was asked for, else the pty."""
        if self.link is not None:
            return str(self.link)
        with self._lock:
            if self._command.path is None:
                raise ConfigError("the modem simulator is unplugged or not started")
            return self._command.path

    @property
    def pty_path(self) -> str | None:
        """The current pseudo-terminal (a new one after each re-plug)."""
        with self._lock:
            return self._command.path

    @property
    def extra_paths(self) -> list[str | None]:
        """What a client opens for each of extra_ports, in order (None while unplugged)."""
        with self._lock:
            return [port.client_path for port in self._ports[1:]]

    @property
    def tcp_port(self) -> int | None:
        listener = self._loop.listener
        return None if listener is None else int(listener.getsockname()[1])

    @property
    def control_port(self) -> int | None:
        return None if self._control is None else int(self._control.port)

    # -- what the client did -----------------------------------------------------

    @property
    def sent(self) -> list[SentSms]:
        """Every accepted AT+CMGS/+CMSS, oldest first (PDUs decoded by the codec)."""
        with self._lock:
            return list(self.state.sent)

    @property
    def refused(self) -> list[SentSms]:
        with self._lock:
            return list(self.state.refused)

    @property
    def commands(self) -> list[str]:
        """Every command line received ("AT+CMGF=0"), oldest first."""
        with self._lock:
            return list(self.state.commands)

    @property
    def reports(self) -> list[str]:
        """Status-report PDUs the network produced, oldest first."""
        with self._lock:
            return list(self.state.reports)

    @property
    def internal_errors(self) -> list[str]:
        """Simulator bugs met so far (each answered ERROR); tests assert it stays empty."""
        with self._lock:
            return list(self.state.internal_errors)

    @property
    def settings(self) -> Settings:
        with self._lock:
            return replace(self.state.settings)

    @property
    def connected(self) -> bool:
        """A client has the pty open or a TCP connection."""
        with self._lock:
            return self._command.open or bool(self._loop.clients)

    def storage(self, memory: str = "SM") -> dict[int, dict[str, Any]]:
        with self._lock:
            mem = self.state.storage.get(memory)
            if mem is None:
                raise ConfigError(f"no memory {memory!r} on this device")
            return {i: {"stat": STAT_TEXT[s.stat], "pdu": s.pdu, "kind": s.kind, "length": s.tpdu_len}
                    for i, s in sorted(mem.slots.items())}

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        """Waits (bounded) until predicate() holds; it runs under the lock."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.5))
            return True

    def wait_sent(self, count: int = 1, timeout_s: float = 10.0) -> list[SentSms]:
        if not self.wait_for(lambda: len(self.state.sent) >= count, timeout_s):
            raise TimeoutError(f"{len(self.state.sent)} of {count} messages sent within {timeout_s} s")
        return self.sent

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        return self.wait_for(lambda: self._command.open or bool(self._loop.clients), timeout_s)

    # -- what the network does ---------------------------------------------------

    def inject_sms(self, sender: str, text: str, *, scts: datetime | None = None,
                   message_class: int | None = None, encoding: str | None = None,
                   pid: int = 0) -> list[int | None]:
        """An inbound SMS (split into parts if long). Each part is stored and
        indicated (+CMTI), or shown directly (+CMT), as the client's +CNMI
        asks. Returns each part's storage index (None: shown directly)."""
        when = (scts or datetime.now(UTC)).replace(microsecond=0)
        with self._changed:
            self._ref = (self._ref + 1) % 256
            parts = pdus.deliver_pdus(sender, text, scts=when, smsc=self.state.smsc, ref=self._ref,
                                      message_class=message_class, encoding=encoding, pid=pid)
            result = [deliver(self._engine, part, message_class) for part in parts]
            self._changed.notify_all()
        self._loop.wake()
        return result

    def inject_wap_push(self, sender: str, push: bytes) -> list[int | None]:
        """A WAP push SMS (port 2948) carrying `push`, the WSP push an MMSC
        sends a phone (msghub.mms.push); delivered as inject_sms delivers."""
        when = datetime.now(UTC).replace(microsecond=0)
        with self._changed:
            self._ref = (self._ref + 1) % 256
            parts = pdus.wap_push_pdus(sender, push, scts=when, smsc=self.state.smsc, ref=self._ref)
            result = [deliver(self._engine, part, None) for part in parts]
            self._changed.notify_all()
        self._loop.wake()
        return result

    def inject_pdu(self, pdu: str, *, message_class: int | None = None) -> int | None:
        """A ready-made PDU (hex with the SMSC field), e.g. a capture: an
        SMS-DELIVER as inject_sms delivers it; ConfigError if it is not hex."""
        text = "".join(pdu.split()).upper()
        part = pdus.pdu_of(text)
        with self._changed:
            result = deliver(self._engine, part, message_class)
            self._changed.notify_all()
        self._loop.wake()
        return result

    def inject_status_report(self, mr: int, recipient: str, status: int = 0) -> None:
        """A status report now, as if for a send with this TP-MR (also for
        one the client never made: a stray report)."""
        with self._changed:
            status_report(self._engine, mr, recipient, datetime.now(UTC), status)
            self._changed.notify_all()
        self._loop.wake()

    def set_signal(self, rssi: int, ber: int = 99) -> None:
        """+CSQ from now on (0..31, 99 unknown); vendor URCs (^RSSI) follow."""
        with self._lock:
            self.state.rssi, self.state.ber = rssi, ber
            _signal_changed(self._engine)
        self._loop.wake()

    def set_registered(self, registered: bool = True, *, roaming: bool = False) -> None:
        """Network registration (+CREG stat 1/5, or 2 searching); URCs follow."""
        with self._lock:
            self.state.network, self.state.roaming = registered, roaming
            registration_changed(self._engine)
        self._loop.wake()

    def set_cms_error(self, prefix: str, code: int | None) -> None:
        """AT+CMGS to numbers starting with prefix answers +CMS ERROR: code (None: clear)."""
        with self._lock:
            table = self.state.network_config.cms_error_for
            if code is None:
                table.pop(prefix, None)
            else:
                table[prefix] = code

    def set_report_status(self, prefix: str, status: int | tuple[int, ...] | None) -> None:
        """Status reports for numbers starting with prefix carry TP-ST status;
        a tuple sends one report per status, report_delay_s apart (e.g. (32, 0):
        pending, then delivered)."""
        with self._lock:
            table = self.state.network_config.report_status_for
            if status is None:
                table.pop(prefix, None)
            else:
                table[prefix] = status

    def fault(self, kind: str, *, duration_s: float | None = None, count: int | None = None,
              code: int = 38, delay_s: float = 5.0) -> None:
        """Puts the device in a fault (see the package docs for each kind)."""
        if kind not in FAULTS:
            raise ConfigError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        now = time.monotonic()
        with self._lock:
            faults = self.state.faults
            if kind == "no_answer":
                if count is not None:
                    faults.mute_count = count
                else:
                    faults.mute_until = math.inf if duration_s is None else now + duration_s
            elif kind == "garbage":
                if duration_s is not None:
                    faults.garbage_until = now + duration_s
                else:
                    faults.garbage_count = count or 1
            elif kind == "cms_error":
                faults.cms_next += [code] * (count or 1)
            elif kind == "slow":
                faults.answer_delay_s = delay_s
                if duration_s is not None:
                    self._schedule(duration_s, self._end_slow)
            elif kind == "reboot":
                self._engine.power_on()
            elif kind == "unplug":
                self._unplug()
                if duration_s is not None:
                    self._schedule(duration_s, self._replug_locked)
        self._loop.wake()

    def clear_faults(self) -> None:
        with self._lock:
            faults = self.state.faults
            faults.mute_until = faults.garbage_until = 0.0
            faults.mute_count = faults.garbage_count = 0
            faults.answer_delay_s = 0.0
            faults.cms_next.clear()
        self._loop.wake()

    def replug(self) -> str:
        """Back after an unplug: a new pty (the link follows), power-up state."""
        with self._lock:
            self._replug_locked()
        self._loop.wake()
        return self.path

    # -- internals: device side --------------------------------------------------

    def _end_slow(self) -> None:
        self.state.faults.answer_delay_s = 0.0

    def _emit(self, data: bytes) -> None:
        """What the device says goes to every connected client of its command port."""
        self._command.queue(data)
        self._loop.send_tcp(data)

    def _aux_engine(self, port: PtyPort) -> Engine:
        """A data port: the same device (identity, SIM, network), its own
        settings, no SMS commands and no URCs."""
        state = DeviceState(profile=self.profile, settings=Settings(), storage=self.state.storage, pin=None,
                            puk=self.state.puk, sim_present=self.state.sim_present, smsc=self.state.smsc,
                            own_number=self.state.own_number, network_config=self.state.network_config)

        def emit(data: bytes) -> None:
            port.queue(data)
            self._loop.wake()

        return Engine(state, emit, self._schedule, time.monotonic, general_handlers(), precheck=check_sim,
                      urcs=False)

    def _sync_aux(self, engine: Engine, back: bool = False) -> None:
        """The data port sees the SIM and network the command port sees; a
        PIN given on it (back=True) unlocks the SIM for both."""
        main, aux = self.state, engine.state
        if back:
            main.pin, main.pin_state, main.pin_attempts = aux.pin, aux.pin_state, aux.pin_attempts
            main.puk_attempts = aux.puk_attempts
            return
        aux.pin, aux.pin_state, aux.pin_attempts = main.pin, main.pin_state, main.pin_attempts
        aux.puk_attempts, aux.sim_present, aux.cfun = main.puk_attempts, main.sim_present, main.cfun
        aux.network, aux.roaming, aux.rssi, aux.ber = main.network, main.roaming, main.rssi, main.ber
        aux.faults = main.faults

    def _chat(self) -> None:
        """A vendor line by itself, at any moment (between commands: URCs wait
        while one runs), then again chatter_s later."""
        lines = self.profile.chatter
        if lines and self._command.open:
            line = lines[self._chatter_n % len(lines)]
            self._chatter_n += 1
            self._engine.urc(line.format(rssi=self.state.rssi, ber=self.state.ber))
        if self.chatter_s:
            self._schedule(self.chatter_s, self._chat)

    def _schedule(self, delay_s: float, fn: Callable[[], None]) -> None:
        self._loop.schedule(delay_s, fn)

    def _unplug(self) -> None:
        self._loop.close_ports()
        self._loop.drop_clients()
        self._engine.reset_line()

    def _replug_locked(self) -> None:
        if self._command.master is not None or self._loop.stopping:
            return
        for port in self._ports:
            port.plug()
            if port.engine is not None:
                port.engine.power_on()

    # -- internals: called by the I/O loop, under the lock ---------------------

    def _on_arrival(self, port: PtyPort | None) -> None:
        if port is not None and port is not self._command:
            return
        if self._command.fresh:  # the power-up banner waits for the first client
            self._command.fresh = False
            for line in self.profile.boot_lines:
                self._engine.urc(line)

    def _on_left(self, port: PtyPort | None) -> None:
        engine = self._engine if port is None else port.engine
        if engine is not None:
            engine.reset_line()

    def _on_input(self, port: PtyPort | None, data: bytes) -> None:
        if port is None or port is self._command:
            self._engine.feed(data)
        elif port.engine is not None:
            self._sync_aux(port.engine)
            port.engine.feed(data)
            self._sync_aux(port.engine, back=True)
