"""Timed housekeeping, on every node (each job is safe to run concurrently).

- heartbeat: this node is alive (hub.nodes), so its claims are not recovered
- recover: messages stuck in "sending" go back to the queue (lease 60 s,
  every 10 s: recovered within 70 s of the claim, or within 40 s of a node's
  last heartbeat)
- reports: delivery reports that raced the record of their submit
- expire: queued messages past their validity fail as expired
- stats: fold statistics deltas into hub.stats_daily
- purge: processed events, the rule engine's old records, expired web sessions,
  failed-login counts a day old
- changes: the web UI's change feed older than CHANGES_KEEP_HOURS
  (hub.message_changes, read by live pages)
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from msghub.hub.db import Pool
from msghub.hub.queries import QUERIES

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 5
RECOVER_INTERVAL_S = 10
EXPIRE_INTERVAL_S = 15
REPORTS_INTERVAL_S = 5
STATS_INTERVAL_S = 10
PURGE_INTERVAL_S = 3600
CHANGES_INTERVAL_S = 600
CHANGES_KEEP_HOURS = 24


class Housekeeping:
    def __init__(self, pool: Pool, node: str, roles: list[str], site: str | None = None) -> None:
        self.pool = pool
        self.node = node
        self.site = site
        self.roles = roles
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from apscheduler.schedulers.asyncio import AsyncIOScheduler
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    def _every(self, seconds: int, job: Callable[[], Awaitable[None]], name: str) -> None:
        self.scheduler.add_job(job, "interval", seconds=seconds, id=name, name=name,
                               max_instances=1, coalesce=True)

    async def start(self) -> None:
        await self.heartbeat()
        self._every(HEARTBEAT_INTERVAL_S, self.heartbeat, "heartbeat")
        self._every(RECOVER_INTERVAL_S, self._named("recover_stuck", "recovered"), "recover")
        self._every(REPORTS_INTERVAL_S, self._named("apply_pending_reports", None), "reports")
        self._every(EXPIRE_INTERVAL_S, self._named("expire_queued", "expired"), "expire")
        self._every(STATS_INTERVAL_S, self._named("stats_rollup", None), "stats")
        self._every(STATS_INTERVAL_S, self._named("cost_rollup", None), "costs")
        self._every(PURGE_INTERVAL_S, self.purge, "purge")
        self._every(CHANGES_INTERVAL_S, self.prune_changes, "changes")
        self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        try:
            async with self.pool.connection() as conn:
                await conn.execute(QUERIES["release_node_connections"], {"name": self.node})
                await conn.execute(QUERIES["node_leave"], {"name": self.node})
        except Exception as exc:
            log.warning("could not sign node %s off: %s", self.node, exc)

    async def heartbeat(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(QUERIES["node_heartbeat"], {
                "name": self.node, "host": socket.gethostname(), "pid": os.getpid(), "roles": self.roles,
                "site": self.site})

    def _named(self, query: str, report: str | None) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            async with self.pool.connection() as conn:
                row: Any = await (await conn.execute(QUERIES[query])).fetchone()
            if report and row and row[report]:
                log.warning("%s: %s %s messages", query, report, row[report])
        return job

    async def purge(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(QUERIES["purge_events"])
            await conn.execute(QUERIES["purge_rule_records"])
            await conn.execute(QUERIES["purge_web_sessions"])
            await conn.execute(QUERIES["purge_login_failures"])

    async def prune_changes(self) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(QUERIES["purge_message_changes"], {"keep_hours": CHANGES_KEEP_HOURS})
