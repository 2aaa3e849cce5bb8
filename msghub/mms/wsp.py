"""WSP value encodings (WAP-230-WSP section 8.4.2) as pure functions.

Decoding reads from a Reader, a cursor over bytes that raises MmsError (with
the offset) instead of IndexError; encoding returns bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from msghub.mms.errors import MmsError
from msghub.mms.wsp_tables import ANY_CHARSET, CHARSET_CODES, CHARSETS

QUOTE = 0x7F  # Quote: a text string whose first octet is >= 128 starts with it
QUOTED_STRING = 0x22  # '"': a quoted string (the closing quote is never written)
LENGTH_QUOTE = 0x1F  # a value length of 31 or more follows as a uintvar
MAX_SHORT_LENGTH = 30
MAX_UINTVAR_OCTETS = 5  # 35 bits, more than any length or count needs
MAX_LONG_OCTETS = 8  # a Long-integer wider than 64 bits is refused


class Reader:
    """A cursor over bytes, bounded by `end`."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def error(self, what: str) -> MmsError:
        return MmsError(f"{what} at offset {self.pos}")

    def peek(self) -> int:
        if self.pos >= self.end:
            raise self.error("unexpected end of data")
        return self.data[self.pos]

    def byte(self) -> int:
        value = self.peek()
        self.pos += 1
        return value

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > self.end:
            raise self.error(f"{count} octets wanted, {self.end - self.pos} left")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def rest(self) -> bytes:
        return self.take(self.end - self.pos)

    def sub(self, length: int) -> Reader:
        """A reader over the next `length` octets; this one skips past them."""
        if length < 0 or self.pos + length > self.end:
            raise self.error(f"a value of {length} octets runs past the end ({self.end - self.pos} left)")
        inner = Reader(self.data, self.pos, self.pos + length)
        self.pos += length
        return inner


# --- integers ---------------------------------------------------------------


def read_uintvar(r: Reader) -> int:
    value = 0
    for _ in range(MAX_UINTVAR_OCTETS):
        octet = r.byte()
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            return value
    raise r.error("uintvar longer than 5 octets")


def encode_uintvar(value: int) -> bytes:
    if value < 0:
        raise MmsError(f"uintvar cannot be negative: {value}")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def read_short_integer(r: Reader) -> int:
    octet = r.byte()
    if octet < 0x80:
        raise MmsError(f"short integer expected, got 0x{octet:02X} at offset {r.pos - 1}")
    return octet & 0x7F


def encode_short_integer(value: int) -> bytes:
    if not 0 <= value <= 0x7F:
        raise MmsError(f"short integer out of range 0-127: {value}")
    return bytes([0x80 | value])


def read_long_integer(r: Reader) -> int:
    length = r.byte()
    if not 1 <= length <= MAX_SHORT_LENGTH:
        raise MmsError(f"long integer length 1-30 expected, got {length} at offset {r.pos - 1}")
    if length > MAX_LONG_OCTETS:
        raise MmsError(f"long integer of {length} octets is too large at offset {r.pos - 1}")
    return int.from_bytes(r.take(length), "big")


def encode_long_integer(value: int) -> bytes:
    if value < 0:
        raise MmsError(f"long integer cannot be negative: {value}")
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    if len(body) > MAX_LONG_OCTETS:
        raise MmsError(f"long integer too large: {value}")
    return bytes([len(body)]) + body


def read_integer(r: Reader) -> int:
    """Integer-value: a Short-integer or a Long-integer."""
    if r.peek() >= 0x80:
        return read_short_integer(r)
    return read_long_integer(r)


def encode_integer(value: int) -> bytes:
    return encode_short_integer(value) if 0 <= value <= 0x7F else encode_long_integer(value)


def read_value_length(r: Reader) -> int:
    octet = r.byte()
    if octet <= MAX_SHORT_LENGTH:
        return octet
    if octet == LENGTH_QUOTE:
        return read_uintvar(r)
    raise MmsError(f"value length expected, got 0x{octet:02X} at offset {r.pos - 1}")


def encode_value_length(length: int) -> bytes:
    if length <= MAX_SHORT_LENGTH:
        return bytes([length])
    return bytes([LENGTH_QUOTE]) + encode_uintvar(length)


def with_length(body: bytes) -> bytes:
    return encode_value_length(len(body)) + body


def read_length_prefixed(r: Reader) -> Reader:
    return r.sub(read_value_length(r))


# --- text -------------------------------------------------------------------


def read_cstring(r: Reader) -> bytes:
    """Octets up to the terminating NUL (consumed, not returned)."""
    end = r.data.find(b"\x00", r.pos, r.end)
    if end < 0:
        raise r.error("text without its terminating NUL")
    chunk = r.data[r.pos : end]
    r.pos = end + 1
    return chunk


def decode_text(raw: bytes, codec: str = "utf-8") -> str:
    """Bytes of a text whose charset is only presumed: UTF-8, else Latin-1 (never fails)."""
    try:
        return raw.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return raw.decode("latin-1")


def read_text_string_bytes(r: Reader) -> bytes:
    if r.peek() == QUOTE:
        r.pos += 1
    return read_cstring(r)


def read_text_string(r: Reader) -> str:
    return decode_text(read_text_string_bytes(r))


def encode_text_string_bytes(raw: bytes) -> bytes:
    if b"\x00" in raw:
        raise MmsError("text cannot contain NUL")
    if raw and raw[0] >= QUOTE:  # 0x7F itself too, or the reader would take it for the Quote
        return bytes([QUOTE]) + raw + b"\x00"
    return raw + b"\x00"


def utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MmsError(f"text cannot be encoded as UTF-8: {exc.reason}") from None


def encode_text_string(text: str) -> bytes:
    return encode_text_string_bytes(utf8(text))


def encode_token_text(text: str) -> bytes:
    raw = utf8(text)
    if not raw or raw[0] < 0x20 or raw[0] >= 0x7F or raw[0] == QUOTED_STRING:
        raise MmsError(f"not a token: {text!r}")
    return encode_text_string_bytes(raw)


def read_quoted_string(r: Reader) -> str:
    if r.byte() != QUOTED_STRING:
        raise MmsError(f"quoted string expected at offset {r.pos - 1}")
    return decode_text(read_cstring(r))


def encode_quoted_string(text: str) -> bytes:
    raw = utf8(text)
    if b"\x00" in raw:
        raise MmsError("text cannot contain NUL")
    return bytes([QUOTED_STRING]) + raw + b"\x00"


def read_text_value(r: Reader) -> str:
    """Text-value: No-value, Token-text or Quoted-string."""
    first = r.peek()
    if first == 0:
        r.pos += 1
        return ""
    if first == QUOTED_STRING:
        return read_quoted_string(r)
    return read_text_string(r)


# --- charsets and encoded strings -----------------------------------------


def charset_name(code: int) -> str:
    if code == ANY_CHARSET:
        return "*"
    known = CHARSETS.get(code)
    return known[0] if known else f"mibenum-{code}"


def charset_code(name: str) -> int:
    if name == "*":
        return ANY_CHARSET
    code = CHARSET_CODES.get(name.lower())
    if code is None and name.lower().startswith("mibenum-") and name[8:].isdigit():
        code = int(name[8:])
    if code is None:
        raise MmsError(f"unknown charset {name!r}")
    return code


def decode_with_charset(raw: bytes, code: int) -> str:
    known = CHARSETS.get(code)
    if known is None:
        return decode_text(raw)
    if known[1] == "utf-16" and len(raw) % 2 == 0 and raw[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        return decode_text(raw, "utf-16-be")  # UCS-2 without a byte-order mark is big-endian
    return decode_text(raw, known[1])


def read_encoded_string(r: Reader) -> str:
    """Encoded-string-value: a Text-string, or Value-length Charset Text-string."""
    first = r.peek()
    if first == 0:  # an empty Text-string
        r.pos += 1
        return ""
    if first > MAX_SHORT_LENGTH + 1:
        return read_text_string(r)
    inner = read_length_prefixed(r)
    code = _read_charset(inner)
    if not inner.at_end() and inner.peek() == QUOTE:
        inner.pos += 1
    raw = inner.rest()
    # The text ends with a NUL (two for UCS-2 in some encoders); some omit it.
    if code in (1000, 1015) and raw.endswith(b"\x00\x00") and len(raw) % 2 == 0:
        raw = raw[:-2]
    elif raw.endswith(b"\x00"):
        raw = raw[:-1]
    return decode_with_charset(raw, code)


def _read_charset(r: Reader) -> int:
    """A Well-known-charset. Some encoders write a small MIBenum as a bare octet
    (0x04 for ISO-8859-1, where 0x84 is meant); read as a Long-integer it would
    swallow the text, so a bare known MIBenum is taken as itself."""
    first = r.peek()
    if 0 < first <= MAX_SHORT_LENGTH and first in CHARSETS:
        start = r.pos
        try:
            value = read_long_integer(r)
        except MmsError:
            value = -1
        if value in CHARSETS:
            return value
        r.pos = start + 1
        return first
    return read_integer(r)


def encode_encoded_string(text: str) -> bytes:
    """Plain Text-string for ASCII, else UTF-8 with its charset (106)."""
    if text.isascii() and (not text or ord(text[0]) > LENGTH_QUOTE):  # a first octet <= 31 reads as a length
        return encode_text_string(text)
    return with_length(encode_integer(CHARSET_CODES["utf-8"]) + encode_text_string(text))


# --- dates --------------------------------------------------------------------


def read_date(r: Reader) -> datetime:
    start = r.pos
    seconds = read_long_integer(r)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise MmsError(f"date out of range ({seconds} s) at offset {start}") from None


def encode_date(value: datetime) -> bytes:
    if value.tzinfo is None:
        raise MmsError("a date must carry its time zone")
    return encode_long_integer(int(value.timestamp()))


def skip_value(r: Reader) -> bytes:
    """Any header value by the generic rule (WSP 8.4.1.2), returned raw."""
    start = r.pos
    first = r.peek()
    if first <= MAX_SHORT_LENGTH + 1:
        read_length_prefixed(r)
    elif first < 0x80:
        read_cstring(r)
    else:
        r.pos += 1
    return r.data[start : r.pos]
