"""Rule HTTP requests, performed after the rule run that asked for them committed.

Rows of hub.http_requests are claimed with FOR UPDATE SKIP LOCKED and a
lease: a request claimed by a node that died is retaken after LEASE_S. Each
answer is stored, and its http_response event written, in one transaction.
A request is performed at least once: a node that dies after the request but
before that commit leaves it to be performed again.

The runner calls wake() after committing a transaction that wrote requests;
a poll every POLL_INTERVAL_S covers a wake-up missed by another node.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb

from msghub.hub.db import Pool, Row
from msghub.rules.dispatch_loop import POLL_INTERVAL_S, PollingLoop
from msghub.rules.http_fetch import error_response, fetch
from msghub.rules.queries import DISPATCH_QUERIES

log = logging.getLogger(__name__)

# well beyond the slowest request (http_fetch.MAX_TIMEOUT_S) plus storing its answer
LEASE_S = 60.0
MAX_IN_FLIGHT = 20


class HttpDispatcher(PollingLoop):
    def __init__(
        self,
        pool: Pool,
        node: str,
        *,
        client: httpx.AsyncClient | None = None,
        poll_interval_s: float = POLL_INTERVAL_S,
        lease_s: float = LEASE_S,
        max_in_flight: int = MAX_IN_FLIGHT,
        allow_private: bool = False,
    ) -> None:
        super().__init__(poll_interval_s)
        self.pool = pool
        self.node = node
        self.allow_private = allow_private
        # redirects are not followed: the rule sees the 3xx and its Location
        self.client = client or httpx.AsyncClient(follow_redirects=False)
        self.lease_s = lease_s
        self.max_in_flight = max_in_flight

    async def aclose(self) -> None:
        await self.client.aclose()

    async def run(self) -> None:
        """Until stop(): up to max_in_flight requests at a time, so one slow
        server holds one slot rather than the whole queue."""
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping:
                free = self.max_in_flight - len(in_flight)
                claimed = await self._claim_logged(free) if free > 0 else []
                for request in claimed:
                    task = asyncio.create_task(self._answer(request), name=f"http-request-{request['id']}")
                    in_flight.add(task)
                    task.add_done_callback(self._slot_freed(in_flight))
                if claimed and len(claimed) == free:
                    continue  # there may be more waiting
                await self._sleep()
        finally:
            # finish what was started: each ends within MAX_TIMEOUT_S, and
            # an abandoned claim would wait out its lease
            await asyncio.gather(*in_flight, return_exceptions=True)
            await self.aclose()

    async def process_once(self) -> int:
        """Claims what is pending, performs it and stores the answers; how many."""
        claimed = await self._claim(self.max_in_flight)
        await asyncio.gather(*(self._answer(request) for request in claimed))
        return len(claimed)

    def _slot_freed(self, in_flight: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
        def freed(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            if not task.cancelled() and task.exception():
                log.error("http dispatcher: %s failed", task.get_name(), exc_info=task.exception())
            self._wakeup.set()

        return freed

    async def _claim_logged(self, limit: int) -> list[Row]:
        try:
            return await self._claim(limit)
        except Exception:
            log.exception("http dispatcher: cannot claim requests; trying again in %g s", self.poll_interval_s)
            return []

    async def _claim(self, limit: int) -> list[Row]:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(DISPATCH_QUERIES["http_claim"],
                                        {"node": self.node, "lease_s": self.lease_s, "limit": limit})
            return await cursor.fetchall()

    async def _answer(self, request: Row) -> None:
        response = await fetch(
            self.client,
            request["method"],
            request["url"],
            request["headers"],
            request["body"],
            request["timeout_s"],
            allow_private=self.allow_private,
        )
        try:
            await self._record(request, response)
        except psycopg.DataError as exc:
            # e.g. a JSON answer holding \u0000 or NaN, which jsonb refuses
            stored = error_response(f"the response could not be stored: {str(exc).strip()}", response["elapsed_ms"])
            stored["status"] = response["status"]
            await self._record_logged(request, stored)
        except (psycopg.Error, OSError) as exc:
            # the lease runs out and the request is performed again
            log.warning("http dispatcher: cannot store the answer to request %s: %s", request["id"], exc)

    async def _record_logged(self, request: Row, response: dict[str, Any]) -> None:
        try:
            await self._record(request, response)
        except (psycopg.Error, OSError) as exc:
            log.warning("http dispatcher: cannot store the answer to request %s: %s", request["id"], exc)

    async def _record(self, request: Row, response: dict[str, Any]) -> None:
        params = {
            "id": request["id"],
            "node": self.node,
            "claimed_at": request["claimed_at"],
            "status": "failed" if response["error"] else "done",
            "response": Jsonb(response),
        }
        async with self.pool.connection() as conn, conn.transaction():
            event = await (await conn.execute(DISPATCH_QUERIES["http_record"], params)).fetchone()
            if event:
                await conn.execute(DISPATCH_QUERIES["notify_events"])
            else:
                log.info(
                    "http dispatcher: request %s was retaken by another node; its answer is dropped", request["id"]
                )
