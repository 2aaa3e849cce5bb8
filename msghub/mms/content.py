"""Content types with parameters (WSP 8.4.2.24) and multipart bodies (WSP 8.5)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from msghub.mms import wsp
from msghub.mms.errors import MmsError
from msghub.mms.wsp_tables import (
    CHARSET_CODES,
    CONTENT_TYPE_CODES,
    CONTENT_TYPES,
    DISPOSITIONS,
    FIELD_CONTENT_DISPOSITION,
    FIELD_CONTENT_DISPOSITION_14,
    FIELD_CONTENT_ID,
    FIELD_CONTENT_LOCATION,
    FIELD_DATE,
    HEADER_FIELDS,
    PARAMETER_CODES,
    PARAMETERS,
)

MULTIPART_PREFIX = "application/vnd.wap.multipart."
_FILENAME = re.compile(r'filename="?([^";]*)', re.IGNORECASE)


@dataclass(frozen=True)
class ContentType:
    media_type: str
    params: dict[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        """A parameter by name, ignoring case (phones write both `Name` and `name`)."""
        lowered = name.lower()
        for key, value in self.params.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def is_multipart(self) -> bool:
        return self.media_type.lower().startswith(MULTIPART_PREFIX)


@dataclass(frozen=True)
class Part:
    """One entry of a multipart body. `headers` holds the headers other than
    Content-Type, Content-ID and Content-Location, as text."""

    content_type: ContentType
    data: bytes
    content_id: str | None = None
    content_location: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def filename(self) -> str | None:
        for key, value in self.headers:
            if key.lower() == "content-disposition" and (found := _FILENAME.search(value)):
                return found.group(1)
        return self.content_type.param("name") or self.content_location


# --- content types ---------------------------------------------------------


def _media_name(code: int, r: wsp.Reader) -> str:
    if code >= len(CONTENT_TYPES):
        raise r.error(f"unknown well-known content type 0x{code:02X}")
    return CONTENT_TYPES[code]


def read_content_type(r: wsp.Reader) -> ContentType:
    first = r.peek()
    if first >= 0x80:
        return ContentType(_media_name(wsp.read_short_integer(r), r))
    if first > wsp.LENGTH_QUOTE or first == 0:
        return ContentType(wsp.read_text_string(r))
    inner = wsp.read_length_prefixed(r)
    head = inner.peek()
    if head >= 0x80 or head <= wsp.MAX_SHORT_LENGTH:
        media = _media_name(wsp.read_integer(inner), inner)
    else:
        media = wsp.read_text_string(inner)
    return ContentType(media, read_parameters(inner))


def read_parameters(r: wsp.Reader) -> dict[str, str]:
    params: dict[str, str] = {}
    while not r.at_end():
        name, value = _read_parameter(r)
        params[name] = value
    return params


def _read_parameter(r: wsp.Reader) -> tuple[str, str]:
    first = r.peek()
    if first >= 0x80 or first <= wsp.MAX_SHORT_LENGTH:
        at = r.pos
        code = wsp.read_integer(r)
        known = PARAMETERS.get(code)
        if known is None:
            raise MmsError(f"unknown well-known parameter 0x{code:02X} at offset {at}")
        return known[0], _read_typed(r, known[1])
    name = wsp.read_text_string(r)
    head = r.peek()
    if head >= 0x80 or 1 <= head <= wsp.MAX_SHORT_LENGTH:
        return name, str(wsp.read_integer(r))
    return name, wsp.read_text_value(r)


def _read_typed(r: wsp.Reader, kind: str) -> str:
    if kind == "charset":
        return wsp.charset_name(wsp.read_integer(r))
    if kind == "text":
        return wsp.read_text_string(r)
    if kind == "text_value":
        return wsp.read_text_value(r)
    if kind == "constrained":
        if r.peek() >= 0x80:
            return _media_name(wsp.read_short_integer(r), r)
        return wsp.read_text_string(r)
    if kind in ("integer", "short"):
        return str(wsp.read_integer(r) if kind == "integer" else wsp.read_short_integer(r))
    if kind == "date":
        return wsp.read_date(r).isoformat()
    if kind == "q":
        q = wsp.read_uintvar(r)
        return str((q - 1) / 100 if q <= 100 else (q - 100) / 1000)
    if kind == "version":
        if r.peek() >= 0x80:
            v = wsp.read_short_integer(r)
            return f"{v >> 4}.{v & 0x0F}"
        return wsp.read_text_string(r)
    if kind == "field":
        if r.peek() >= 0x80:
            return _field_name(wsp.read_short_integer(r))
        return wsp.read_text_string(r)
    if r.byte() != 0:  # "none": No-value
        raise MmsError(f"no value expected at offset {r.pos - 1}")
    return ""


def encode_content_type(ct: ContentType) -> bytes:
    code = CONTENT_TYPE_CODES.get(ct.media_type.lower())
    media = wsp.encode_short_integer(code) if code is not None else wsp.encode_token_text(ct.media_type)
    if not ct.params:
        return media
    return wsp.with_length(media + encode_parameters(ct.params))


def encode_parameters(params: dict[str, str]) -> bytes:
    out = bytearray()
    for name, value in params.items():
        code = PARAMETER_CODES.get(name.lower())
        if code == 0x01 and (value == "*" or value.lower() in CHARSET_CODES):
            out += wsp.encode_short_integer(code) + wsp.encode_integer(wsp.charset_code(value))
        elif code == 0x09:
            known = CONTENT_TYPE_CODES.get(value.lower())
            typed = wsp.encode_short_integer(known) if known is not None else wsp.encode_text_string(value)
            out += wsp.encode_short_integer(code) + typed
        elif code is not None and code != 0x01:
            out += wsp.encode_short_integer(code) + wsp.encode_text_string(value)
        else:
            out += wsp.encode_token_text(name)
            out += wsp.encode_quoted_string(value) if value else b"\x00"
    return bytes(out)


# --- multipart ----------------------------------------------------------------


def _field_name(code: int) -> str:
    return HEADER_FIELDS[code] if code < len(HEADER_FIELDS) else f"Field-0x{code:02X}"


def decode_multipart(data: bytes) -> tuple[Part, ...]:
    return read_multipart(wsp.Reader(data))


def read_multipart(r: wsp.Reader) -> tuple[Part, ...]:
    count = wsp.read_uintvar(r)
    parts: list[Part] = []
    for _ in range(count):
        headers_len = wsp.read_uintvar(r)
        data_len = wsp.read_uintvar(r)
        parts.append(_read_part(r.sub(headers_len), r.take(data_len)))
    return tuple(parts)


def _read_part(h: wsp.Reader, data: bytes) -> Part:
    ct = read_content_type(h)
    content_id: str | None = None
    location: str | None = None
    headers: list[tuple[str, str]] = []
    while not h.at_end():
        first = h.peek()
        if first == wsp.QUOTE:  # Shift-delimiter and page: only page 1 is defined
            h.take(2)
            continue
        if first < 0x20:  # Short-cut-shift-delimiter
            h.pos += 1
            continue
        if first >= 0x80:
            code = wsp.read_short_integer(h)
            name, value = _field_name(code), _read_field_value(h, code)
        else:
            name, value = wsp.read_text_string(h), _read_app_value(h)
        if name.lower() == "content-id":
            content_id = value
        elif name.lower() == "content-location":
            location = value
        else:
            headers.append((name, value))
    return Part(ct, data, content_id, location, tuple(headers))


def _read_app_value(h: wsp.Reader) -> str:
    if h.at_end():
        return ""
    return wsp.read_text_string(h)


def _read_field_value(h: wsp.Reader, code: int) -> str:
    first = h.peek()
    if code == FIELD_CONTENT_ID:
        return wsp.read_quoted_string(h) if first == wsp.QUOTED_STRING else wsp.read_text_string(h)
    if code == FIELD_CONTENT_LOCATION:
        return wsp.read_text_string(h)
    if code in (FIELD_CONTENT_DISPOSITION, FIELD_CONTENT_DISPOSITION_14) and first <= wsp.LENGTH_QUOTE:
        inner = wsp.read_length_prefixed(h)
        if inner.peek() >= 0x80:
            kind = DISPOSITIONS.get(wsp.read_short_integer(inner), "attachment")
        else:
            kind = wsp.read_text_string(inner)
        params = read_parameters(inner)
        return "; ".join([kind, *(f'{k.lower()}="{v}"' for k, v in params.items())])
    if code == FIELD_DATE and first <= wsp.MAX_SHORT_LENGTH:
        return wsp.read_date(h).isoformat()
    if first >= 0x80:
        return str(wsp.read_short_integer(h))
    if first > wsp.LENGTH_QUOTE:
        return wsp.read_text_string(h)
    return "0x" + wsp.read_length_prefixed(h).rest().hex()


def encode_multipart(parts: tuple[Part, ...] | list[Part]) -> bytes:
    out = bytearray(wsp.encode_uintvar(len(parts)))
    for part in parts:
        headers = bytearray(encode_content_type(part.content_type))
        if part.content_id is not None:
            headers += wsp.encode_short_integer(FIELD_CONTENT_ID) + wsp.encode_quoted_string(part.content_id)
        if part.content_location is not None:
            headers += wsp.encode_short_integer(FIELD_CONTENT_LOCATION) + wsp.encode_text_string(part.content_location)
        for name, value in part.headers:
            headers += wsp.encode_token_text(name) + wsp.encode_text_string(value)
        out += wsp.encode_uintvar(len(headers)) + wsp.encode_uintvar(len(part.data)) + headers + part.data
    return bytes(out)
