"""An outbound message as an m-send-req, and a retrieved m-retrieve-conf as
an inbound message: the same SMIL and media parts MM7 sends, in WSP form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from msghub.connectors.base import Attachment, InboundMessage, OutboundMessage
from msghub.connectors.mm7.content import media_parts
from msghub.mms import INSERT_ADDRESS, ContentType, Part, RetrieveConf, SendReq
from msghub.mms.media import content_type_of

RELATED = "application/vnd.wap.multipart.related"
MIXED = "application/vnd.wap.multipart.mixed"
PRIORITIES = {0: "low", 1: "normal", 2: "high", 3: "high"}
PLMN = "/TYPE=PLMN"


def content_type(header: str) -> ContentType:
    """A MIME Content-Type header value ('text/plain; charset="utf-8"') as a ContentType."""
    media, _, rest = header.partition(";")
    params: dict[str, str] = {}
    for item in rest.split(";"):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            params[key.strip().capitalize()] = value.strip().strip('"')
    return ContentType(media.strip(), params)


def address(number: str) -> str:
    """A recipient as MM1 writes it: an e-mail address as it is, a number with /TYPE=PLMN."""
    return number if "@" in number or "/TYPE=" in number.upper() else number + PLMN


def bare(value: Any) -> str:
    """An address without its /TYPE=... suffix."""
    return str(value).split("/", 1)[0]


def send_req(message: OutboundMessage, transaction_id: str) -> SendReq:
    parts, start = media_parts(message.text, message.attachments)
    wsp_parts = tuple(Part(content_type(p.content_type), p.data, p.content_id, p.content_location) for p in parts)
    if start is not None:
        ct = ContentType(RELATED, {"Start": f"<{start}>", "Type": "application/smil"})
    else:
        ct = ContentType(MIXED)
    now = datetime.now(UTC).replace(microsecond=0)
    return SendReq(
        transaction_id=transaction_id, date=now, sender=INSERT_ADDRESS, to=(address(message.recipient),),
        cc=tuple(map(address, message.cc)), bcc=tuple(map(address, message.bcc)),
        subject=message.subject or None, message_class="personal", priority=PRIORITIES.get(message.priority),
        delivery_report=message.delivery_report, read_report=False,
        expiry=message.valid_until if message.valid_until and message.valid_until > now else None,
        delivery_time=message.send_at if message.send_at and message.send_at > now else None,
        content_type=ct, parts=wsp_parts or (Part(ContentType("text/plain", {"Charset": "utf-8"}), b""),),
    )  # fmt: skip


def _text(part: Part) -> str | None:
    if part.content_type.media_type.lower() != "text/plain":
        return None
    charset = part.content_type.param("charset") or "utf-8"
    try:
        return part.data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return part.data.decode("latin-1")


def inbound_message(conf: RetrieveConf, own_number: str, meta: dict[str, Any]) -> InboundMessage:
    parts = conf.parts
    texts = [text for text in map(_text, parts) if text is not None]
    attachments = tuple(
        Attachment(content_type_of(p.data, p.content_type.media_type.lower()), p.data, filename=p.filename,
                   content_id=(p.content_id or "").strip("<>") or None)
        for p in parts if p.data
    )  # fmt: skip
    sender = bare(conf.sender) if isinstance(conf.sender, str) else None
    recipients = tuple(bare(to) for to in conf.to) or (own_number,)
    return InboundMessage(channel="mms", sender=sender, recipients=recipients, text="\n".join(texts),
                          subject=conf.subject, attachments=attachments, operator_ref=conf.message_id,
                          meta={"mm1": meta})  # fmt: skip
