"""Drives the simulator's AT engine without a pty: bytes in, bytes out, and
a clock that moves only when the test says so (no timing in these tests)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from msghub.devtools.modem.commands import check_sim, general_handlers
from msghub.devtools.modem.device import DeviceState, Network, Settings
from msghub.devtools.modem.engine import Engine
from msghub.devtools.modem.profiles import get_profile
from msghub.devtools.modem.smscmds import sms_handlers
from msghub.devtools.modem.storage import Storage


class Bench:
    def __init__(self, profile: str = "generic", *, pin: str | None = None, echo: bool = False,
                 network: Network | None = None, capacity: dict[str, int] | None = None) -> None:
        p = get_profile(profile)
        self.now = 0.0
        self.out = bytearray()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.state = DeviceState(profile=p, settings=Settings(), storage=Storage(capacity or p.capacity,
                                 p.first_index), pin=pin, puk="12345678", sim_present=True,
                                 smsc="+447785016005", own_number="+447700900001",
                                 network_config=network or Network(), pin_state="SIM PIN" if pin else "READY")
        self.engine = Engine(self.state, self.out.extend, self._schedule, lambda: self.now,
                             {**general_handlers(), **sms_handlers()}, precheck=check_sim)
        if not echo:
            self.state.settings.echo = False

    def _schedule(self, delay: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (self.now + delay, next(self._seq), fn))

    def advance(self, seconds: float = 0.0) -> None:
        """Moves the clock and runs what fell due (in order)."""
        until = self.now + seconds
        while self._timers and self._timers[0][0] <= until:
            due, _, fn = heapq.heappop(self._timers)
            self.now = max(self.now, due)
            fn()
        self.now = until

    def take(self) -> str:
        data = bytes(self.out).decode("latin-1")
        self.out.clear()
        return data

    def at(self, line: str, advance: float = 0.0) -> str:
        """Sends one command line; returns everything the device said."""
        self.engine.feed(line.encode("latin-1") + b"\r")
        self.advance(advance)
        return self.take()

    def lines(self, line: str, advance: float = 0.0) -> list[str]:
        return [x for x in self.at(line, advance).split("\r\n") if x]
