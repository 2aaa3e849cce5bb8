"""The hub side of the e-mail connectors (msghub.email.port.MailPort): their
exactly-once bookkeeping in the database, over a pool. Mixed into
msghub.app.hublink.HubLink for a running connection, and used by
services.mailbox for a mailbox checked now (web, CLI)."""

from __future__ import annotations

import base64
from typing import Any

from psycopg.types.json import Jsonb

from msghub.email.port import Acceptance, Fetched
from msghub.hub.db import Pool
from msghub.services.queries import EMAIL_QUERIES


class EmailLink:
    pool: Pool
    connection_id: int

    async def _one(self, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(EMAIL_QUERIES[name], params)
            row = await cur.fetchone()
        return row

    async def _all(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(EMAIL_QUERIES[name], params)
            return list(await cur.fetchall())

    async def message_id_salt(self) -> str:
        row = await self._one("message_id_salt", {})
        return "" if row is None else str(row["value"])

    async def smtp_accepted(self, message_id: int) -> str | None:
        row = await self._one("smtp_accepted", {"message_id": message_id})
        return None if row is None else str(row["header_id"])

    async def smtp_accept(self, acceptance: Acceptance) -> None:
        await self._one("smtp_accept", {
            "message_id": acceptance.message_id, "connection_id": self.connection_id,
            "attempt": acceptance.attempt, "header_id": acceptance.header_id,
            "server_reply": acceptance.server_reply, "recipients": Jsonb(list(acceptance.recipients)),
            "in_reply_to": acceptance.in_reply_to, "refs": list(acceptance.references)})

    async def email_answers(self, message_id: int) -> tuple[str | None, tuple[str, ...]]:
        row = await self._one("email_answers", {"message_id": message_id})
        if row is None:
            return None, ()
        return str(row["header_id"]), tuple(row["refs"] or ())

    async def pop3_unseen(self, uidls: list[str]) -> list[str]:
        rows = await self._all("pop3_unseen", {"connection_id": self.connection_id, "uidls": uidls})
        return [str(r["uidl"]) for r in rows]

    async def pop3_receive(self, fetched: Fetched) -> int | None:
        message = fetched.message
        parts = [{"content_type": a.content_type, "filename": a.filename, "content_id": a.content_id,
                  "data": base64.b64encode(a.data).decode("ascii")} for a in message.attachments]
        row = await self._one("pop3_receive", {
            "connection_id": self.connection_id, "uidl": fetched.uidl, "outcome": fetched.outcome,
            "size": fetched.size, "sender": message.sender, "recipients": list(message.recipients),
            "subject": message.subject, "body": message.text, "meta": Jsonb(message.meta), "parts": Jsonb(parts),
            "header_id": fetched.header_id, "in_reply_to": fetched.in_reply_to, "refs": list(fetched.references)})
        return None if row is None or row["id"] is None else int(row["id"])

    async def pop3_report(self, uidl: str, size: int, header_id: str | None, envelope_id: str | None,
                          status: str, reason: str | None) -> int | None:
        row = await self._one("pop3_report", {
            "connection_id": self.connection_id, "uidl": uidl, "size": size, "header_id": header_id,
            "envelope_id": envelope_id, "status": status, "reason": reason})
        return None if row is None or row["id"] is None else int(row["id"])

    async def pop3_undeleted(self) -> list[str]:
        return [str(r["uidl"]) for r in await self._all("pop3_undeleted", {"connection_id": self.connection_id})]

    async def pop3_mark_deleted(self, uidls: list[str]) -> None:
        if uidls:
            await self._one_exec("pop3_mark_deleted", {"connection_id": self.connection_id, "uidls": uidls})

    async def gateway_sms(self, message_id: int, number: str, text: str, connection: str) -> int:
        row = await self._one("gateway_sms", {"message_id": message_id, "number": number, "text": text,
                                              "connection": connection})
        assert row is not None
        return int(row["id"])

    async def _one_exec(self, name: str, params: dict[str, Any]) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(EMAIL_QUERIES[name], params)
