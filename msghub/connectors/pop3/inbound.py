"""A fetched mail -> what the hub stores (pure: bytes in, typed values out)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from msghub.connectors.base import Attachment, InboundMessage
from msghub.email.dsn import DeliveryStatus, read_status
from msghub.email.parse import ParsedMail, parse_mail
from msghub.email.port import Fetched

_GATEWAY_LOCAL = re.compile(r"^\+?[0-9]{6,15}$")


@dataclass(frozen=True)
class Reading:
    fetched: Fetched
    status: DeliveryStatus | None  # set when the mail is a bounce or DSN


def read_fetched(raw: bytes, uidl: str, size: int, mailbox: str, *, headers_only: bool = False,
                 limit: int = 0) -> Reading:
    parsed = parse_mail(raw)
    notes = list(parsed.notes)
    if headers_only:
        notes.append(f"this mail is {size} bytes, over the limit of {limit} bytes: only its headers were "
                     "fetched, and it is left on the server")
    attachments = list(parsed.attachments)
    if parsed.html is not None and not headers_only:
        # the HTML body travels as an unnamed text/html part (the web shows it sanitised)
        attachments.insert(0, Attachment("text/html", parsed.html.encode("utf-8"), None, None))
    text = parsed.text if not headers_only else ""
    if headers_only or (not text and parsed.html is None and not attachments and notes):
        text = text or "\n".join(notes)
    meta = {"email": {
        "headers": parsed.headers, "message_id": parsed.message_id, "in_reply_to": parsed.in_reply_to,
        "references": list(parsed.references), "date": parsed.date.isoformat() if parsed.date else None,
        "cc": list(parsed.cc), "reply_to": parsed.reply_to, "notes": notes, "uidl": uidl, "size": size,
        "too_large": headers_only, "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": len(a.data)} for a in attachments
            if a.filename is not None],
    }}
    recipients = parsed.recipients or (mailbox,)
    message = InboundMessage(channel="email", sender=parsed.sender, recipients=recipients, text=text,
                             subject=parsed.subject, attachments=tuple(attachments),
                             operator_ref=parsed.message_id, meta=meta)
    fetched = Fetched(uidl=uidl, size=size, outcome="too_large" if headers_only else "stored", message=message,
                      header_id=parsed.message_id, in_reply_to=parsed.in_reply_to, references=parsed.references)
    return Reading(fetched, None if headers_only else read_status(parsed))


def gateway_numbers(parsed_recipients: tuple[str, ...], domain: str) -> list[str]:
    """The numbers of +447700900123@domain recipients, as +447700900123."""
    if not domain:
        return []
    out = []
    for address in parsed_recipients:
        local, _, dom = address.rpartition("@")
        if dom.lower() == domain.lower() and _GATEWAY_LOCAL.match(local):
            out.append(local if local.startswith("+") else f"+{local}")
    return out


def gateway_allowed(sender: str | None, allowed: str) -> bool:
    if not sender:
        return False
    sender = sender.lower()
    for entry in (e.strip().lower() for e in allowed.split(",")):
        if entry and (sender == entry or (entry.startswith("@") and sender.endswith(entry))):
            return True
    return False


def gateway_text(mail: ParsedMail | InboundMessage) -> str:
    subject = mail.subject or ""
    body = mail.text.strip()
    return f"{subject}: {body}" if subject and body else (subject or body)
