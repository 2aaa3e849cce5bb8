"""Received mail -> ParsedMail, with policy.default.

A malformed mail (broken boundaries, bad base64, an unknown charset, 8-bit
headers) is kept: what can be read is read, and `notes` says what was wrong,
so nothing a server handed us is dropped silently. Only input that is not a
mail at all (empty, not bytes) raises MailParseError.
"""

from __future__ import annotations

import dataclasses
import email
import email.message
import email.policy
import email.utils
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from typing import Any

from msghub.connectors.base import Attachment
from msghub.email.errors import MailParseError

# headers a rule or the UI may want, kept verbatim (decoded) in meta
KEPT_HEADERS = ("from", "to", "cc", "reply-to", "date", "message-id", "in-reply-to", "references",
                "list-id", "auto-submitted", "x-mailer", "content-type")
MAX_PARTS = 500
MAX_HEADER_CHARS = 4000
_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class ParsedMail:
    sender: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: str | None
    subject: str | None
    date: datetime | None
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    headers: dict[str, str]
    notes: tuple[str, ...]
    content_type: str

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + tuple(a for a in self.cc if a not in self.to)


def parse_mail(raw: bytes) -> ParsedMail:
    if not isinstance(raw, bytes | bytearray):
        raise MailParseError(f"a mail is bytes, not {type(raw).__name__}")
    if not raw.strip():
        raise MailParseError("an empty mail")
    try:
        mail = _parse(bytes(raw))
    except MailParseError:
        raise
    except Exception as exc:  # the stdlib parser's last resort: keep the bytes as text
        mail = _unreadable(bytes(raw), f"unreadable mail ({type(exc).__name__}: {exc}); kept as raw text")
    return _storable(mail)


def clean_text(text: str) -> str:
    """Text PostgreSQL can hold: undecodable bytes (surrogates) replaced, NUL removed."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        try:
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text.replace("\x00", "")


def _storable(mail: ParsedMail) -> ParsedMail:
    def opt(value: str | None) -> str | None:
        return None if value is None else clean_text(value)

    return dataclasses.replace(
        mail, sender=opt(mail.sender), to=tuple(clean_text(a) for a in mail.to),
        cc=tuple(clean_text(a) for a in mail.cc), reply_to=opt(mail.reply_to), subject=opt(mail.subject),
        message_id=opt(mail.message_id), in_reply_to=opt(mail.in_reply_to),
        references=tuple(clean_text(r) for r in mail.references), text=clean_text(mail.text), html=opt(mail.html),
        attachments=tuple(dataclasses.replace(a, content_type=clean_text(a.content_type), filename=opt(a.filename),
                                              content_id=opt(a.content_id)) for a in mail.attachments),
        headers={clean_text(k): clean_text(v) for k, v in mail.headers.items()},
        notes=tuple(clean_text(n) for n in mail.notes), content_type=clean_text(mail.content_type))


def _parse(raw: bytes) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    notes: list[str] = []
    headers: dict[str, str] = {}
    for name in KEPT_HEADERS:
        value = _header(msg, name, notes)
        if value is not None:
            headers[name] = value[:MAX_HEADER_CHARS]
    sender = _first_address(msg, "from", notes)
    reply_to = _first_address(msg, "reply-to", notes)
    to = _addresses(msg, "to", notes)
    cc = _addresses(msg, "cc", notes)
    subject = _header(msg, "subject", notes)
    date = _date(msg, notes)
    message_id = _one_id(headers.get("message-id"))
    in_reply_to = _one_id(headers.get("in-reply-to"))
    references = tuple(_MSGID.findall(headers.get("references", "")))[:100]
    body = _Bodies(notes)
    body.walk(msg, 0)
    for defect in msg.defects:
        notes.append(f"malformed mail: {_defect_text(defect)}")
    return ParsedMail(
        sender=sender, to=to, cc=cc, reply_to=reply_to, subject=subject, date=date,
        message_id=message_id, in_reply_to=in_reply_to, references=references,
        text="\n".join(body.texts), html="\n".join(body.htmls) if body.htmls else None,
        attachments=tuple(body.attachments), headers=headers, notes=tuple(dict.fromkeys(notes)),
        content_type=msg.get_content_type())


def _unreadable(raw: bytes, note: str) -> ParsedMail:
    return ParsedMail(None, (), (), None, None, None, None, None, (), raw.decode("utf-8", "replace"), None, (),
                      {}, (note,), "text/plain")


def _defect_text(defect: Any) -> str:
    doc = (type(defect).__doc__ or "").strip().splitlines()
    return f"{type(defect).__name__}" + (f" ({doc[0]})" if doc else "")


def _header(msg: email.message.Message, name: str, notes: list[str]) -> str | None:
    try:
        value = msg.get(name)
    except Exception as exc:
        notes.append(f"header {name} unreadable: {type(exc).__name__}")
        raw = msg.get_all(name, failobj=[])
        return None if not raw else str(raw[0])
    if value is None:
        return None
    text = str(value)
    for defect in getattr(value, "defects", ()):
        notes.append(f"header {name}: {_defect_text(defect)}")
    if "\ufffd" in text or any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        notes.append(f"header {name}: characters that could not be decoded were replaced")
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        notes.append(f"header {name}: NUL characters removed")
        text = text.replace("\x00", "")
    return text.replace("\r", " ").replace("\n", " ")


def _address_list(msg: email.message.Message, name: str, notes: list[str]) -> list[str]:
    try:
        value = msg.get(name)
        if value is None:
            return []
        found = [a.addr_spec for a in getattr(value, "addresses", ()) if isinstance(a, Address) and a.addr_spec]
    except Exception as exc:
        notes.append(f"header {name} unreadable: {type(exc).__name__}")
        found = []
    if not found:
        # fall back to the plain parser: an 8-bit or odd header still has addresses
        raw = [str(v) for v in msg.get_all(name, failobj=[])]
        found = [addr for _, addr in email.utils.getaddresses(raw) if "@" in addr]
    return [a.strip().lower() if "@" in a else a.strip() for a in found if a.strip()][:200]


def _addresses(msg: email.message.Message, name: str, notes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_address_list(msg, name, notes)))


def _first_address(msg: email.message.Message, name: str, notes: list[str]) -> str | None:
    found = _address_list(msg, name, notes)
    return found[0] if found else None


def _date(msg: email.message.Message, notes: list[str]) -> datetime | None:
    try:
        value = msg.get("date")
        stamp = getattr(value, "datetime", None) if value is not None else None
    except Exception:
        stamp = None
    if msg.get_all("date") and stamp is None and not any(n.startswith("header date") for n in notes):
        notes.append("header date unreadable")
    return stamp if isinstance(stamp, datetime) else None


def _one_id(value: str | None) -> str | None:
    if not value:
        return None
    found = _MSGID.search(value)
    return found.group(0) if found else None


class _Bodies:
    """Walks the MIME tree: the first text/plain and text/html of each
    alternative become the bodies; everything else becomes an attachment."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.attachments: list[Attachment] = []
        self.count = 0

    def walk(self, part: email.message.Message, depth: int) -> None:
        self.count += 1
        if self.count > MAX_PARTS or depth > 20:
            if self.count == MAX_PARTS + 1 or depth == 21:
                self.notes.append(f"more than {MAX_PARTS} parts or nested too deep: the rest is not read")
            return
        ctype = part.get_content_type()
        if ctype.startswith("message/"):
            self._attach(part, ctype, self._filename(part))
            return
        if part.is_multipart():
            children = part.get_payload()
            if not isinstance(children, list):
                return
            if ctype == "multipart/alternative":
                self._alternative(children, depth)
            else:
                for child in children:
                    if isinstance(child, email.message.Message):
                        self.walk(child, depth + 1)
            return
        disposition = (part.get_content_disposition() or "").lower()
        filename = self._filename(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and filename is None:
            text = self._text(part)
            (self.texts if ctype == "text/plain" else self.htmls).append(text)
            return
        self._attach(part, ctype, filename)

    def _alternative(self, children: list[Any], depth: int) -> None:
        parts = [c for c in children if isinstance(c, email.message.Message)]
        plain = next((c for c in parts if c.get_content_type() == "text/plain"), None)
        html = next((c for c in parts if c.get_content_type() == "text/html"), None)
        if plain is not None:
            self.texts.append(self._text(plain))
        if html is not None:
            self.htmls.append(self._text(html))
        for child in parts:
            if child is not plain and child is not html:
                self.walk(child, depth + 1)

    def _filename(self, part: email.message.Message) -> str | None:
        try:
            name = part.get_filename()
        except Exception:
            self.notes.append("an attachment's file name is unreadable")
            return "attachment"
        if name is None:
            return None
        # a name is a label, never a path
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        if "/" in name or "\\" in name:
            self.notes.append(f"file name {name[:80]!r} had a path: only its last part is kept")
        name = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "").strip()
        return name[:255] or "attachment"

    def _text(self, part: email.message.Message) -> str:
        text = self._decode_text(part).replace("\r\n", "\n")
        if "\x00" in text:  # PostgreSQL text cannot hold NUL
            self.notes.append("NUL characters removed from the text")
            text = text.replace("\x00", "")
        return text

    def _decode_text(self, part: email.message.Message) -> str:
        raw = self._bytes(part)
        charset = part.get_content_charset() or "us-ascii"
        try:
            return raw.decode(charset)
        except LookupError:
            self.notes.append(f"unknown character set {charset[:40]!r}: read as UTF-8 with replacements")
        except UnicodeDecodeError:
            self.notes.append(f"text not valid in its character set {charset[:40]!r}: read with replacements")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("utf-8" if charset.lower().startswith("utf") else "latin-1", "replace")

    def _bytes(self, part: email.message.Message) -> bytes:
        try:
            data = part.get_payload(decode=True)
        except Exception as exc:
            self.notes.append(f"a part could not be decoded ({type(exc).__name__}): kept as sent")
            data = None
        for defect in part.defects:
            self.notes.append(f"malformed part: {_defect_text(defect)}")
        if isinstance(data, bytes):
            return data
        payload = part.get_payload()
        return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""

    def _attach(self, part: email.message.Message, ctype: str, filename: str | None) -> None:
        data = self._raw_payload(part) if ctype.startswith("message/") else self._bytes(part)
        cid = part.get("content-id")
        content_id = str(cid).strip().strip("<>")[:200] if cid else None
        self.attachments.append(Attachment(content_type=ctype, data=data, filename=filename, content_id=content_id))

    def _raw_payload(self, part: email.message.Message) -> bytes:
        payload = part.get_payload()
        if isinstance(payload, list):
            chunks = []
            for child in payload:
                if isinstance(child, email.message.Message):
                    try:
                        chunks.append(child.as_bytes(policy=email.policy.compat32))
                    except Exception:
                        self.notes.append("an enclosed message could not be written back: left out")
            return b"\n".join(chunks)
        if isinstance(payload, str):
            return payload.encode("utf-8", "surrogateescape")
        return payload if isinstance(payload, bytes) else b""
