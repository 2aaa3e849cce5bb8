"""dlr-url callbacks, made after the change that owes them committed.

hub.kannel_dlr_calls rows are written by a trigger on hub.messages in the
transaction that changed the message, and claimed here with FOR UPDATE SKIP
LOCKED and a lease. A callback is made at least once: a node that dies after
the call but before recording it leaves it to be made again after LEASE_S.
A failed call (no answer, or a status that is not 2xx) is retried with
backoff; after kannel_dlr_max_attempts it is parked with its error.
"""

from __future__ import annotations

import logging
from typing import Any, TypedDict

import httpx

from msghub.gateway.dlr import DlrFacts, fill_escape_codes, report_text
from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.hub.db import Pool
from msghub.rules.dispatch_loop import POLL_INTERVAL_S, PollingLoop
from msghub.rules.http_fetch import fetch

PRIVATE_HINT = "allowed only with the setting kannel_dlr_private = on"

log = logging.getLogger(__name__)

LEASE_S = 60.0
TIMEOUT_S = 10.0
DEFAULT_MAX_ATTEMPTS = 10


class DlrCall(TypedDict):
    id: int
    message_id: int
    dlr_type: int
    reported_at: Any
    attempts: int


class DlrFactsRow(TypedDict):
    username: str
    dlr_url: str | None
    params: dict[str, Any]
    sender: str | None
    receiver: str
    body: str
    created_at: Any
    operator_ref: str | None
    failure_code: str | None
    failure_reason: str | None
    connection: str | None


class SettingRow(TypedDict):
    value: str


def facts_of(call: DlrCall, row: DlrFactsRow) -> DlrFacts:
    reply = report_text(call["dlr_type"], row["operator_ref"], row["created_at"], call["reported_at"],
                        row["body"], row["failure_code"], row["failure_reason"])
    return DlrFacts(
        message_id=call["message_id"], dlr_type=call["dlr_type"], sender=row["sender"] or "",
        receiver=row["receiver"], reply=reply, time=call["reported_at"], smsc_id=row["connection"] or "",
        foreign_id=row["operator_ref"], service=row["username"], params=row["params"],
    )


class DlrDispatcher(PollingLoop):
    def __init__(self, pool: Pool, *, client: httpx.AsyncClient | None = None,
                 poll_interval_s: float = POLL_INTERVAL_S, lease_s: float = LEASE_S) -> None:
        super().__init__(poll_interval_s)
        self.pool = pool
        self.client = client or httpx.AsyncClient(follow_redirects=False)
        self.lease_s = lease_s

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _setting(self, key: str) -> str | None:
        async with self.pool.connection() as conn:
            row = await GATEWAY_QUERIES.one(conn, "setting", SettingRow, {"key": key})
        return row["value"] if row else None

    async def process_once(self) -> int:
        async with self.pool.connection() as conn:
            calls = await GATEWAY_QUERIES.all(conn, "dlr_claim", DlrCall,
                                              {"lease_s": self.lease_s, "limit": self.batch_size})
        if not calls:
            return 0
        allow_private = await self._setting("kannel_dlr_private") == "on"
        max_attempts = int(await self._setting("kannel_dlr_max_attempts") or DEFAULT_MAX_ATTEMPTS)
        for call in calls:
            await self._call(call, allow_private, max_attempts)
        return len(calls)

    async def _call(self, call: DlrCall, allow_private: bool, max_attempts: int) -> None:
        async with self.pool.connection() as conn:
            row = await GATEWAY_QUERIES.one(conn, "dlr_facts", DlrFactsRow, {"message_id": call["message_id"]})
        url = None
        if row is None or not row["dlr_url"]:
            response: dict[str, Any] = {"status": None, "error": "the request gave no dlr-url"}
        else:
            url = fill_escape_codes(row["dlr_url"], facts_of(call, row))
            response = await fetch(self.client, "GET", url, None, None, TIMEOUT_S, allow_private=allow_private)
        status = response.get("status")
        params = {"id": call["id"], "url": url, "answer_status": status}
        async with self.pool.connection() as conn:
            if isinstance(status, int) and 200 <= status < 300:
                await GATEWAY_QUERIES.run(conn, "dlr_done", params)
                return
            error = _own_words(response.get("error")) or f"the dlr-url answered HTTP {status}"
            await GATEWAY_QUERIES.run(conn, "dlr_retry", {**params, "error": error, "max_attempts": max_attempts})
        log.warning("dlr-url callback %s (message %s) failed, attempt %s: %s",
                    call["id"], call["message_id"], call["attempts"], error)


def _own_words(error: str | None) -> str | None:
    """The rules' fetch names the rules' switch for private addresses; name ours."""
    if error and "rules may reach only public addresses" in error:
        return error.split("; rules may")[0] + "; " + PRIVATE_HINT
    return error
