"""What happens after a rule run commits, and what happens on a clock.

- http: hub.http_requests performed, answers as http_response events
  (msghub.rules.http_dispatch)
- exports: hub.export_writes to external databases (msghub.rules.exports)
- imports: external databases polled into hub.import (msghub.rules.importer)
- schedules: hub.schedules fired as schedule events (msghub.rules.schedules)

Every loop is safe on several hub nodes at once (rows are claimed with
FOR UPDATE SKIP LOCKED), polls every second and can be woken sooner.
"""

from __future__ import annotations

import asyncio

from msghub.hub.db import Pool
from msghub.rules.dispatch_loop import PollingLoop
from msghub.rules.exports import ExportWriter
from msghub.rules.external_sql import dispose_all
from msghub.rules.http_dispatch import HttpDispatcher
from msghub.rules.importer import Importer
from msghub.rules.schedules import ScheduleTicker


class Dispatchers:
    def __init__(self, pool: Pool, node: str, *, http_private: bool = False) -> None:
        self.http = HttpDispatcher(pool, node, allow_private=http_private)
        self.exports = ExportWriter(pool)
        self.imports = Importer(pool)
        self.schedules = ScheduleTicker(pool)
        # each has run(), wake() and stop(), for a caller that starts them itself
        self.loops: list[PollingLoop] = [self.http, self.exports, self.imports, self.schedules]

    def wake(self, _result: object = None) -> None:
        """A rule run committed requests or external writes: fits the runner's
        on_after_commit (call from the event loop's thread)."""
        self.http.wake()
        self.exports.wake()

    def stop(self) -> None:
        for loop in self.loops:
            loop.stop()

    async def run(self) -> None:
        """Until stop(); the loops catch their own errors."""
        try:
            await asyncio.gather(*(loop.run() for loop in self.loops))
        finally:
            await asyncio.to_thread(dispose_all)


async def run_dispatchers(pool: Pool, node: str, stop_event: asyncio.Event) -> None:
    """Runs the dispatchers until stop_event is set."""
    dispatchers = Dispatchers(pool, node)
    task = asyncio.create_task(dispatchers.run(), name="dispatchers")
    stopper = asyncio.create_task(stop_event.wait())
    await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    dispatchers.stop()
    stopper.cancel()
    await task
