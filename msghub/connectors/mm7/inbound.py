"""The MMSC's side of MM7 into the hub: what it POSTs to /mm7/<connection
name> on the web role (the composition root mounts the route and calls
Mm7Connector.receive_http, which answers here through the connection's HubPort).

DeliverReq becomes a received MMS (its parts stored as message parts),
DeliveryReportReq and ReadReplyReq are matched to the sent message by the
MessageID the SubmitRsp gave. Bad input is answered with a SOAP Fault whose
VASPErrorRsp carries the MM7 status code; a database failure with 3000 (the
MMSC retries), never a lost or half-stored message.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from email.message import MIMEPart
from typing import Any

from msghub.connectors.base import Attachment, DeliveryReport, HttpAnswer, HttpRequest, HubPort, InboundMessage
from msghub.connectors.mm7 import httpauth, mime, soap
from msghub.connectors.mm7.errors import UNSUPPORTED_OPERATION, VALIDATION_ERROR, Mm7Error
from msghub.connectors.mm7.status import DEFAULT_SCHEMA
from msghub.mms.media import content_type_of

log = logging.getLogger(__name__)
SERVER_ERROR = 3000
XML = 'text/xml; charset="utf-8"'
# MMStatus of a DeliveryReportReq -> (hub report status, reason)
DELIVERY_STATUS: dict[str, tuple[str, str | None]] = {
    "Retrieved": ("delivered", None),
    "Forwarded": ("delivered", "forwarded"),
    "Rejected": ("failed", "rejected"),
    "Expired": ("failed", "expired"),
    "Unrecognised": ("failed", "unrecognised"),
    "DeliveryConditionNotMet": ("failed", "delivery condition not met"),
    "Indeterminate": ("buffered", "indeterminate"),
    "Deferred": ("buffered", "deferred"),
}


def _allowed(config: Mapping[str, Any], host: str | None) -> bool:
    networks = [item.strip() for item in str(config.get("inbound_allow") or "").split(",") if item.strip()]
    if not networks:
        return True
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def _plain(status: int, text: str, headers: Mapping[str, str] | None = None) -> HttpAnswer:
    return HttpAnswer(status, text.encode(), headers=dict(headers or {}))


def _soap(op: soap.Operation, status_code: int = 200) -> HttpAnswer:
    return HttpAnswer(status_code, soap.build_envelope(op), content_type=XML)


def _fault(error: Mm7Error, transaction_id: str, schema: str) -> HttpAnswer:
    # SOAP 1.1: a fault travels with HTTP 500
    return _soap(soap.fault_for(error, transaction_id, "VASPErrorRsp", schema), 500)


def _ok(request_op: soap.Envelope, kind: str) -> HttpAnswer:
    return _soap(soap.Response(transaction_id=request_op.transaction_id, schema=request_op.schema, kind=kind,
                               status=soap.Status(1000, "Success")))  # fmt: skip


async def answer(name: str, config: Mapping[str, Any], request: HttpRequest, hub: HubPort) -> HttpAnswer:
    """What the MMSC POSTed to connection `name`, checked against its inbound_*
    settings, stored through `hub`, and the MM7 answer."""
    host = request.client_host
    if not _allowed(config, host):
        log.warning("mm7 %s: refused a request from %s (not in inbound_allow)", name, host)
        return _plain(403, "this address may not post MM7 here")
    user = str(config.get("inbound_username") or "")
    if user:
        scheme = str(config.get("inbound_auth") or "basic")
        secret = str(config.get("inbound_password") or "")
        if not httpauth.check(scheme, request.headers.get("authorization"), user, secret, request.method):
            return _plain(401, "authentication required", {"WWW-Authenticate": httpauth.challenge(scheme, secret)})
    transaction_id, schema = "", str(config.get("schema_version") or DEFAULT_SCHEMA)
    try:
        received = mime.parse_request(request.headers.get("content-type", ""), request.body)
        op = soap.parse_envelope(received.envelope)
        transaction_id, schema = op.transaction_id, op.schema
        return await _dispatch(op, received, hub)
    except Mm7Error as exc:
        log.info("mm7 %s: refused a request: %s (%s)", name, exc, exc.status)
        return _fault(exc, transaction_id, schema)
    except Exception:
        log.exception("mm7 %s: could not store what the MMSC sent", name)
        return _fault(Mm7Error("msghub could not store the request; send it again", SERVER_ERROR),
                      transaction_id, schema)  # fmt: skip


async def _dispatch(op: soap.Operation, received: mime.Received, hub: HubPort) -> HttpAnswer:
    if isinstance(op, soap.DeliverReq):
        message = inbound_message(op, received)
        # a DeliverReq sent again (same LinkedID and TransactionID) after its answer was lost
        if op.linked_id is not None and await hub.find_received(
                op.linked_id, {"mm7": {"transaction_id": op.transaction_id}}):  # fmt: skip
            log.info("mm7: DeliverReq %s came again; it is stored already", op.transaction_id)
            return _ok(op, "DeliverRsp")
        message_id = await hub.deliver(message)
        log.info("mm7: DeliverReq %s from %s stored as message %s", op.transaction_id, op.sender, message_id)
        return _ok(op, "DeliverRsp")
    if isinstance(op, soap.DeliveryReportReq):
        status, reason = DELIVERY_STATUS[op.mm_status]
        if op.status_text:
            reason = f"{reason}: {op.status_text}" if reason else op.status_text
        await hub.report_delivery(DeliveryReport(op.message_id, status, reason))
        return _ok(op, "DeliveryReportRsp")
    if isinstance(op, soap.ReadReplyReq):
        # a read reply implies delivery; the reason keeps what the reader did
        await hub.report_delivery(DeliveryReport(op.message_id, "delivered", f"read reply: {op.mm_status}"))
        return _ok(op, "ReadReplyRsp")
    raise Mm7Error(f"msghub (the VASP) does not accept {type(op).__name__}", UNSUPPORTED_OPERATION)


def _text_of(part: mime.MediaPart) -> str | None:
    media, _, params = part.content_type.partition(";")
    if media.strip().lower() != "text/plain":
        return None
    charset = "utf-8"
    for item in params.split(";"):
        key, _, value = item.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"') or "utf-8"
    try:
        return part.data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return part.data.decode("latin-1")


def inbound_message(op: soap.DeliverReq, received: mime.Received) -> InboundMessage:
    parts: list[mime.MediaPart] = []
    if op.content_href is not None:
        content: MIMEPart | None = received.parts.get(mime.normalise_cid(op.content_href))
        if content is None:
            raise Mm7Error(f"Content {op.content_href} names no attachment of the request", VALIDATION_ERROR)
        parts = mime.media_parts(content)
    texts = [text for text in map(_text_of, parts) if text is not None]
    attachments = tuple(
        Attachment(content_type_of(part.data, part.content_type.split(";", 1)[0].strip().lower()), part.data,
                   filename=part.content_location, content_id=part.content_id)
        for part in parts
    )  # fmt: skip
    meta = {"mm7": {key: value for key, value in (
        ("transaction_id", op.transaction_id), ("linked_id", op.linked_id), ("relay_server_id", op.relay_server_id),
        ("schema", op.schema), ("vasp_id", op.vasp_id), ("vas_id", op.vas_id),
        ("cc", list(op.recipients.cc) or None)) if value}}  # fmt: skip
    return InboundMessage(
        channel="mms", sender=op.sender, recipients=op.recipients.to or op.recipients.cc or (op.vas_id or "",),
        text="\n".join(texts), subject=op.subject, attachments=attachments, operator_ref=op.linked_id, meta=meta,
    )  # fmt: skip
