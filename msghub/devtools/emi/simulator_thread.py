"""An SMSC simulator on an event loop of its own thread: for callers that are
not async (benchmarks, end-to-end tests that poll a database, the demo of
`msghub run --demo`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

from msghub.devtools.emi.simulator import SimulatorConfig, SmscSimulator

T = TypeVar("T")
CALL_TIMEOUT_S = 30.0


class SimulatorThread:
    """An SmscSimulator on an event loop of its own thread, for callers that
    are not async (this benchmark, end-to-end tests that poll a database)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smsc-simulator", daemon=True)
        self._sim: SmscSimulator | None = None

    def __enter__(self) -> SimulatorThread:
        self._thread.start()
        try:
            self._sim = self.run(lambda _: self._start())
        except BaseException:
            self._shutdown()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self._sim is not None:
                self.run(lambda sim: sim.stop())
        finally:
            self._shutdown()

    async def _start(self) -> SmscSimulator:
        sim = SmscSimulator(self.config)
        await sim.start()
        return sim

    @property
    def sim(self) -> SmscSimulator:
        assert self._sim is not None, "the simulator thread is not running"
        return self._sim

    @property
    def port(self) -> int:
        return self.call(lambda sim: sim.port)

    def run(self, fn: Callable[[SmscSimulator], Awaitable[T]], timeout: float = CALL_TIMEOUT_S) -> T:
        """Awaits fn(simulator) on the simulator's loop and returns its result."""
        async def call() -> T:
            return await fn(self._sim)  # type: ignore[arg-type]  # None only while starting
        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout)

    def call(self, fn: Callable[[SmscSimulator], T], timeout: float = CALL_TIMEOUT_S) -> T:
        """fn(simulator) on the simulator's loop (its state belongs to that thread)."""
        async def call() -> T:
            return fn(self.sim)
        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout)

    def _shutdown(self) -> None:
        async def cancel_rest() -> None:
            current = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not current]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(cancel_rest(), self._loop).result(CALL_TIMEOUT_S)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CALL_TIMEOUT_S)
        self._loop.close()
