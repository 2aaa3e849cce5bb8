"""The hub side of a connector: what it may ask of the database (HubPort)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from msghub.connectors.base import DeliveryReport, InboundMessage
from msghub.hub.db import Pool
from msghub.hub.queries import QUERIES
from msghub.services.email_link import EmailLink

log = logging.getLogger(__name__)


class HubLink(EmailLink):
    """A HubPort for one connection, backed by a connection pool (and the
    e-mail connectors' MailPort, from EmailLink)."""

    def __init__(self, pool: Pool, connection_id: int, node: str) -> None:
        self.pool = pool
        self.connection_id = connection_id
        self.node = node

    async def deliver(self, message: InboundMessage) -> int:
        parts = [
            {"content_type": a.content_type, "filename": a.filename, "content_id": a.content_id,
             "data": base64.b64encode(a.data).decode("ascii")}
            for a in message.attachments
        ]
        async with self.pool.connection() as conn:
            cur = await conn.execute(QUERIES["receive_message"], {
                "connection_id": self.connection_id, "channel": message.channel,
                "sender": message.sender, "recipients": list(message.recipients),
                "subject": message.subject, "body": message.text, "meta": Jsonb(message.meta),
                "parts": Jsonb(parts), "operator_ref": message.operator_ref,
            })
            row = await cur.fetchone()
        assert row is not None
        return int(row["id"])

    async def find_received(self, operator_ref: str, meta: Mapping[str, Any]) -> int | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(QUERIES["find_received"], {
                "connection_id": self.connection_id, "operator_ref": operator_ref, "meta": Jsonb(dict(meta)),
            })
            row = await cur.fetchone()
        return None if row is None else int(row["id"])

    async def report_delivery(self, report: DeliveryReport) -> int | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(QUERIES["record_delivery"], {
                "connection_id": self.connection_id, "operator_ref": report.operator_ref,
                "status": report.status, "reason": report.reason,
            })
            row = await cur.fetchone()
        message_id = row["message_id"] if row else None
        if message_id is None:
            log.debug("delivery report %s kept until its submit is recorded", report.operator_ref)
        return None if message_id is None else int(message_id)

    async def set_state(self, state: str, error: str | None = None) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(QUERIES["set_connection_state"], {
                "connection_id": self.connection_id, "state": state, "error": error,
                "node": self.node if state not in ("stopped", "disabled") else None,
            })

    async def set_meta(self, meta: dict[str, Any]) -> None:
        """What the link reports about itself (a modem's signal, IMEI, ...),
        shown on the connections page; optional for a connector."""
        async with self.pool.connection() as conn:
            await conn.execute(QUERIES["set_connection_meta"], {"connection_id": self.connection_id,
                                                                "meta": Jsonb(meta)})
