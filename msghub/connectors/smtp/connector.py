"""The smtp connection kind: queued e-mail out through a mail server.

Each outbound row is one mail to one recipient (the outbox fans out). The
mail gets a Message-ID that is the same on every attempt; once the server
says 250 to DATA the acceptance is written to hub.smtp_accepted before
anything else, so an attempt after a crash finds it and sends nothing. 5xx
answers fail the message with the server's words, 4xx and network errors
retry, and a link lost after the whole mail was written is uncertain.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from msghub.connectors.base import (
    Attachment,
    Connector,
    HubPort,
    OutboundMessage,
    PermanentFailure,
    ProbeResult,
    SendResult,
    TemporaryFailure,
    UncertainFailure,
)
from msghub.connectors.settings import validate_config
from msghub.connectors.smtp.session import (
    SmtpAuthError,
    SmtpError,
    SmtpLinkError,
    SmtpRefused,
    SmtpSession,
    SmtpUncertain,
)
from msghub.connectors.smtp.settings import SETTINGS, SmtpSettings
from msghub.email.build import MailSpec, build_mail, mail_bytes, make_message_id
from msghub.email.errors import MailBuildError
from msghub.email.port import Acceptance, MailPort, MemoryMailPort

log = logging.getLogger(__name__)


def split_html(attachments: tuple[Attachment, ...]) -> tuple[str | None, tuple[Attachment, ...]]:
    """An unnamed text/html attachment is the mail's HTML body."""
    html = None
    rest = []
    for att in attachments:
        if html is None and att.content_type == "text/html" and not att.filename:
            html = att.data.decode("utf-8", "replace")
        else:
            rest.append(att)
    return html, tuple(rest)


class SmtpConnector(Connector):
    kind = "smtp"
    channels = ("email",)
    description = "sends e-mail through an SMTP server (STARTTLS or implicit TLS, AUTH, DSN)"
    settings = SETTINGS
    settings_type = SmtpSettings
    config: SmtpSettings
    docs_page = "protocols/EMAIL.md"  # one page for both e-mail kinds

    def __init__(self, name: str, config: dict[str, Any], hub: HubPort) -> None:
        super().__init__(name, config, hub)
        self.window = int(config["sessions"])
        self.mail: MailPort = hub if isinstance(hub, MailPort) else MemoryMailPort()
        self._idle: list[SmtpSession] = []
        self._pace_lock = asyncio.Lock()
        self._next_send = 0.0
        domain = config["message_id_domain"] or str(config["from_address"]).rpartition("@")[2]
        self._domain = domain
        self._salt: str | None = None

    async def open(self) -> None:
        session = SmtpSession(self.config)
        # a wrong password or a missing STARTTLS is the connection's error, in the server's words
        offers = await asyncio.to_thread(session.connect)
        log.info("smtp %s up: %s:%s offers %s", self.name, self.config["host"], self.config["port"], offers)
        self._idle.append(session)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for session in idle:
            await asyncio.to_thread(session.quit)

    @classmethod
    async def probe(cls, config: dict[str, Any]) -> ProbeResult:
        cfg = validate_config(cls.settings, config)
        session = SmtpSession(cfg)
        started = time.monotonic()
        try:
            offers = await asyncio.to_thread(session.connect)
        except SmtpError as exc:
            return ProbeResult(False, str(exc))
        await asyncio.to_thread(session.quit)
        ms = (time.monotonic() - started) * 1000
        secured = "with TLS" if session.tls else "without TLS"
        login = f", logged in as {cfg['username']}" if cfg["username"] else ""
        return ProbeResult(True, f"{cfg['host']}:{cfg['port']} answered {secured}{login} in {ms:.0f} ms; "
                                 f"it offers {offers}")

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.channel != "email":
            raise PermanentFailure(f"an smtp connection sends e-mail, not {message.channel}", code="wrong_channel")
        earlier = await self.mail.smtp_accepted(message.id)
        if earlier is not None:
            log.info("smtp %s: message %s was accepted before as %s; not sent again", self.name, message.id, earlier)
            return SendResult(operator_ref=earlier)
        if self._salt is None:
            self._salt = f"{await self.mail.message_id_salt()}:{self.name}"
        header_id = make_message_id(message.id, self._domain, salt=self._salt)
        in_reply_to, refs = await self.mail.email_answers(message.id)
        data = self._build(message, header_id, in_reply_to, refs)
        envelope_from = self.config["envelope_sender"] or self._from(message)
        notify = "SUCCESS,FAILURE,DELAY" if message.delivery_report else "FAILURE,DELAY"
        await self._pace()
        accepted = await self._transfer(envelope_from, message.recipient, data, f"msghub.{message.id}", notify)
        # first thing after the 250: a crash from here on must not send it twice
        try:
            await self.mail.smtp_accept(Acceptance(
                message_id=message.id, attempt=message.attempt, header_id=header_id, server_reply=accepted.reply,
                recipients=({"address": message.recipient, "code": accepted.recipient_code,
                             "reply": accepted.recipient_reply},),
                in_reply_to=in_reply_to, references=refs))
        except Exception:
            # the server has it: report it sent (a retry would be a duplicate);
            # only if the queue cannot record that either does the lease resend it
            log.exception("smtp %s: message %s accepted as %s, but the acceptance was not recorded",
                          self.name, message.id, header_id)
        return SendResult(operator_ref=header_id)

    def _from(self, message: OutboundMessage) -> str:
        sender = message.sender or ""
        return sender if "@" in sender else str(self.config["from_address"])

    def _build(self, message: OutboundMessage, header_id: str, in_reply_to: str | None,
               refs: tuple[str, ...]) -> bytes:
        html, attachments = split_html(message.attachments)
        try:
            return mail_bytes(build_mail(MailSpec(
                sender=self._from(message), sender_name=self.config["from_name"] or None,
                to=(message.recipient,), subject=message.subject, text=message.text, html=html,
                attachments=attachments, message_id=header_id, in_reply_to=in_reply_to, references=refs,
                reply_to=self.config["reply_to"] or None)))
        except MailBuildError as exc:
            raise PermanentFailure(str(exc), code="bad_mail") from None

    async def _pace(self) -> None:
        rate = float(self.config["rate_per_s"])
        if rate <= 0:
            return
        async with self._pace_lock:
            now = time.monotonic()
            wait = self._next_send - now
            self._next_send = max(now, self._next_send) + 1.0 / rate
        if wait > 0:
            await asyncio.sleep(wait)

    async def _session(self) -> tuple[SmtpSession, bool]:
        """An idle session (reused: True) or a new one."""
        while self._idle:
            session = self._idle.pop()
            if time.monotonic() - session.last_used < float(self.config["idle_close_s"]):
                return session, True
            await asyncio.to_thread(session.quit)
        session = SmtpSession(self.config)
        try:
            await asyncio.to_thread(session.connect)
        except SmtpAuthError as exc:
            self.link_lost(str(exc))
            raise TemporaryFailure(str(exc), code="smtp_auth") from None
        except SmtpRefused as exc:
            raise TemporaryFailure(str(exc), code=f"smtp_{exc.code}") from None
        except SmtpError as exc:
            raise TemporaryFailure(str(exc), code="smtp_link") from None
        return session, False

    async def _transfer(self, envelope_from: str, recipient: str, data: bytes, envid: str, notify: str) -> Any:
        for _ in range(2):
            session, reused = await self._session()
            try:
                accepted = await asyncio.to_thread(session.send, envelope_from, recipient, data, envid, notify)
            except SmtpRefused as exc:
                self._keep(session)
                if exc.permanent:
                    raise PermanentFailure(str(exc), code=f"smtp_{exc.code}") from None
                raise TemporaryFailure(str(exc), code=f"smtp_{exc.code}") from None
            except SmtpUncertain as exc:
                raise UncertainFailure(str(exc), code="smtp_no_answer") from None
            except SmtpLinkError as exc:
                if reused:
                    continue  # a reused session the server closed meanwhile: once more on a new one
                raise TemporaryFailure(str(exc), code="smtp_link") from None
            self._keep(session)
            return accepted
        raise TemporaryFailure("the server closed every session", code="smtp_link")

    def _keep(self, session: SmtpSession) -> None:
        if session.smtp is not None:
            self._idle.append(session)
