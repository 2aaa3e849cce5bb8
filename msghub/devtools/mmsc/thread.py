"""The MMSC simulator on an event loop of its own thread, for callers that are
not async (end-to-end tests that poll the database, the benchmark)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

from msghub.devtools.mmsc.simulator import MmscConfig, MmscSimulator

T = TypeVar("T")
CALL_TIMEOUT_S = 60.0


class MmscThread:
    def __init__(self, config: MmscConfig) -> None:
        self.sim = MmscSimulator(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mmsc-simulator", daemon=True)

    def __enter__(self) -> MmscThread:
        self._thread.start()
        try:
            self.run(lambda sim: sim.start())
        except BaseException:
            self._shutdown()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        try:
            self.run(lambda sim: sim.stop())
        finally:
            self._shutdown()

    def run(self, fn: Callable[[MmscSimulator], Awaitable[T]], timeout: float = CALL_TIMEOUT_S) -> T:
        """Runs a coroutine of the simulator on its loop and waits for its result."""
        return asyncio.run_coroutine_threadsafe(self._call(fn), self._loop).result(timeout)

    def call(self, fn: Callable[[MmscSimulator], T], timeout: float = CALL_TIMEOUT_S) -> T:
        """Reads the simulator's state on its own loop (no races with its tasks)."""

        async def read(sim: MmscSimulator) -> T:
            return fn(sim)

        return self.run(read, timeout)

    async def _call(self, fn: Callable[[MmscSimulator], Awaitable[T]]) -> T:
        return await fn(self.sim)

    @property
    def url(self) -> str:
        return self.call(lambda sim: sim.url)

    def _shutdown(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
