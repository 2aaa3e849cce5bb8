"""Check now: a pop3 connection's mailbox fetched here and now, for the
connections page's button and `msghub email check`.

The fetch stores each mail once by its UIDL (hub.pop3_receive_v1), so it is
safe beside the connection's own schedule, on this node or another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from msghub.connectors.base import DeliveryReport, InboundMessage
from msghub.connectors.pop3.connector import FetchSummary, Pop3Connector
from msghub.connectors.pop3.session import Pop3Error
from msghub.connectors.settings import validate_config
from msghub.errors import HubError
from msghub.hub.db import Pool
from msghub.services import audit
from msghub.services.connections import ConnectionRow
from msghub.services.email_link import EmailLink
from msghub.services.tx import Actor, Tx

__all__ = ["CHECK_TIMEOUT_S", "MailboxCheck", "can_check", "check_mailbox"]

CHECK_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class MailboxCheck:
    ok: bool
    detail: str
    summary: FetchSummary | None = None


class _CheckLink(EmailLink):
    """The hub side of one check: the mailbox bookkeeping (EmailLink). A
    fetch stores through pop3_receive, never deliver(), and the connection's
    state belongs to its own runner, so the HubPort half records nothing."""

    def __init__(self, pool: Pool, connection_id: int) -> None:
        self.pool = pool
        self.connection_id = connection_id

    async def deliver(self, message: InboundMessage) -> int:
        raise HubError("a mailbox check stores mail through pop3_receive")

    async def find_received(self, operator_ref: str, meta: Mapping[str, Any]) -> int | None:
        return None  # a POP3 server sends nothing again: UIDL bookkeeping (EmailLink) keeps mails unique

    async def report_delivery(self, report: DeliveryReport) -> int | None:
        return None

    async def set_state(self, state: str, error: str | None = None) -> None:
        return None


def can_check(row: ConnectionRow) -> bool:
    """Whether the connection has a mailbox to check (a pop3 connection)."""
    return row["kind"] == Pop3Connector.kind


async def check_mailbox(tx: Tx, actor: Actor, row: ConnectionRow, pool: Pool,
                        timeout_s: float = CHECK_TIMEOUT_S) -> MailboxCheck:
    """Fetches the mailbox through the pool (each mail committed on its own,
    before the server may delete it) and records the outcome in the audit
    log in tx. Waits on the far side: run it with asyncio (not blocking.call)."""
    if not can_check(row):
        raise HubError(f"no pop3 connection named {row['name']!r}")
    connector = Pop3Connector(row["name"], validate_config(Pop3Connector.settings, row["config"]),
                              _CheckLink(pool, row["id"]))
    try:
        summary = await asyncio.wait_for(connector.fetch_all(), timeout_s)
        result = MailboxCheck(True, f"{summary.listed} mails on the server; stored {summary.stored}, bounces and "
                                    f"reports {summary.reports}, too large {summary.too_large}, "
                                    f"deleted {summary.deleted}", summary)
    except (Pop3Error, OSError, TimeoutError) as exc:
        result = MailboxCheck(False, str(exc) or "no answer in time")
    await audit.record(tx, actor, "connection.check", row["name"], {"worked": result.ok, "detail": result.detail})
    return result
