"""Outbound mail -> bytes: multipart/alternative when there is HTML,
attachments named the RFC 2231 way, Message-ID, Date, In-Reply-To/References."""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage

from msghub.connectors.base import Attachment
from msghub.email.errors import MailBuildError

# SMTP wants CRLF; lines are folded at 78 by the policy
SMTP_POLICY = email.policy.SMTP.clone(max_line_length=78)
_ADDR = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9.-]+$")
_DOMAIN = re.compile(r"^[A-Za-z0-9.-]+$")


@dataclass(frozen=True)
class MailSpec:
    sender: str
    to: tuple[str, ...]
    subject: str | None
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    sender_name: str | None = None
    date: datetime | None = None
    extra_headers: tuple[tuple[str, str], ...] = field(default=())


def make_message_id(message_id: int, domain: str, salt: str = "") -> str:
    """A Message-ID that is the same on every attempt of one message, so a
    retry after an uncertain send carries the same id and can be recognised."""
    if not _DOMAIN.match(domain):
        raise MailBuildError(f"{domain!r} is not a domain name for Message-IDs")
    tag = hashlib.sha256(f"{salt}:{message_id}".encode()).hexdigest()[:16]
    return f"<msghub.{message_id}.{tag}@{domain}>"


def check_address(value: str, what: str) -> str:
    text = value.strip()
    if not _ADDR.match(text):
        raise MailBuildError(f"{what} {value!r} is not an e-mail address")
    return text


def _no_breaks(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise MailBuildError(f"{what} must be one line")
    return value


def _address(addr: str, name: str | None) -> Address:
    local, _, domain = addr.rpartition("@")
    try:
        return Address(display_name=_no_breaks(name or "", "a display name"), username=local, domain=domain)
    except (ValueError, TypeError, IndexError) as exc:
        raise MailBuildError(f"address {addr!r}: {exc}") from None


def build_mail(spec: MailSpec) -> EmailMessage:
    try:
        return _build(spec)
    except MailBuildError:
        raise
    except Exception as exc:  # the stdlib's header classes raise many kinds
        raise MailBuildError(f"cannot write this mail: {type(exc).__name__}: {exc}") from None


def mail_bytes(msg: EmailMessage) -> bytes:
    try:
        return msg.as_bytes(policy=SMTP_POLICY)
    except Exception as exc:
        raise MailBuildError(f"cannot write this mail: {type(exc).__name__}: {exc}") from None


def _build(spec: MailSpec) -> EmailMessage:
    sender = check_address(spec.sender, "sender")
    if not spec.to:
        raise MailBuildError("a mail needs at least one recipient")
    to = [check_address(a, "recipient") for a in spec.to]
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = _address(sender, spec.sender_name)
    msg["To"] = [_address(a, None) for a in to]
    if spec.reply_to:
        msg["Reply-To"] = _address(check_address(spec.reply_to, "reply-to address"), None)
    msg["Subject"] = _no_breaks(spec.subject or "", "the subject")
    msg["Date"] = email.utils.format_datetime(spec.date or datetime.now(UTC))
    msg["Message-ID"] = _no_breaks(spec.message_id or email.utils.make_msgid(domain=sender.rpartition("@")[2]),
                                   "the Message-ID")
    if spec.in_reply_to:
        msg["In-Reply-To"] = _no_breaks(spec.in_reply_to, "In-Reply-To")
    refs = _references(spec.references, spec.in_reply_to)
    if refs:
        msg["References"] = " ".join(refs)
    msg["MIME-Version"] = "1.0"
    for name, value in spec.extra_headers:
        msg[_no_breaks(name, "a header name")] = _no_breaks(value, f"header {name}")
    msg.set_content(spec.text or "", subtype="plain", charset="utf-8", cte="quoted-printable")
    if spec.html:
        msg.add_alternative(spec.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for att in spec.attachments:
        _attach(msg, att)
    return msg


def _references(refs: Sequence[str], in_reply_to: str | None) -> list[str]:
    out = [_no_breaks(r, "a reference") for r in refs if r]
    if in_reply_to and in_reply_to not in out:
        out.append(in_reply_to)
    return out[-20:]  # RFC 5322 allows trimming the middle; keep the newest


def _attach(msg: EmailMessage, att: Attachment) -> None:
    maintype, _, subtype = (att.content_type or "application/octet-stream").partition("/")
    if not maintype or not subtype or "\n" in att.content_type:
        maintype, subtype = "application", "octet-stream"
    filename = _no_breaks(att.filename or "attachment", "a file name").replace("/", "_").replace("\\", "_")
    # inline images referenced by cid: from the HTML stay inline
    disposition = "inline" if att.content_id else "attachment"
    if maintype == "text":
        text = att.data.decode("utf-8", "replace")
        msg.add_attachment(text, subtype=subtype, charset="utf-8", disposition=disposition, filename=filename,
                           cid=f"<{att.content_id}>" if att.content_id else None)
    else:
        msg.add_attachment(att.data, maintype=maintype, subtype=subtype, disposition=disposition,
                           filename=filename, cid=f"<{att.content_id}>" if att.content_id else None)
