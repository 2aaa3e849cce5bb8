"""Several devices behind one connection: which one sends the next message.

A slot is free when its device is up, not busy with a submit, and under its
limits (messages per minute and per day). Among free slots, one whose route
prefix matches the recipient is preferred (longest prefix first), then the
one that sent least in the last minute (spreading by free capacity). When
every live slot is busy or at its per-minute limit, acquire() waits; when
none is up, or every one has used its day, it says so and the message is
retried later by the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

MINUTE_S = 60.0
# well under the hub's sending lease (sending_lease_s, 60 s)
ACQUIRE_TIMEOUT_S = 25.0


class NoDevice(Exception):
    """No device can take a message now (reason says why)."""


@dataclass
class Slot:
    key: str
    port: str
    prefixes: tuple[str, ...] = ()
    per_minute: int = 0
    per_day: int = 0
    up: bool = False
    busy: bool = False
    recent: deque[float] = field(default_factory=deque)
    day: date | None = None
    day_count: int = 0
    sent: int = 0
    failed: int = 0
    received: int = 0

    def _trim(self, now: float) -> None:
        while self.recent and now - self.recent[0] >= MINUTE_S:
            self.recent.popleft()

    def day_left(self, today: date) -> bool:
        return not self.per_day or self.day != today or self.day_count < self.per_day

    def minute_left(self, now: float) -> bool:
        self._trim(now)
        return not self.per_minute or len(self.recent) < self.per_minute

    def record(self, now: float, today: date) -> None:
        self.recent.append(now)
        if self.day != today:
            self.day, self.day_count = today, 0
        self.day_count += 1

    def next_free_at(self, now: float) -> float:
        self._trim(now)
        if not self.per_minute or len(self.recent) < self.per_minute:
            return now
        return self.recent[0] + MINUTE_S


def parse_routes(text: str) -> dict[str, tuple[str, ...]]:
    """'+31=/dev/ttyUSB1; +44,+353=/dev/ttyUSB0' -> {port: prefixes}."""
    routes: dict[str, list[str]] = {}
    for item in text.replace("\n", ";").split(";"):
        if not item.strip():
            continue
        prefixes, sep, port = item.partition("=")
        if not sep or not port.strip():
            raise ValueError(f"route {item.strip()!r} is not PREFIX[,PREFIX...]=PORT")
        routes.setdefault(port.strip(), []).extend(p.strip() for p in prefixes.split(",") if p.strip())
    return {port: tuple(p) for port, p in routes.items()}


class Pool:
    def __init__(self, slots: list[Slot], clock: Callable[[], float] = time.monotonic) -> None:
        self.slots = slots
        self._clock = clock
        self._changed = asyncio.Condition()

    def _today(self) -> date:
        return datetime.now(UTC).date()

    def _choose(self, recipient: str, exclude: set[str]) -> Slot | None:
        now, today = self._clock(), self._today()
        free = [s for s in self.slots if s.up and not s.busy and s.key not in exclude
                and s.day_left(today) and s.minute_left(now)]
        if not free:
            return None

        def rank(slot: Slot) -> tuple[int, int, int]:
            match = max((len(p) for p in slot.prefixes if recipient.startswith(p)), default=-1)
            return (-match, len(slot.recent), self.slots.index(slot))

        return min(free, key=rank)

    async def acquire(self, recipient: str, exclude: set[str] | None = None,
                      timeout_s: float = ACQUIRE_TIMEOUT_S) -> Slot:
        exclude = exclude or set()
        deadline = self._clock() + timeout_s
        async with self._changed:
            while True:
                live = [s for s in self.slots if s.up and s.key not in exclude]
                if not live:
                    raise NoDevice("no device is up")
                today = self._today()
                if not any(s.day_left(today) for s in live):
                    raise NoDevice("every device has sent its messages per day")
                slot = self._choose(recipient, exclude)
                if slot is not None:
                    slot.busy = True
                    return slot
                now = self._clock()
                if now >= deadline:
                    # a claimed message must not wait for ever: the hub's lease
                    # would hand it out again while it is still held here
                    raise NoDevice(f"every device stayed busy for {timeout_s:g} s")
                wait = min((s.next_free_at(now) for s in live if not s.busy), default=now + MINUTE_S) - now
                wait = min(wait, deadline - now)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), max(0.05, wait))

    async def release(self, slot: Slot, *, sent: bool) -> None:
        async with self._changed:
            slot.busy = False
            if sent:
                slot.record(self._clock(), self._today())
            self._changed.notify_all()

    async def changed(self) -> None:
        """A slot came up or went down: waiting senders look again."""
        async with self._changed:
            self._changed.notify_all()
