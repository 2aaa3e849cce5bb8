"""Shared helpers of the modem tests: a recording HubPort and a runner."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from msghub.connectors.base import DeliveryReport, InboundMessage
from msghub.connectors.modem.connector import ModemConnector
from msghub.connectors.settings import validate_config

WAIT_S = 30.0  # generous bounded waits: the machine is shared


@dataclass
class HubRecorder:
    delivered: list[InboundMessage] = field(default_factory=list)
    reports: list[DeliveryReport] = field(default_factory=list)
    states: list[tuple[str, str | None]] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    fail_deliveries: int = 0

    async def deliver(self, message: InboundMessage) -> int:
        if self.fail_deliveries:
            self.fail_deliveries -= 1
            raise RuntimeError("the database is away")
        self.delivered.append(message)
        return len(self.delivered)

    async def report_delivery(self, report: DeliveryReport) -> int | None:
        self.reports.append(report)
        return 1

    async def set_state(self, state: str, error: str | None = None) -> None:
        self.states.append((state, error))

    async def set_meta(self, meta: dict[str, Any]) -> None:
        self.metas.append(meta)


def run(fn: Callable[[], Awaitable[None]], timeout_s: float = 120) -> None:
    asyncio.run(asyncio.wait_for(fn(), timeout_s))


async def until(check: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def connector(port: str, hub: HubRecorder | None = None, **settings: object) -> ModemConnector:
    values: dict[str, object] = {"port": port, "command_timeout_s": 5, "send_timeout_s": 10} | settings
    return ModemConnector("gsm", validate_config(ModemConnector.settings, values), hub or HubRecorder())
