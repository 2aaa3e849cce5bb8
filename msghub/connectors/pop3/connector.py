"""The pop3 connection kind: a mailbox fetched on a schedule, once per UIDL.

Each mail is stored with its UIDL in one transaction (hub.pop3_receive_v1),
so a restart, a crash between fetch and commit, or a second node fetching the
same mailbox stores it once and loses none. With delete_after_fetch a mail is
deleted on the server only in a later step, after its row is committed.
Bounces and DSNs that answer a mail msghub sent are applied to that message
(delivered / failed with the reason) instead of filling the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from msghub.connectors.base import (
    Connector,
    HubPort,
    InboundMessage,
    OutboundMessage,
    PermanentFailure,
    ProbeResult,
    SendResult,
)
from msghub.connectors.pop3.inbound import (
    gateway_allowed,
    gateway_numbers,
    gateway_text,
    read_fetched,
    unstorable,
)
from msghub.connectors.pop3.session import Pop3Error, Pop3Session
from msghub.connectors.pop3.settings import SETTINGS, Pop3Settings
from msghub.connectors.settings import validate_config
from msghub.email.port import MailPort, MemoryMailPort

log = logging.getLogger(__name__)


@dataclass
class FetchSummary:
    listed: int = 0
    stored: int = 0
    reports: int = 0
    too_large: int = 0
    repeated: int = 0
    deleted: int = 0
    gateway_sms: int = 0

    def merge(self, other: FetchSummary) -> None:
        for name in vars(self):
            if name != "listed":
                setattr(self, name, getattr(self, name) + getattr(other, name))
        self.listed = other.listed


class Pop3Connector(Connector):
    kind = "pop3"
    channels = ("email",)
    description = "fetches e-mail from a POP3 mailbox (implicit TLS or STLS, UIDL, bounces matched)"
    settings = SETTINGS
    settings_type = Pop3Settings
    config: Pop3Settings
    docs_page = "protocols/EMAIL.md"  # one page for both e-mail kinds

    def __init__(self, name: str, config: dict[str, Any], hub: HubPort) -> None:
        super().__init__(name, config, hub)
        self.mail: MailPort = hub if isinstance(hub, MailPort) else MemoryMailPort()
        self.check_now = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        session = Pop3Session(self.config)
        await asyncio.to_thread(session.connect)  # a wrong password is the connection's error
        await asyncio.to_thread(session.quit)
        self._poller = asyncio.create_task(self._poll(), name=f"pop3-{self.name}")

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def send(self, message: OutboundMessage) -> SendResult:
        raise PermanentFailure("a pop3 connection only receives: send e-mail through an smtp connection",
                               code="receive_only")

    @classmethod
    async def probe(cls, config: dict[str, Any]) -> ProbeResult:
        cfg = validate_config(cls.settings, config)
        session = Pop3Session(cfg)
        started = time.monotonic()
        try:
            await asyncio.to_thread(session.connect)
            listing = await asyncio.to_thread(session.listing)
            await asyncio.to_thread(session.quit)
        except (Pop3Error, OSError) as exc:
            session.abort()
            return ProbeResult(False, str(exc))
        ms = (time.monotonic() - started) * 1000
        return ProbeResult(True, f"logged in to {cfg['host']}:{cfg['port']} as {cfg['username']} "
                                 f"{'with' if session.tls else 'without'} TLS in {ms:.0f} ms; "
                                 f"{len(listing)} mails in the mailbox")

    async def _poll(self) -> None:
        interval = float(self.config["poll_interval_s"])
        while True:
            try:
                await self.fetch_all()
            except (Pop3Error, OSError) as exc:
                self.link_lost(f"fetching failed: {exc}")
                return
            except Exception as exc:  # a database error: log, and try again next round
                log.exception("pop3 %s: fetching failed", self.name)
                self.link_lost(f"fetching failed: {type(exc).__name__}: {exc}")
                return
            self.check_now.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.check_now.wait(), timeout=interval)

    async def fetch_all(self) -> FetchSummary:
        """Fetches until nothing new is left, one bounded batch per session."""
        total = FetchSummary()
        async with self._lock:
            while True:
                summary, more = await self._fetch_batch()
                total.merge(summary)
                if not more:
                    return total

    async def _fetch_batch(self) -> tuple[FetchSummary, bool]:
        cfg = self.config
        summary = FetchSummary()
        session = Pop3Session(cfg)
        await asyncio.to_thread(session.connect)
        try:
            listing = await asyncio.to_thread(session.listing)
            summary.listed = len(listing)
            by_uidl = {uidl: (number, size) for number, uidl, size in listing}
            unseen = await self.mail.pop3_unseen(list(by_uidl))
            batch = unseen[:int(cfg["batch_size"])]
            for uidl in batch:
                number, size = by_uidl[uidl]
                await self._fetch_one(session, uidl, number, size, summary)
            to_delete: list[str] = []
            if cfg["delete_after_fetch"]:
                # only what is committed: rows written above, or by an earlier run
                to_delete = [u for u in await self.mail.pop3_undeleted() if u in by_uidl]
                for uidl in to_delete:
                    await asyncio.to_thread(session.delete, by_uidl[uidl][0])
            await asyncio.to_thread(session.quit)
            if to_delete:
                await self.mail.pop3_mark_deleted(to_delete)
                summary.deleted = len(to_delete)
        finally:
            session.abort()
        return summary, len(unseen) > len(batch)

    async def _fetch_one(self, session: Pop3Session, uidl: str, number: int, size: int,
                         summary: FetchSummary) -> None:
        limit = int(self.config["max_size_bytes"])
        too_large = size > limit
        raw = await asyncio.to_thread(session.headers if too_large else session.retrieve, number)
        reading = read_fetched(raw, uidl, size, str(self.config["username"]), headers_only=too_large, limit=limit)
        status = reading.status
        if status is not None and status.outcome is not None:
            try:
                matched = await self.mail.pop3_report(uidl, size, status.original_message_id, status.envelope_id,
                                                      status.outcome, status.reason)
            except Exception as exc:  # an odd report is stored as a mail instead of blocking the mailbox
                log.warning("pop3 %s: report %s could not be applied: %s", self.name, uidl, exc)
                matched = None
            if matched is not None:
                summary.reports += 1
                return
        try:
            message_id = await self.mail.pop3_receive(reading.fetched)
        except Exception as exc:
            # refused as read (a value the database cannot take): kept as its bytes,
            # so one odd mail never blocks the mailbox; a second failure is the link's
            log.warning("pop3 %s: mail %s could not be stored as read: %s", self.name, uidl, exc)
            message_id = await self.mail.pop3_receive(
                unstorable(raw, uidl, size, str(self.config["username"]), f"{type(exc).__name__}: {exc}"))
        if message_id is None:
            summary.repeated += 1
            return
        if too_large:
            summary.too_large += 1
        else:
            summary.stored += 1
            await self._gateway(message_id, reading.fetched.message)

    async def _gateway(self, message_id: int, message: InboundMessage) -> None:
        cfg = self.config
        numbers = gateway_numbers(message.recipients, str(cfg["sms_gateway_domain"]))
        if not numbers:
            return
        if not gateway_allowed(message.sender, str(cfg["sms_gateway_senders"])):
            log.warning("pop3 %s: %s may not use the SMS gateway (sms_gateway_senders)", self.name, message.sender)
            return
        for number in numbers:
            await self.mail.gateway_sms(message_id, number, gateway_text(message), str(cfg["sms_gateway_connection"]))
