"""A fetched mail -> what the hub stores (pure: bytes in, typed values out)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from msghub.connectors.base import Attachment, InboundMessage
from msghub.email.dsn import DeliveryStatus, read_status
from msghub.email.parse import ParsedMail, parse_mail
from msghub.email.port import Fetched

_GATEWAY_LOCAL = re.compile(r"^\+?[0-9]{6,15}$")
# what the database indexes well: a longer body is kept whole as a part,
# longer ids and addresses are dropped with a note (they are indexed)
MAX_BODY_CHARS = 200_000
MAX_SUBJECT_CHARS = 998
MAX_ID_CHARS = 250
MAX_ADDRESS_CHARS = 320


@dataclass(frozen=True)
class Reading:
    fetched: Fetched
    status: DeliveryStatus | None  # set when the mail is a bounce or DSN


def read_fetched(raw: bytes, uidl: str, size: int, mailbox: str, *, headers_only: bool = False,
                 limit: int = 0) -> Reading:
    parsed = _bounded(parse_mail(raw))
    notes = list(parsed.notes)
    if headers_only:
        notes.append(f"this mail is {size} bytes, over the limit of {limit} bytes: only its headers were "
                     "fetched, and it is left on the server")
    attachments = list(parsed.attachments)
    if parsed.html is not None and not headers_only:
        # the HTML body travels as an unnamed text/html part (the web shows it sanitised)
        attachments.insert(0, Attachment("text/html", parsed.html.encode("utf-8"), None, None))
    text = parsed.text if not headers_only else ""
    if len(text) > MAX_BODY_CHARS:
        attachments.insert(0, Attachment("text/plain", text.encode("utf-8"), "body.txt", None))
        notes.append(f"the text has {len(text)} characters: the first {MAX_BODY_CHARS} are the message's text, "
                     "all of it is the part body.txt")
        text = text[:MAX_BODY_CHARS]
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


def _bounded(mail: ParsedMail) -> ParsedMail:
    notes = list(mail.notes)

    def one_id(value: str | None, what: str) -> str | None:
        if value is not None and len(value) > MAX_ID_CHARS:
            notes.append(f"{what} longer than {MAX_ID_CHARS} characters: left out")
            return None
        return value

    def addresses(values: tuple[str, ...]) -> tuple[str, ...]:
        kept = tuple(a for a in values if len(a) <= MAX_ADDRESS_CHARS)
        if len(kept) < len(values):
            notes.append(f"addresses longer than {MAX_ADDRESS_CHARS} characters left out")
        return kept

    sender = mail.sender if mail.sender is None or len(mail.sender) <= MAX_ADDRESS_CHARS else None
    bounded = dataclasses.replace(
        mail, sender=sender, to=addresses(mail.to), cc=addresses(mail.cc),
        reply_to=mail.reply_to if mail.reply_to and len(mail.reply_to) <= MAX_ADDRESS_CHARS else None,
        subject=None if mail.subject is None else mail.subject[:MAX_SUBJECT_CHARS],
        message_id=one_id(mail.message_id, "the Message-ID"), in_reply_to=one_id(mail.in_reply_to, "In-Reply-To"),
        references=tuple(r for r in mail.references if len(r) <= MAX_ID_CHARS))
    return dataclasses.replace(bounded, notes=tuple(dict.fromkeys(notes)))


def unstorable(raw: bytes, uidl: str, size: int, mailbox: str, error: str) -> Fetched:
    """A mail the database refused as read: kept as its original bytes with a note."""
    note = f"this mail could not be stored as read ({error[:200]}): the original is attached as original.eml"
    message = InboundMessage(channel="email", sender=None, recipients=(mailbox,), text=note, subject=None,
                             attachments=(Attachment("message/rfc822", raw, "original.eml", None),),
                             meta={"email": {"notes": [note], "uidl": uidl, "size": size}})
    return Fetched(uidl=uidl, size=size, outcome="stored", message=message, header_id=None, in_reply_to=None,
                   references=())


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
