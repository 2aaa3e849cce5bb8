"""The loop the dispatchers share: work, then wait for a wake-up, the poll
interval or stop(), whichever comes first. A wake-up is only a hint; the
poll finds whatever a missed one would have announced."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 1.0


class PollingLoop(ABC):
    #: a pass that did this much work goes again at once: there may be more
    batch_size = 100

    def __init__(self, poll_interval_s: float = POLL_INTERVAL_S) -> None:
        self.poll_interval_s = poll_interval_s
        self._wakeup = asyncio.Event()
        self._stopping = False

    @abstractmethod
    async def process_once(self) -> int:
        """One pass; how much it did."""

    def wake(self) -> None:
        """Call from the event loop's thread."""
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                done = await self.process_once()
            except Exception:
                # a database away or a bug in one pass must not end the loop
                log.exception("%s: pass failed; trying again in %g s", type(self).__name__, self.poll_interval_s)
                done = 0
            if done < self.batch_size:
                await self._sleep()

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), self.poll_interval_s)
        self._wakeup.clear()
