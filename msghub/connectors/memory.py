"""MemoryHub: the hub side of the connector contract, in memory.

A HubPort that keeps what a connector hands over (received messages,
delivery reports, link states) in lists, and lets a caller wait for them.
It runs a connector without a database: in the contract tests, in a
connector's own tests, and in development tools that drive a connector
by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from msghub.connectors.base import DeliveryReport, InboundMessage

WAIT_TIMEOUT_S = 30.0  # generous: a loaded machine is slow, a lost event must still end the wait


@dataclass(eq=False)  # identity, as the hub's own port: one per connection
class MemoryHub:
    delivered: list[InboundMessage] = field(default_factory=list)
    reports: list[DeliveryReport] = field(default_factory=list)
    states: list[tuple[str, str | None]] = field(default_factory=list)
    _changed: asyncio.Condition | None = field(default=None, init=False, repr=False)

    def _condition(self) -> asyncio.Condition:
        # made on first use, inside the running loop
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _note(self) -> None:
        changed = self._condition()
        async with changed:
            changed.notify_all()

    async def deliver(self, message: InboundMessage) -> int:
        self.delivered.append(message)
        await self._note()
        return len(self.delivered)

    async def report_delivery(self, report: DeliveryReport) -> int | None:
        self.reports.append(report)
        await self._note()
        return None

    async def set_state(self, state: str, error: str | None = None) -> None:
        self.states.append((state, error))
        await self._note()

    async def wait_for(self, check: Callable[[], bool], what: str = "condition",
                       timeout_s: float = WAIT_TIMEOUT_S) -> None:
        """Returns once check() holds; AssertionError after timeout_s."""
        changed = self._condition()
        try:
            async with asyncio.timeout(timeout_s), changed:
                await changed.wait_for(check)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}") from None
