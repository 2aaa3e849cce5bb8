"""Bounces and delivery status notifications (RFC 3464) -> DeliveryStatus.

A DSN names the message it answers by the original Message-ID (in the
enclosed headers) or the ENVID we gave at MAIL FROM; a plain bounce from an
older server has only the enclosed headers. Either way the result says which
of our messages it is about and whether it was delivered or failed, and why.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import re
from dataclasses import dataclass

from msghub.email.parse import ParsedMail

_MSGID = re.compile(r"<[^<>\s]+>")
_ENVID = re.compile(r"^original-envelope-id:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class RecipientStatus:
    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # the RFC 3463 code, e.g. 5.1.1
    diagnostic: str | None


@dataclass(frozen=True)
class DeliveryStatus:
    original_message_id: str | None
    envelope_id: str | None
    recipients: tuple[RecipientStatus, ...]

    @property
    def outcome(self) -> str | None:
        """delivered, failed, buffered (delayed) or None when it says nothing final."""
        actions = {r.action for r in self.recipients}
        if "failed" in actions:
            return "failed"
        if actions & {"delivered", "relayed", "expanded"}:
            return "delivered"
        if "delayed" in actions:
            return "buffered"
        return None

    @property
    def reason(self) -> str | None:
        texts = [f"{r.recipient}: {r.status} {r.diagnostic or ''}".strip()
                 for r in self.recipients if r.action in ("failed", "delayed")]
        return "; ".join(texts)[:1000] or None


def is_report(mail: ParsedMail) -> bool:
    ctype = mail.headers.get("content-type", "").lower()
    return ("multipart/report" in ctype and "delivery-status" in ctype) \
        or any(a.content_type == "message/delivery-status" for a in mail.attachments)


def read_status(mail: ParsedMail) -> DeliveryStatus | None:
    """What a bounce says, or None when the mail is not one."""
    if not is_report(mail):
        return None
    status_block = b""
    original_ids: list[str] = []
    for att in mail.attachments:
        if att.content_type == "message/delivery-status":
            status_block += att.data + b"\n"
        elif att.content_type in ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers"):
            original_ids += _message_ids(att.data)
    text = status_block.decode("utf-8", "replace")
    envid_match = _ENVID.search(text)
    return DeliveryStatus(
        original_message_id=original_ids[0] if original_ids else None,
        envelope_id=envid_match.group(1) if envid_match else None,
        recipients=_recipients(text))


def _message_ids(data: bytes) -> list[str]:
    headers = email.message_from_bytes(data.split(b"\n\n", 1)[0] + b"\n\n", policy=email.policy.compat32)
    found = _MSGID.findall(str(headers.get("Message-ID", "")))
    return found[:1]


def _recipients(text: str) -> tuple[RecipientStatus, ...]:
    out: list[RecipientStatus] = []
    # per-recipient fields come in blocks separated by blank lines; the first is per-message
    for block in re.split(r"\r?\n\s*\r?\n", text):
        fields = _fields(block)
        recipient = fields.get("final-recipient") or fields.get("original-recipient")
        action = fields.get("action", "").lower()
        if not recipient or not action:
            continue
        out.append(RecipientStatus(
            recipient=recipient.split(";", 1)[-1].strip().lower(),
            action=action, status=fields.get("status", "").strip()[:20],
            diagnostic=(fields.get("diagnostic-code", "").split(";", 1)[-1].strip()[:500] or None)))
    return tuple(out)


def _fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    last = None
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and last:
            fields[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep:
            last = name.strip().lower()
            fields[last] = value.strip()
    return fields
