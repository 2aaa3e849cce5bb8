"""SOAP with attachments: the envelope as the root of a multipart/related body,
the MMS content (SMIL and media, a multipart/related of its own) as a part
referenced by Content href="cid:..."."""

from __future__ import annotations

import email.parser
import email.policy
import secrets
from dataclasses import dataclass
from email.message import EmailMessage, MIMEPart

from msghub.connectors.mm7.errors import MESSAGE_FORMAT_CORRUPT, Mm7Error

SOAP_CID = "mm7-soap"
CONTENT_CID = "mm7-content"
MAX_BODY_BYTES = 10_000_000  # far above any MMSC's size class
_PARSER = email.parser.BytesParser(policy=email.policy.HTTP)


@dataclass(frozen=True)
class MediaPart:
    content_type: str  # with parameters, as in a MIME header ("text/plain; charset=utf-8")
    data: bytes
    content_id: str | None = None
    content_location: str | None = None


def _boundary() -> str:
    return "=_msghub_" + secrets.token_hex(12)


def _part_headers(content_type: str, content_id: str | None, location: str | None) -> bytes:
    lines = [f"Content-Type: {content_type}"]
    if content_id is not None:
        lines.append(f"Content-ID: <{content_id.strip('<>')}>")
    if location is not None:
        lines.append(f"Content-Location: {location}")
    lines.append("Content-Transfer-Encoding: binary")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _multipart(parts: list[tuple[bytes, bytes]], boundary: str) -> bytes:
    out = bytearray()
    for headers, data in parts:
        out += f"--{boundary}\r\n".encode() + headers + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def build_content(parts: list[MediaPart], start: str | None) -> tuple[str, bytes]:
    """The MMS content as a multipart/related body: (its Content-Type, its bytes)."""
    boundary = _boundary()
    body = _multipart([(_part_headers(p.content_type, p.content_id, p.content_location), p.data) for p in parts],
                      boundary)  # fmt: skip
    smil = f'; type="application/smil"; start="<{start}>"' if start else ""
    return f'multipart/related; boundary="{boundary}"{smil}', body


def build_request(envelope: bytes, content: tuple[str, bytes] | None) -> tuple[str, bytes]:
    """An MM7 HTTP body: the bare envelope, or multipart/related with the content."""
    if content is None:
        return 'text/xml; charset="utf-8"', envelope
    boundary = _boundary()
    body = _multipart(
        [(_part_headers('text/xml; charset="utf-8"', SOAP_CID, None), envelope),
         (_part_headers(content[0], CONTENT_CID, None), content[1])],
        boundary,
    )  # fmt: skip
    return f'multipart/related; boundary="{boundary}"; type="text/xml"; start="<{SOAP_CID}>"', body


@dataclass(frozen=True)
class Received:
    envelope: bytes
    parts: dict[str, MIMEPart]  # the other parts, by Content-ID without <>


def normalise_cid(value: str) -> str:
    """'cid: <abc>', '<abc>', 'abc' all name part abc (MMSCs write all three)."""
    value = value.strip()
    if value.lower().startswith("cid:"):
        value = value[4:].strip()
    return value.strip("<>").strip()


def parse_request(content_type: str, body: bytes) -> Received:
    """Splits an MM7 HTTP body into its envelope and its attachments."""
    if len(body) > MAX_BODY_BYTES:
        raise Mm7Error(f"MM7 body of {len(body)} bytes is too large", MESSAGE_FORMAT_CORRUPT)
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("text/xml", "application/soap+xml", "application/xml"):
        return Received(body, {})
    if not media.startswith("multipart/"):
        raise Mm7Error(f"MM7 body of type {media or '(none)'} (text/xml or multipart/related expected)",
                       MESSAGE_FORMAT_CORRUPT)  # fmt: skip
    message = _PARSER.parsebytes(b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise Mm7Error("multipart MM7 body without parts", MESSAGE_FORMAT_CORRUPT)
    parts = list(message.iter_parts())
    if not parts:
        raise Mm7Error("multipart MM7 body without parts", MESSAGE_FORMAT_CORRUPT)
    start = message.get_param("start", header="content-type")
    by_cid = {normalise_cid(str(p.get("Content-ID", ""))): p for p in parts if p.get("Content-ID")}
    root = by_cid.get(normalise_cid(str(start))) if isinstance(start, str) else None
    if root is None:  # the root is the first part unless start names another
        root = parts[0]
    others = {cid: part for cid, part in by_cid.items() if part is not root}
    return Received(payload(root), others)


def payload(part: MIMEPart) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def media_parts(part: MIMEPart) -> list[MediaPart]:
    """The media of a Content part: its subparts when multipart, else itself."""
    items = list(part.iter_parts()) if part.is_multipart() else [part]
    out = []
    for item in items:
        if item.is_multipart():
            out.extend(media_parts(item))
            continue
        cid = item.get("Content-ID")
        location = item.get("Content-Location")
        content_type = str(item.get("Content-Type", "application/octet-stream"))
        out.append(MediaPart(content_type, payload(item), normalise_cid(str(cid)) if cid else None,
                             str(location) if location else None))  # fmt: skip
    return out
