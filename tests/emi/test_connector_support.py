"""Shared pieces of the EMI connector tests (no tests here).

The far side is always the real SMSC simulator. HubRecorder is the package's
in-memory hub (msghub.connectors.memory.MemoryHub) with faults to inject; Tap is a TCP
pass-through between connector and simulator that records the frames going
each way and can trickle bytes, so tests can see what was on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from msghub.connectors.base import DeliveryReport, InboundMessage, OutboundMessage
from msghub.connectors.emi.codec import FrameReader
from msghub.connectors.emi.connector import EmiConnector
from msghub.connectors.memory import MemoryHub
from msghub.connectors.settings import validate_config
from msghub.devtools.emi.simulator import SimulatorConfig, SmscSimulator

T = TypeVar("T")
TEST_TIMEOUT_S = 60.0
USER, PASSWORD = "hub", "s3cret"
_ids = itertools.count(1)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Runs one test's coroutine, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, TEST_TIMEOUT_S))


async def until(check: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        result = check()
        if result:
            return result
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass(eq=False)  # identity, as the hub's HubLink: one per connection
class HubRecorder(MemoryHub):
    """MemoryHub that can also fail or hold deliver() and take its time storing reports."""

    fail_deliveries: int = 0
    gate: asyncio.Event | None = None
    calls: int = 0
    report_delay_s: float = 0.0
    storing: dict[str, int] = field(default_factory=dict)  # reports being stored, by recipient
    most_storing: int = 0
    most_storing_one_recipient: int = 0

    async def deliver(self, message: InboundMessage) -> int:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_deliveries:
            self.fail_deliveries -= 1
            raise RuntimeError("the database is away")
        return await super().deliver(message)

    async def report_delivery(self, report: DeliveryReport) -> int | None:
        recipient = report.operator_ref.split(":")[0]
        self.storing[recipient] = self.storing.get(recipient, 0) + 1
        self.most_storing = max(self.most_storing, sum(self.storing.values()))
        self.most_storing_one_recipient = max(self.most_storing_one_recipient, self.storing[recipient])
        try:
            await asyncio.sleep(self.report_delay_s)  # a transaction taking its time
            return await super().report_delivery(report)
        finally:
            self.storing[recipient] -= 1


def settings(port: int, **overrides: Any) -> dict[str, Any]:
    values = {"host": "127.0.0.1", "port": port, "username": USER, "password": PASSWORD, **overrides}
    return validate_config(EmiConnector.settings, values)


def sms(text: str = "hello", recipient: str = "+447700900123", **fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "id": next(_ids),
        "attempt": 1,
        "channel": "sms",
        "recipient": recipient,
        "sender": "+15550001",
        "subject": None,
        "text": text,
        **fields,
    }
    return OutboundMessage(**values)


def sim_config(**overrides: Any) -> SimulatorConfig:
    values: dict[str, Any] = {"accounts": {USER: PASSWORD}, "dr_delay_s": 0.05, **overrides}
    return SimulatorConfig(**values)


@contextlib.asynccontextmanager
async def simulator(**overrides: Any) -> AsyncIterator[SmscSimulator]:
    sim = SmscSimulator(sim_config(**overrides))
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@contextlib.asynccontextmanager
async def connected(
    port: int, hub: HubRecorder | None = None, name: str | None = None, **overrides: Any
) -> AsyncIterator[EmiConnector]:
    connector = EmiConnector(name or f"emi-test-{next(_ids)}", settings(port, **overrides), hub or HubRecorder())
    await connector.open()
    try:
        yield connector
    finally:
        await connector.close()


def header(frame: bytes) -> tuple[str, str, str]:
    """(TRN, O|R, OT) of a raw frame."""
    parts = frame.decode("ascii", "replace").split("/")
    return (parts[0], parts[2], parts[3]) if len(parts) > 4 else ("", "", "")


class Tap:
    """A TCP pass-through that records the frames going each way."""

    def __init__(self, upstream_port: int, *, trickle_down_s: float = 0.0, tls: ssl.SSLContext | None = None) -> None:
        self.upstream_port = upstream_port
        self.trickle_down_s = trickle_down_s
        self.tls = tls  # serve TLS to the connector (a TLS front of the SMSC)
        self.up: list[bytes] = []  # connector -> simulator
        self.down: list[bytes] = []  # simulator -> connector
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> Tap:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        await self._server.wait_closed()

    def frames(self, direction: str, kind: str, ot: str) -> list[bytes]:
        frames = self.up if direction == "up" else self.down
        return [f for f in frames if header(f)[1:] == (kind, ot)]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers.append(up_writer)
        for task in (
            self._pump(reader, up_writer, self.up, 0.0),
            self._pump(up_reader, writer, self.down, self.trickle_down_s),
        ):
            spawned = asyncio.create_task(task)
            self._tasks.add(spawned)
            spawned.add_done_callback(self._tasks.discard)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, frames: list[bytes], trickle_s: float
    ) -> None:
        framer = FrameReader(max_size=1_000_000)
        try:
            while data := await reader.read(65536):
                frames.extend(f for f in framer.feed(data) if isinstance(f, bytes))
                if trickle_s:
                    for i in range(len(data)):
                        writer.write(data[i : i + 1])
                        await writer.drain()
                        await asyncio.sleep(trickle_s)
                else:
                    writer.write(data)
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


async def gather_failures(calls: list[Awaitable[T]]) -> list[T | BaseException]:
    return list(await asyncio.gather(*calls, return_exceptions=True))
