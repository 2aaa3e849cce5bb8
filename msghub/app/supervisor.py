"""Runs the connections this node holds.

Each enabled connection is held by one node at a time through a PostgreSQL
advisory lock on a session of its own: when a node dies its session ends, the
lock is free, and another node's supervisor takes the connection over on its
next look. A connection's runner opens the link, runs its worker, and on a
lost link reconnects with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime
from typing import Any

import psycopg

from msghub.app.hublink import HubLink
from msghub.app.queries import SITES_QUERIES, IdRow
from msghub.app.worker import ConnectionWorker
from msghub.connectors.base import Connector
from msghub.connectors.registry import kind_class
from msghub.connectors.settings import validate_config
from msghub.hub.db import Pool, connect_async
from msghub.hub.notify import Listener
from msghub.hub.queries import QUERIES
from msghub.services.connections import ConnectionRow

log = logging.getLogger(__name__)

RECONCILE_INTERVAL_S = 5.0
OPEN_TIMEOUT_S = 30.0
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0


def backoff_delay(failures: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: spreads reconnects of many links."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(failures - 1, 0))
    return float(ceiling / 2 + rng.random() * ceiling / 2)


class ConnectionRunner:
    def __init__(self, pool: Pool, row: ConnectionRow, node: str,
                 poll_interval_s: float) -> None:
        self.pool = pool
        self.id: int = row["id"]
        self.name: str = row["name"]
        self.kind: str = row["kind"]
        self.config: dict[str, Any] = row["config"]
        self.updated_at: datetime = row["updated_at"]
        self.node = node
        self.poll_interval_s = poll_interval_s
        self.hub = HubLink(pool, self.id, node)
        self.worker: ConnectionWorker | None = None
        self._stop = asyncio.Event()
        self._rng = random.Random()

    def _ids(self) -> dict[str, Any]:
        """What a JSON log line carries about this connection (hub/logformat.py)."""
        return {"connection_id": self.id, "connection": self.name, "node": self.node}

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake.set()

    def stop(self) -> None:
        self._stop.set()
        if self.worker is not None:
            self.worker.stop()

    async def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                # a row written by SQL may lack settings or carry bad ones:
                # the kind's defaults fill the gaps, and a bad value is this
                # connection's error, not the end of its runner
                cls = kind_class(self.kind)
                connector = cls(self.name, validate_config(cls.settings, self.config), self.hub)
            except Exception as exc:
                failures += 1
                log.warning("connection %s cannot start: %s", self.name, exc, extra=self._ids())
                await self.hub.set_state("down", f"bad settings: {exc}")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=backoff_delay(failures, self._rng))
                continue
            await self.hub.set_state("connecting")
            try:
                await asyncio.wait_for(connector.open(), timeout=OPEN_TIMEOUT_S)
            except Exception as exc:
                failures += 1
                await self._down(connector, f"could not open: {exc}" if str(exc) else repr(exc), failures)
                continue
            failures = 0
            await self.hub.set_state("up")
            reason = await self._serve(connector)
            if reason is not None:
                failures += 1
                await self._down(connector, reason, failures)
            else:
                await self._close(connector)
        await self.hub.set_state("stopped")

    async def _serve(self, connector: Connector) -> str | None:
        """Runs the worker until the link drops (returns why) or a stop (None)."""
        self.worker = ConnectionWorker(self.pool, self.id, connector, self.node, self.poll_interval_s)
        worker_task = asyncio.create_task(self.worker.run(), name=f"worker-{self.name}")
        lost_task = asyncio.create_task(connector.wait_lost())
        stop_task = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({worker_task, lost_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.worker.stop()
            await asyncio.gather(worker_task, return_exceptions=True)
            lost_task.cancel()
            stop_task.cancel()
            self.worker = None
        if worker_task.done() and not worker_task.cancelled() and worker_task.exception():
            log.error("worker of %s failed", self.name, exc_info=worker_task.exception(), extra=self._ids())
            return f"worker failed: {worker_task.exception()!r}"
        if lost_task.done() and not lost_task.cancelled():
            return lost_task.result() or "link lost"
        return None

    async def _down(self, connector: Connector, reason: str, failures: int) -> None:
        log.warning("connection %s down: %s", self.name, reason, extra=self._ids())
        await self._close(connector)
        await self.hub.set_state("down", reason)
        delay = backoff_delay(failures, self._rng)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=delay)

    async def _close(self, connector: Connector) -> None:
        try:
            await connector.close()
        except Exception:
            log.exception("closing %s failed", self.name)


class Supervisor:
    def __init__(self, url: str, pool: Pool, listener: Listener, node: str,
                 poll_interval_s: float, site: str | None = None) -> None:
        self.url = url
        self.pool = pool
        self.node = node
        self.site = site
        self.poll_interval_s = poll_interval_s
        self.runners: dict[int, tuple[ConnectionRunner, asyncio.Task[None]]] = {}
        self._changed = asyncio.Event()
        self._stopping = False
        listener.subscribe("msghub_connections", lambda _: self._changed.set())
        listener.subscribe("msghub_outbox", self._wake)

    def _wake(self, payload: str) -> None:
        if payload:
            held = self.runners.get(int(payload))
            if held:
                held[0].wake()
        else:
            for runner, _ in self.runners.values():
                runner.wake()

    def stop(self) -> None:
        self._stopping = True
        self._changed.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                lock_conn = await connect_async(self.url, autocommit=True)
            except Exception as exc:
                log.warning("supervisor cannot reach the database (%s); retrying", exc)
                await asyncio.sleep(RECONCILE_INTERVAL_S)
                continue
            try:
                while not self._stopping:
                    self._changed.clear()
                    await self._reconcile(lock_conn)
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), timeout=RECONCILE_INTERVAL_S)
            except (psycopg.OperationalError, OSError) as exc:
                # our locks went with the session: another node may hold them now
                log.warning("supervisor lost its lock session (%s); stopping its connections", exc)
            finally:
                await self._stop_all()
                with contextlib.suppress(Exception):
                    await lock_conn.close()

    async def _reconcile(self, lock_conn: psycopg.AsyncConnection[Any]) -> None:
        async with self.pool.connection() as conn:
            rows = await QUERIES.all(conn, "list_connections", ConnectionRow)
            # pinned to another site or node (schema/85_sites.sql): never ours, even when free
            elsewhere = {r["id"] for r in await SITES_QUERIES.all(
                conn, "pinned_elsewhere", IdRow, {"node": self.node, "site": self.site})}
        wanted = {r["id"]: r for r in rows if r["enabled"] and r["id"] not in elsewhere}
        for conn_id, (runner, _) in list(self.runners.items()):
            row = wanted.get(conn_id)
            if row is None or row["updated_at"] != runner.updated_at:
                await self._stop_runner(lock_conn, conn_id)
        for conn_id, row in wanted.items():
            if conn_id in self.runners:
                continue
            cur = await lock_conn.execute(QUERIES["try_lock_connection"], {"id": conn_id})
            locked = await cur.fetchone()
            if locked and locked["locked"]:
                log.info("node %s takes connection %s (%s)", self.node, row["name"], row["kind"],
                         extra={"connection_id": conn_id, "connection": row["name"], "node": self.node})
                runner = ConnectionRunner(self.pool, row, self.node, self.poll_interval_s)
                self.runners[conn_id] = (runner, asyncio.create_task(runner.run(), name=f"conn-{row['name']}"))
        for row in rows:
            if not row["enabled"] and row["state"] != "disabled" and row["node"] in (None, self.node):
                await HubLink(self.pool, row["id"], self.node).set_state("disabled")

    async def _stop_runner(self, lock_conn: psycopg.AsyncConnection[Any] | None, conn_id: int) -> None:
        runner, task = self.runners.pop(conn_id)
        runner.stop()
        await asyncio.gather(task, return_exceptions=True)
        if lock_conn is not None and not lock_conn.closed:
            with contextlib.suppress(psycopg.Error):
                await lock_conn.execute(QUERIES["unlock_connection"], {"id": conn_id})

    async def _stop_all(self) -> None:
        for conn_id in list(self.runners):
            await self._stop_runner(None, conn_id)
