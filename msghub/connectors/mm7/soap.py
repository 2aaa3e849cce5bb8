"""MM7 SOAP envelopes as typed dataclasses: build_envelope() and parse_envelope().

Element names and their order follow the MM7 schema of TS 23.140 Annex L
(REL-5-MM7-1-0 .. REL-6-MM7-1-4). Parsing is tolerant of what real MMSCs
send (any namespace prefix, unqualified children, whitespace around values)
and strict about what it needs: a missing element is an Mm7Error with the
status code a fault answers with.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from msghub.connectors.mm7 import xmltree as xt
from msghub.connectors.mm7.errors import (
    MESSAGE_FORMAT_CORRUPT,
    UNSUPPORTED_OPERATION,
    UNSUPPORTED_VERSION,
    VALIDATION_ERROR,
    Mm7Error,
)
from msghub.connectors.mm7.status import (
    DEFAULT_SCHEMA,
    NS_PREFIX,
    SCHEMA_VERSIONS,
    SOAP_ENV,
    namespace,
    schema_of,
    status_text,
)

PRIORITIES = ("High", "Normal", "Low")
MESSAGE_CLASSES = ("Personal", "Informational", "Advertisement", "Auto")
CHARGED_PARTIES = ("Sender", "Recipient", "Both", "Neither", "ThirdParty")
DELIVERY_STATUSES = ("Expired", "Retrieved", "Rejected", "Indeterminate", "Forwarded", "Deferred",
                     "Unrecognised", "DeliveryConditionNotMet")  # fmt: skip
READ_STATUSES = ("Read", "Deleted", "Indeterminate")
RESPONSES = ("SubmitRsp", "DeliverRsp", "DeliveryReportRsp", "ReadReplyRsp", "CancelRsp", "ReplaceRsp")


@dataclass(frozen=True, kw_only=True)
class Envelope:
    transaction_id: str
    schema: str = DEFAULT_SCHEMA
    mm7_version: str | None = None  # None: the one commonly sent with the schema

    @property
    def version(self) -> str:
        return self.mm7_version or SCHEMA_VERSIONS[self.schema]


@dataclass(frozen=True)
class Recipients:
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.to or self.cc or self.bcc)


@dataclass(frozen=True)
class Status:
    code: int
    text: str = ""
    details: str | None = None


@dataclass(frozen=True, kw_only=True)
class SubmitReq(Envelope):
    recipients: Recipients
    vasp_id: str | None = None
    vas_id: str | None = None
    sender_address: str | None = None
    service_code: str | None = None
    linked_id: str | None = None
    message_class: str | None = None
    timestamp: datetime | None = None
    earliest_delivery: datetime | None = None
    expiry: datetime | None = None
    delivery_report: bool | None = None
    read_reply: bool | None = None
    priority: str | None = None
    subject: str | None = None
    charged_party: str | None = None
    charged_party_id: str | None = None
    content_href: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeliverReq(Envelope):
    sender: str
    recipients: Recipients = Recipients()
    relay_server_id: str | None = None
    vasp_id: str | None = None
    vas_id: str | None = None
    linked_id: str | None = None
    timestamp: datetime | None = None
    priority: str | None = None
    subject: str | None = None
    content_href: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeliveryReportReq(Envelope):
    message_id: str
    recipient: str
    sender: str
    date: datetime
    mm_status: str
    relay_server_id: str | None = None
    status_text: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReadReplyReq(Envelope):
    message_id: str
    recipient: str
    sender: str
    timestamp: datetime
    mm_status: str
    relay_server_id: str | None = None
    status_text: str | None = None


@dataclass(frozen=True, kw_only=True)
class CancelReq(Envelope):
    message_id: str
    vasp_id: str | None = None
    vas_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReplaceReq(Envelope):
    message_id: str
    vasp_id: str | None = None
    vas_id: str | None = None
    service_code: str | None = None
    timestamp: datetime | None = None
    read_reply: bool | None = None
    earliest_delivery: datetime | None = None
    content_href: str | None = None


@dataclass(frozen=True, kw_only=True)
class Response(Envelope):
    """SubmitRsp, DeliverRsp, DeliveryReportRsp, ReadReplyRsp, CancelRsp or ReplaceRsp."""

    kind: str
    status: Status
    message_id: str | None = None  # SubmitRsp only


@dataclass(frozen=True, kw_only=True)
class Fault(Envelope):
    """A SOAP Fault carrying RSErrorRsp (from the MMSC) or VASPErrorRsp (from us)."""

    kind: str  # "RSErrorRsp" or "VASPErrorRsp"
    status: Status
    faultcode: str = "Client"  # "Client": the request was wrong; "Server": the receiver failed
    faultstring: str = ""


Operation = SubmitReq | DeliverReq | DeliveryReportReq | ReadReplyReq | CancelReq | ReplaceReq | Response | Fault


def fault_for(error: Mm7Error, transaction_id: str, kind: str, schema: str = DEFAULT_SCHEMA) -> Fault:
    """The fault that answers a request msghub could not accept."""
    code = "Server" if error.status >= 3000 and error.status not in (4002, 4003, 4004) else "Client"
    return Fault(transaction_id=transaction_id or "unknown", schema=schema, kind=kind, faultcode=code,
                 faultstring=f"{code} error", status=Status(error.status, status_text(error.status), str(error)))


# --- building -------------------------------------------------------------------


def _stamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise Mm7Error("MM7 times must carry their time zone")
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def address_kind(address: str) -> str:
    """RFC2822Address for e-mail addresses, ShortCode for up to 6 bare digits, Number otherwise."""
    if "@" in address:
        return "RFC2822Address"
    if address.isdigit() and len(address) <= 6:
        return "ShortCode"
    return "Number"


def _address(parent: xt.Node, tag: str, address: str) -> None:
    parent.add(tag).add(address_kind(address), address)


def _status(parent: xt.Node, status: Status) -> None:
    node = parent.add("Status")
    node.add("StatusCode", str(status.code))
    node.add("StatusText", status.text or status_text(status.code))
    if status.details is not None:
        node.add("Details", status.details)


def _recipients(parent: xt.Node, recipients: Recipients) -> None:
    node = parent.add("Recipients")
    for tag, addresses in (("To", recipients.to), ("Cc", recipients.cc), ("Bcc", recipients.bcc)):
        for address in addresses:
            _address(node, tag, address)


def _sender_identification(parent: xt.Node, vasp_id: str | None, vas_id: str | None,
                           sender: str | None = None) -> None:  # fmt: skip
    if vasp_id is None and vas_id is None and sender is None:
        return
    node = parent.add("SenderIdentification")
    node.opt("VASPID", vasp_id)
    node.opt("VASID", vas_id)
    if sender is not None:
        _address(node, "SenderAddress", sender)


def _content(parent: xt.Node, href: str | None) -> None:
    if href is not None:
        parent.add("Content", href=href if href.startswith("cid:") else f"cid:{href}")


def _body(op: Operation) -> xt.Node:
    rel6 = op.schema.startswith("REL-6")
    if isinstance(op, Response):
        node = xt.Node(op.kind)
        node.add("MM7Version", op.version)
        _status(node, op.status)
        if op.kind == "SubmitRsp":
            node.opt("MessageID", op.message_id)
        return node
    if isinstance(op, Fault):
        node = xt.Node(op.kind)
        node.add("MM7Version", op.version)
        _status(node, op.status)
        return node
    node = xt.Node(type(op).__name__)
    node.add("MM7Version", op.version)
    if isinstance(op, SubmitReq):
        if not op.recipients:
            raise Mm7Error("SubmitReq needs at least one recipient")
        _sender_identification(node, op.vasp_id, op.vas_id, op.sender_address)
        _recipients(node, op.recipients)
        node.opt("ServiceCode", op.service_code)
        node.opt("LinkedID", op.linked_id)
        node.opt("MessageClass", op.message_class)
        node.opt("TimeStamp", op.timestamp and _stamp(op.timestamp))
        node.opt("EarliestDeliveryTime", op.earliest_delivery and _stamp(op.earliest_delivery))
        node.opt("ExpiryDate", op.expiry and _stamp(op.expiry))
        node.opt("DeliveryReport", op.delivery_report)
        node.opt("ReadReply", op.read_reply)
        node.opt("Priority", op.priority)
        node.opt("Subject", op.subject)
        node.opt("ChargedParty", op.charged_party)
        if rel6:
            node.opt("ChargedPartyID", op.charged_party_id)
        _content(node, op.content_href)
    elif isinstance(op, DeliverReq):
        node.opt("MMSRelayServerID", op.relay_server_id)
        node.opt("VASPID", op.vasp_id)
        node.opt("VASID", op.vas_id)
        node.opt("LinkedID", op.linked_id)
        _address(node, "Sender", op.sender)
        if op.recipients:
            _recipients(node, op.recipients)
        node.opt("TimeStamp", op.timestamp and _stamp(op.timestamp))
        node.opt("Priority", op.priority)
        node.opt("Subject", op.subject)
        _content(node, op.content_href)
    elif isinstance(op, DeliveryReportReq | ReadReplyReq):
        node.opt("MMSRelayServerID", op.relay_server_id)
        node.add("MessageID", op.message_id)
        _address(node, "Recipient", op.recipient)
        _address(node, "Sender", op.sender)
        if isinstance(op, DeliveryReportReq):
            node.add("Date", _stamp(op.date))
        else:
            node.add("TimeStamp", _stamp(op.timestamp))
        node.add("MMStatus", op.mm_status)
        node.opt("StatusText", op.status_text)
    elif isinstance(op, CancelReq | ReplaceReq):
        _sender_identification(node, op.vasp_id, op.vas_id)
        node.add("MessageID", op.message_id)
        if isinstance(op, ReplaceReq):
            node.opt("ServiceCode", op.service_code)
            node.opt("TimeStamp", op.timestamp and _stamp(op.timestamp))
            node.opt("ReadReply", op.read_reply)
            node.opt("EarliestDeliveryTime", op.earliest_delivery and _stamp(op.earliest_delivery))
            _content(node, op.content_href)
    return node


def build_envelope(op: Operation) -> bytes:
    """The SOAP 1.1 envelope of one MM7 operation, UTF-8 encoded."""
    if op.schema not in SCHEMA_VERSIONS:
        raise Mm7Error(f"unknown MM7 schema version {op.schema!r}", UNSUPPORTED_VERSION)
    ns = namespace(op.schema)
    envelope = xt.Node("env:Envelope", attrs={"xmlns:env": SOAP_ENV})
    header = envelope.add("env:Header")
    header.add("mm7:TransactionID", op.transaction_id, **{"xmlns:mm7": ns, "env:mustUnderstand": "1"})
    body = envelope.add("env:Body")
    payload = _body(op)
    payload.attrs["xmlns"] = ns
    if isinstance(op, Fault):
        fault = body.add("env:Fault")
        fault.add("faultcode", f"env:{op.faultcode}")
        fault.add("faultstring", op.faultstring or f"{op.faultcode} error")
        detail = fault.add("detail")
        detail.children.append(payload)
    else:
        body.children.append(payload)
    return ('<?xml version="1.0" encoding="UTF-8"?>' + xt.write(envelope)).encode("utf-8")


# --- parsing --------------------------------------------------------------------


def parse_envelope(data: bytes) -> Operation:
    """Parses a SOAP envelope carrying one MM7 operation; raises Mm7Error."""
    root = xt.parse(data)
    if xt.local(root.tag) != "Envelope" or xt.ns_of(root.tag) != SOAP_ENV:
        raise Mm7Error("not a SOAP 1.1 envelope", MESSAGE_FORMAT_CORRUPT)
    header = xt.child(root, "Header")
    transaction_id = (xt.text(header, "TransactionID") or "") if header is not None else ""
    body = xt.child(root, "Body")
    if body is None or len(body) == 0:
        raise Mm7Error("SOAP envelope without a body", MESSAGE_FORMAT_CORRUPT)
    payload = body[0]
    if xt.local(payload.tag) == "Fault":
        return _parse_fault(payload, transaction_id)
    if not transaction_id:
        raise Mm7Error("MM7 request without a TransactionID header", VALIDATION_ERROR)
    return _parse_operation(payload, transaction_id)


def _schema(payload: ET.Element, lenient: bool = False) -> str:
    ns = xt.ns_of(payload.tag)
    schema = schema_of(ns)
    if schema is None and lenient and ns.startswith(NS_PREFIX):
        return DEFAULT_SCHEMA  # an answer in a 3GPP namespace we do not list is still an answer
    if schema is None:
        raise Mm7Error(f"unsupported MM7 schema namespace {ns or '(none)'!r}", UNSUPPORTED_VERSION)
    return schema


def _required(parent: ET.Element, name: str) -> str:
    value = xt.text(parent, name)
    if not value:
        raise Mm7Error(f"{xt.local(parent.tag)} lacks {name}", VALIDATION_ERROR)
    return value


def _one_of(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if value is None:
        return None
    for known in allowed:
        if value.lower() == known.lower():
            return known
    raise Mm7Error(f"{name} {value!r} is not one of {', '.join(allowed)}", VALIDATION_ERROR)


def _time(parent: ET.Element, name: str) -> datetime | None:
    raw = xt.text(parent, name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Mm7Error(f"{name} {raw!r} is not an ISO 8601 time", VALIDATION_ERROR) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _bool(parent: ET.Element, name: str) -> bool | None:
    raw = xt.text(parent, name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise Mm7Error(f"{name} {raw!r} is not true or false", VALIDATION_ERROR)


def _addresses(element: ET.Element) -> list[str]:
    kinds = ("RFC2822Address", "Number", "ShortCode")
    return [(item.text or "").strip() for item in element if xt.local(item.tag) in kinds and (item.text or "").strip()]


def _address_of(parent: ET.Element, name: str, required: bool = True) -> str | None:
    found = xt.child(parent, name)
    addresses = _addresses(found) if found is not None else []
    if not addresses:
        if required:
            raise Mm7Error(f"{xt.local(parent.tag)} lacks {name}", VALIDATION_ERROR)
        return None
    return addresses[0]


def _parse_recipients(parent: ET.Element) -> Recipients:
    found = xt.child(parent, "Recipients")
    if found is None:
        return Recipients()
    lists: dict[str, list[str]] = {"To": [], "Cc": [], "Bcc": []}
    for item in found:
        name = xt.local(item.tag)
        if name in lists:
            lists[name].extend(_addresses(item))
    return Recipients(tuple(lists["To"]), tuple(lists["Cc"]), tuple(lists["Bcc"]))


def _href(parent: ET.Element) -> str | None:
    content = xt.child(parent, "Content")
    if content is None:
        return None
    href = xt.attr(content, "href")
    if not href:
        raise Mm7Error("Content without href", VALIDATION_ERROR)
    return href


def _parse_status(parent: ET.Element) -> Status:
    found = xt.child(parent, "Status")
    if found is None:
        raise Mm7Error(f"{xt.local(parent.tag)} lacks Status", VALIDATION_ERROR)
    raw = _required(found, "StatusCode")
    if not raw.isdigit():
        raise Mm7Error(f"StatusCode {raw!r} is not a number", VALIDATION_ERROR)
    return Status(int(raw), xt.text(found, "StatusText") or "", xt.text(found, "Details"))


def _ids(payload: ET.Element) -> tuple[str | None, str | None]:
    ident = xt.child(payload, "SenderIdentification")
    where = ident if ident is not None else payload
    return xt.text(where, "VASPID"), xt.text(where, "VASID")


def _parse_operation(payload: ET.Element, transaction_id: str) -> Operation:
    name = xt.local(payload.tag)
    schema = _schema(payload, lenient=name in RESPONSES)
    common: dict[str, Any] = {
        "transaction_id": transaction_id, "schema": schema, "mm7_version": xt.text(payload, "MM7Version"),
    }  # fmt: skip
    if name in RESPONSES:
        return Response(**common, kind=name, status=_parse_status(payload), message_id=xt.text(payload, "MessageID"))
    vasp_id, vas_id = _ids(payload)
    if name == "SubmitReq":
        recipients = _parse_recipients(payload)
        if not recipients:
            raise Mm7Error("SubmitReq has no recipient", VALIDATION_ERROR)
        ident = xt.child(payload, "SenderIdentification")
        return SubmitReq(
            **common, recipients=recipients, vasp_id=vasp_id, vas_id=vas_id,
            sender_address=_address_of(ident, "SenderAddress", False) if ident is not None else None,
            service_code=xt.text(payload, "ServiceCode"), linked_id=xt.text(payload, "LinkedID"),
            message_class=_one_of(xt.text(payload, "MessageClass"), MESSAGE_CLASSES, "MessageClass"),
            timestamp=_time(payload, "TimeStamp"), earliest_delivery=_time(payload, "EarliestDeliveryTime"),
            expiry=_time(payload, "ExpiryDate"), delivery_report=_bool(payload, "DeliveryReport"),
            read_reply=_bool(payload, "ReadReply"),
            priority=_one_of(xt.text(payload, "Priority"), PRIORITIES, "Priority"),
            subject=xt.text(payload, "Subject"),
            charged_party=_one_of(xt.text(payload, "ChargedParty"), CHARGED_PARTIES, "ChargedParty"),
            charged_party_id=xt.text(payload, "ChargedPartyID"), content_href=_href(payload),
        )  # fmt: skip
    if name == "DeliverReq":
        return DeliverReq(
            **common, sender=_address_of(payload, "Sender") or "", recipients=_parse_recipients(payload),
            relay_server_id=xt.text(payload, "MMSRelayServerID"), vasp_id=vasp_id, vas_id=vas_id,
            linked_id=xt.text(payload, "LinkedID"), timestamp=_time(payload, "TimeStamp"),
            priority=_one_of(xt.text(payload, "Priority"), PRIORITIES, "Priority"),
            subject=xt.text(payload, "Subject"), content_href=_href(payload),
        )  # fmt: skip
    if name == "DeliveryReportReq":
        date = _time(payload, "Date")
        if date is None:
            raise Mm7Error("DeliveryReportReq lacks Date", VALIDATION_ERROR)
        return DeliveryReportReq(
            **common, message_id=_required(payload, "MessageID"), recipient=_address_of(payload, "Recipient") or "",
            sender=_address_of(payload, "Sender", False) or "", date=date,
            mm_status=_one_of(_required(payload, "MMStatus"), DELIVERY_STATUSES, "MMStatus") or "",
            relay_server_id=xt.text(payload, "MMSRelayServerID"), status_text=xt.text(payload, "StatusText"),
        )  # fmt: skip
    if name == "ReadReplyReq":
        stamp = _time(payload, "TimeStamp")
        if stamp is None:
            raise Mm7Error("ReadReplyReq lacks TimeStamp", VALIDATION_ERROR)
        return ReadReplyReq(
            **common, message_id=_required(payload, "MessageID"), recipient=_address_of(payload, "Recipient") or "",
            sender=_address_of(payload, "Sender", False) or "", timestamp=stamp,
            mm_status=_one_of(_required(payload, "MMStatus"), READ_STATUSES, "MMStatus") or "",
            relay_server_id=xt.text(payload, "MMSRelayServerID"), status_text=xt.text(payload, "StatusText"),
        )  # fmt: skip
    if name == "CancelReq":
        return CancelReq(**common, message_id=_required(payload, "MessageID"), vasp_id=vasp_id, vas_id=vas_id)
    if name == "ReplaceReq":
        return ReplaceReq(
            **common, message_id=_required(payload, "MessageID"), vasp_id=vasp_id, vas_id=vas_id,
            service_code=xt.text(payload, "ServiceCode"), timestamp=_time(payload, "TimeStamp"),
            read_reply=_bool(payload, "ReadReply"), earliest_delivery=_time(payload, "EarliestDeliveryTime"),
            content_href=_href(payload),
        )  # fmt: skip
    raise Mm7Error(f"unsupported MM7 operation {name}", UNSUPPORTED_OPERATION)


def _parse_fault(fault: ET.Element, transaction_id: str) -> Fault:
    code = (xt.text(fault, "faultcode") or "Server").rsplit(":", 1)[-1]
    detail = xt.child(fault, "detail")
    payload = detail[0] if detail is not None and len(detail) else None
    if payload is None or xt.local(payload.tag) not in ("RSErrorRsp", "VASPErrorRsp"):
        # a fault without MM7 detail (a SOAP stack's own): a server error of unknown cause
        return Fault(transaction_id=transaction_id, kind="RSErrorRsp", faultcode=code,
                     faultstring=xt.text(fault, "faultstring") or "", status=Status(3000, "Server Error"))  # fmt: skip
    schema = schema_of(xt.ns_of(payload.tag)) or DEFAULT_SCHEMA
    return Fault(
        transaction_id=transaction_id, schema=schema, mm7_version=xt.text(payload, "MM7Version"),
        kind=xt.local(payload.tag), faultcode=code, faultstring=xt.text(fault, "faultstring") or "",
        status=_parse_status(payload),
    )  # fmt: skip
