"""Webhooks: signed JSON calls for message and connection events (docs/API.md).

hub.webhook_deliveries rows are written by a trigger on hub.events in the
transaction that recorded the event, and claimed here with FOR UPDATE SKIP
LOCKED and a lease, as rules' HTTP requests are: a committed event is
delivered at least once (a node that dies mid-call leaves it to be made
again after LEASE_S; receivers deduplicate on X-Msghub-Delivery). A call
that gets no 2xx answer is retried after base_s, doubling up to an hour,
and after webhook_max_attempts it is parked with its error. Private, local
and reserved addresses are refused unless the webhook allows them.

Signature: ``X-Msghub-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``
with the Unix time in ``X-Msghub-Timestamp``, so a receiver can refuse an
old, replayed call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any, TypedDict

import httpx

from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.hub.db import Pool
from msghub.rules.dispatch_loop import POLL_INTERVAL_S, PollingLoop
from msghub.rules.http_fetch import fetch

PRIVATE_HINT = "only an administrator's webhook (msghub webhook add --allow-private) may reach them"

log = logging.getLogger(__name__)

EVENTS = ("message_received", "message_status", "connection_up", "connection_down")
LEASE_S = 60.0
TIMEOUT_S = 10.0
BASE_RETRY_S = 5.0
DEFAULT_MAX_ATTEMPTS = 10


class Delivery(TypedDict):
    id: int
    webhook_id: int
    event: str
    payload: dict[str, Any]
    attempts: int
    url: str
    secret: str
    allow_private: bool


class SettingRow(TypedDict):
    value: str


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    """What a receiver checks (documented, and used by the tests)."""
    return timestamp.isdigit() and hmac.compare_digest(signature(secret, int(timestamp), body), given)


def request_of(delivery: Delivery, now: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(delivery["payload"], separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    timestamp = int(time.time()) if now is None else now
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "msghub-webhooks",
        "X-Msghub-Event": delivery["event"],
        "X-Msghub-Delivery": str(delivery["id"]),
        "X-Msghub-Timestamp": str(timestamp),
        "X-Msghub-Signature": signature(delivery["secret"], timestamp, body),
    }
    return body, headers


class WebhookDispatcher(PollingLoop):
    def __init__(self, pool: Pool, *, client: httpx.AsyncClient | None = None,
                 poll_interval_s: float = POLL_INTERVAL_S, lease_s: float = LEASE_S,
                 base_s: float = BASE_RETRY_S) -> None:
        super().__init__(poll_interval_s)
        self.pool = pool
        self.client = client or httpx.AsyncClient(follow_redirects=False)
        self.lease_s = lease_s
        self.base_s = base_s

    async def aclose(self) -> None:
        await self.client.aclose()

    async def process_once(self) -> int:
        async with self.pool.connection() as conn:
            deliveries = await GATEWAY_QUERIES.all(conn, "webhook_claim", Delivery,
                                                   {"lease_s": self.lease_s, "limit": self.batch_size})
            if not deliveries:
                return 0
            row = await GATEWAY_QUERIES.one(conn, "setting", SettingRow, {"key": "webhook_max_attempts"})
        max_attempts = int(row["value"]) if row else DEFAULT_MAX_ATTEMPTS
        for delivery in deliveries:
            await self._deliver(delivery, max_attempts)
        return len(deliveries)

    async def _deliver(self, delivery: Delivery, max_attempts: int) -> None:
        body, headers = request_of(delivery)
        response = await fetch(self.client, "POST", delivery["url"], headers, body.decode(), TIMEOUT_S,
                               allow_private=delivery["allow_private"])
        status = response.get("status")
        params: dict[str, Any] = {"id": delivery["id"], "answer_status": status}
        async with self.pool.connection() as conn:
            if isinstance(status, int) and 200 <= status < 300:
                await GATEWAY_QUERIES.run(conn, "webhook_done", params)
                return
            error = _own_words(response.get("error")) or f"the webhook answered HTTP {status}"
            await GATEWAY_QUERIES.run(conn, "webhook_retry", {**params, "error": error, "base_s": self.base_s,
                                                              "max_attempts": max_attempts})
        log.warning("webhook %s delivery %s (%s) failed, attempt %s: %s", delivery["webhook_id"], delivery["id"],
                    delivery["event"], delivery["attempts"], error)


def _own_words(error: str | None) -> str | None:
    """The rules' fetch names the rules' switch for private addresses; name ours."""
    if error and "rules may reach only public addresses" in error:
        return error.split("; rules may")[0] + "; " + PRIVATE_HINT
    return error
