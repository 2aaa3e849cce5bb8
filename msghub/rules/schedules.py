"""Timed rules: each due hub.schedules row becomes one 'schedule' event
({"schedule": name, "due_at": ...}) and moves on by whole intervals.

One statement locks, advances and fires (FOR UPDATE SKIP LOCKED), so two
hub nodes polling at once fire each due time once. After downtime the
missed intervals are skipped, not fired in a burst.
"""

from __future__ import annotations

import psycopg

from msghub.hub.db import Pool, Row
from msghub.rules.dispatch_loop import POLL_INTERVAL_S, PollingLoop
from msghub.rules.queries import DISPATCH_QUERIES


async def fire_due_schedules(conn: psycopg.AsyncConnection[Row]) -> int:
    """Fires what is due; how many events were written."""
    async with conn.transaction():
        fired = len(await (await conn.execute(DISPATCH_QUERIES["schedules_fire"])).fetchall())
        if fired:
            await conn.execute(DISPATCH_QUERIES["notify_events"])
    return fired


class ScheduleTicker(PollingLoop):
    def __init__(self, pool: Pool, *, poll_interval_s: float = POLL_INTERVAL_S) -> None:
        super().__init__(poll_interval_s)
        self.pool = pool

    async def process_once(self) -> int:
        async with self.pool.connection() as conn:
            return await fire_due_schedules(conn)
