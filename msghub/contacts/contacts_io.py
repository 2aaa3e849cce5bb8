"""Contacts in and out: CSV and vCard (3.0 and 4.0; 2.1 as phones export it).

Parsers stream: they take the file's raw lines (bytes, as iterating a file
opened in binary mode gives them) and yield one ContactRecord per row or card,
or a RecordError that says where and what is wrong ("line 14: phone '+12ab'
is not a phone number"). A problem with the file as a whole (no header, no
phone or e-mail column, not a vCard at all) raises ContactsFormatError.
Writers stream too: they yield text pieces to send as they come.

Phone numbers and e-mail addresses are checked and normalized by the same
rules as the outbox (hub.normalize_phone_v1 and hub.is_email_v1 in
schema/50_outbox.sql), so an imported contact can always be sent to.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import quopri
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from msghub.errors import HubError

# one CSV field or one (unfolded) vCard line at most; a contact is small
MAX_FIELD_CHARS = 64 * 1024
MAX_VCARD_LINE_CHARS = 4 * 1024 * 1024
# a card's photo or sound is skipped, but a line of it may be long
MAX_NAME_CHARS = 1000
MAX_NOTES_CHARS = 10_000
MAX_LISTS = 50

# Spreadsheets run cells that start with these as formulas: exported text
# starting with one gets a leading apostrophe, which import takes off again.
_FORMULA_START = "=+-@\t\r"

_PHONE_STRIP = re.compile(r"[\s().-]")
_PHONE_OK = re.compile(r"^\+?[0-9]{3,20}$")
_EMAIL_OK = re.compile(r"^[^@\s<>(),;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class ContactsFormatError(HubError):
    """The file as a whole cannot be read as contacts."""


@dataclass(frozen=True)
class ContactRecord:
    name: str
    phone: str | None
    email: str | None
    notes: str = ""
    lists: tuple[str, ...] = ()
    # where it came from, for messages: "line 14" or "card 3 (line 40)"
    where: str = ""


@dataclass(frozen=True)
class RecordError:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


Parsed = ContactRecord | RecordError


@dataclass
class ExportContact:
    name: str
    phone: str | None
    email: str | None
    notes: str
    lists: list[str] = field(default_factory=list)
    id: int | None = None


def normalize_phone(text: str) -> str | None:
    """The hub's form of a phone number, or None when it is not one."""
    number = _PHONE_STRIP.sub("", text.strip().replace("(0)", ""))
    if number.startswith("00"):
        number = "+" + number[2:]
    return number if _PHONE_OK.match(number) and number.isascii() else None


def is_email(text: str) -> bool:
    return len(text) <= 254 and text.isascii() and _EMAIL_OK.match(text) is not None


def _short(value: str, limit: int = 40) -> str:
    """A value quoted for an error message, cut when long."""
    shown = value if len(value) <= limit else value[:limit] + "..."
    return repr(shown)


def check_contact(name: str, phone: str, email: str, notes: str, lists: Iterable[str], where: str) -> Parsed:
    """Checks and normalizes one contact's fields (from a file or a form)."""
    name, phone, email, notes = name.strip(), phone.strip(), email.strip(), notes.strip()
    if len(name) > MAX_NAME_CHARS:
        return RecordError(where, f"name is longer than {MAX_NAME_CHARS} characters")
    if len(notes) > MAX_NOTES_CHARS:
        return RecordError(where, f"notes are longer than {MAX_NOTES_CHARS} characters")
    if "\x00" in name + phone + email + notes:
        return RecordError(where, "contains a NUL character")
    normal_phone = None
    if phone:
        normal_phone = normalize_phone(phone)
        if normal_phone is None:
            return RecordError(where, f"phone {_short(phone)} is not a phone number")
    if email and not is_email(email):
        return RecordError(where, f"e-mail {_short(email)} is not an e-mail address")
    if normal_phone is None and not email:
        return RecordError(where, "no phone number or e-mail address: a contact needs one of them")
    names: list[str] = []
    for raw in lists:
        list_name = raw.strip()
        if list_name and list_name not in names:
            if "\x00" in list_name or len(list_name) > MAX_NAME_CHARS:
                return RecordError(where, f"list name {_short(list_name)} is not allowed")
            names.append(list_name)
    if len(names) > MAX_LISTS:
        return RecordError(where, f"in more than {MAX_LISTS} lists")
    return ContactRecord(name, normal_phone, email or None, notes, tuple(names), where)


# ---------------------------------------------------------------- CSV

_COLUMNS = {
    "name": ("name", "full name", "fullname", "display name", "displayname", "contact"),
    "phone": ("phone", "mobile", "mobile phone", "cell", "msisdn", "number", "phone number", "tel", "telephone"),
    "email": ("email", "e-mail", "mail", "email address", "e-mail address"),
    "notes": ("notes", "note", "comment", "comments"),
    "lists": ("lists", "list", "distribution lists", "groups", "categories"),
}


def _decoded_lines(lines: Iterable[bytes], what: str) -> Iterator[str]:
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ContactsFormatError(
                f"line {number}: not UTF-8 text; save the {what} file as UTF-8 and import it again"
            ) from None


def _pick_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _unformula(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START + "'":
        return value[1:]
    return value


def _formula_safe(value: str) -> str:
    if value and (
        value[0] in _FORMULA_START or (value[0] == "'" and len(value) > 1 and value[1] in _FORMULA_START + "'")
    ):
        return "'" + value
    return value


def split_escaped(value: str, separator: str) -> list[str]:
    """Splits at separators not preceded by a backslash and undoes \\-escapes."""
    items: list[str] = []
    current: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            current.append({"n": "\n", "N": "\n"}.get(following, following))
        elif char == separator:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def join_escaped(items: Iterable[str], separator: str) -> str:
    return separator.join(
        i.replace("\\", "\\\\").replace(separator, "\\" + separator).replace("\n", "\\n") for i in items
    )


def parse_csv(lines: Iterable[bytes]) -> Iterator[Parsed]:
    """Contacts from CSV: a header row naming the columns (name, phone, email,
    notes, lists; common aliases too), then one contact per row. The
    delimiter (comma, semicolon or tab) is taken from the header."""
    text = _decoded_lines(lines, "CSV")
    header_line = next(text, None)
    skipped = 0  # blank lines before the header, which the reader does not count
    while header_line is not None and not header_line.strip():
        header_line, skipped = next(text, None), skipped + 1
    if header_line is None:
        raise ContactsFormatError("the file is empty: expected a header row such as name,phone,email")

    def rest() -> Iterator[str]:
        yield header_line
        yield from text

    reader = csv.reader(rest(), delimiter=_pick_delimiter(header_line), strict=True)
    # csv's field limit is process-wide; lengths are checked per field below instead
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ContactsFormatError(f"line {skipped + 1}: the header row cannot be read: {exc}") from None
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().strip('"').lower().replace("_", " ")
        for column, aliases in _COLUMNS.items():
            if key in aliases and column not in columns:
                columns[column] = index
    if "phone" not in columns and "email" not in columns:
        shown = ", ".join(repr(h[:30]) for h in header[:10])
        raise ContactsFormatError(
            f"line {skipped + 1}: no phone or e-mail column in the header ({shown}); "
            "name the columns name, phone, email, notes, lists"
        )
    line = reader.line_num + skipped
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RecordError(
                f"line {reader.line_num + skipped}", f"not valid CSV: {exc}; the rest of the file is not read"
            )
            return  # the reader cannot resynchronise after a broken quote
        start, line = line + 1, reader.line_num + skipped
        where = f"line {start}"
        if not any(cell.strip() for cell in row):
            continue
        if any(len(cell) > MAX_FIELD_CHARS for cell in row):
            yield RecordError(where, f"a field is longer than {MAX_FIELD_CHARS} characters")
            continue
        if len(row) > len(header):
            yield RecordError(where, f"{len(row)} fields, but the header names {len(header)} columns")
            continue

        def cell(column: str, row: list[str] = row) -> str:
            index = columns.get(column)
            return _unformula(row[index]) if index is not None and index < len(row) else ""

        yield check_contact(
            cell("name"),
            cell("phone"),
            cell("email"),
            cell("notes"),
            split_escaped(cell("lists"), ";") if cell("lists") else (),
            where,
        )


CSV_HEADER = ("name", "phone", "email", "notes", "lists")


def write_csv(contacts: Iterable[ExportContact], *, header: bool = True) -> Iterator[str]:
    """CSV with a header row, UTF-8, CRLF line ends; cells that a spreadsheet
    would run as formulas are prefixed with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_HEADER)
    for contact in contacts:
        writer.writerow(
            [
                _formula_safe(contact.name),
                contact.phone or "",
                _formula_safe(contact.email or ""),
                _formula_safe(contact.notes),
                _formula_safe(join_escaped(contact.lists, ";")),
            ]
        )
        if buffer.tell() > 16 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# ---------------------------------------------------------------- vCard


@dataclass
class _Property:
    name: str
    params: dict[str, list[str]]
    value: str
    line: int


@dataclass
class _Card:
    number: int
    line: int
    properties: list[_Property] = field(default_factory=list)
    version: str = ""
    problem: str | None = None


_PROPERTY_NAME = re.compile(r"^(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)$")
# large binary properties: skipped without decoding
_SKIPPED = {"PHOTO", "LOGO", "SOUND", "KEY"}


def _split_property(line: str) -> tuple[str, dict[str, list[str]], str] | None:
    """NAME;PARAM=a,b;PARAM2="x:y":value -> (NAME, params, value); None if malformed."""
    in_quotes = False
    colon = -1
    for index, char in enumerate(line):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ":" and not in_quotes:
            colon = index
            break
    if colon <= 0:
        return None
    head, value = line[:colon], line[colon + 1 :]
    pieces = _split_unquoted(head, ";")
    match = _PROPERTY_NAME.match(pieces[0])
    if not match:
        return None
    params: dict[str, list[str]] = {}
    for piece in pieces[1:]:
        key, eq, raw = piece.partition("=")
        key = key.strip().upper()
        if not eq:
            # vCard 2.1: a bare type such as TEL;CELL
            params.setdefault("TYPE", []).append(key.lower())
            continue
        values = [v.strip().strip('"') for v in _split_unquoted(raw, ",")]
        params.setdefault(key, []).extend(v.lower() if key in ("TYPE", "ENCODING", "VALUE") else v for v in values)
    return match.group(1).upper(), params, value


def _split_unquoted(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    in_quotes = False
    for char in text:
        if char == '"':
            in_quotes = not in_quotes
        if char == separator and not in_quotes:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _logical_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, str | None]]:
    """Unfolds vCard lines: a line starting with a space or tab continues the
    one before; a quoted-printable value ending in '=' continues on the next
    line (vCard 2.1). Yields (first physical line number, text), with None
    for text when the line is longer than MAX_VCARD_LINE_CHARS."""
    current: list[str] | None = None
    start = size = 0
    quoted_printable = soft_break = False
    for number, raw_line in enumerate(_decoded_lines(lines, "vCard"), start=1):
        text = raw_line.rstrip("\r\n")
        if current is not None and soft_break:
            piece = text
        elif current is not None and text[:1] in (" ", "\t"):
            piece = text[1:]
        else:
            if current is not None:
                yield start, None if size > MAX_VCARD_LINE_CHARS else "".join(current)
            current, start, size, piece = [], number, 0, text
            quoted_printable = "QUOTED-PRINTABLE" in text.split(":", 1)[0].upper()
        size += len(piece)
        soft_break = quoted_printable and piece.endswith("=")
        if soft_break:
            piece = piece[:-1]
        if size <= MAX_VCARD_LINE_CHARS:
            current.append(piece)
    if current is not None:
        yield start, None if size > MAX_VCARD_LINE_CHARS else "".join(current)


def _cards(lines: Iterable[bytes]) -> Iterator[_Card]:
    card: _Card | None = None
    count = 0
    seen_any = False
    for number, text in _logical_lines(lines):
        if text is None:
            if card is not None and card.problem is None:
                card.problem = f"a line longer than {MAX_VCARD_LINE_CHARS} characters"
            elif card is None:
                raise ContactsFormatError(f"line {number}: a line longer than {MAX_VCARD_LINE_CHARS} characters")
            continue
        if not text.strip():
            continue
        parsed = _split_property(text)
        upper = text.strip().upper()
        if upper == "BEGIN:VCARD":
            seen_any = True
            if card is not None:
                yield replace(card, problem=card.problem or f"BEGIN:VCARD at line {number} before END:VCARD")
            count += 1
            card = _Card(count, number)
            continue
        if upper == "END:VCARD":
            if card is None:
                raise ContactsFormatError(f"line {number}: END:VCARD without BEGIN:VCARD")
            yield card
            card = None
            continue
        if card is None:
            if not seen_any:
                raise ContactsFormatError(
                    f"line {number}: not a vCard file (expected BEGIN:VCARD, found {_short(text.strip())})"
                )
            raise ContactsFormatError(
                f"line {number}: {_short(text.strip())} outside any card (between END:VCARD and the next BEGIN:VCARD)"
            )
        if card.problem:
            continue
        if parsed is None:
            card.problem = f"line {number} is not a vCard property: {_short(text.strip())}"
            continue
        name, params, value = parsed
        if name == "VERSION":
            card.version = value.strip()
        elif name not in _SKIPPED:
            card.properties.append(_Property(name, params, value, number))
    if card is not None:
        yield replace(card, problem=card.problem or "no END:VCARD before the end of the file")
    if not seen_any:
        raise ContactsFormatError("not a vCard file: no BEGIN:VCARD found")


def _decode_value(prop: _Property) -> str:
    """The property's text: quoted-printable and base64 undone, charset applied."""
    encoding = (prop.params.get("ENCODING") or [""])[0]
    charset = (prop.params.get("CHARSET") or ["utf-8"])[0]
    if encoding == "quoted-printable":
        raw = quopri.decodestring(prop.value.encode("utf-8", "surrogateescape"))
    elif encoding in ("b", "base64"):
        try:
            raw = base64.b64decode(prop.value, validate=False)
        except (binascii.Error, ValueError):
            raise ValueError(f"{prop.name} is not valid base64") from None
    else:
        return prop.value
    try:
        return raw.decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise ValueError(f"{prop.name} is not valid {charset} text") from None


def _text(prop: _Property) -> str:
    return "".join(split_escaped(_decode_value(prop), "\x00"))


def _preference(prop: _Property) -> tuple[int, int]:
    types = prop.params.get("TYPE", [])
    pref_param = (prop.params.get("PREF") or ["100"])[0]
    pref = int(pref_param) if pref_param.isdigit() else 100
    if "pref" in types:
        pref = min(pref, 1)
    cell = 0 if ("cell" in types or "mobile" in types) else 1
    return cell, pref


def _card_record(card: _Card) -> Parsed:
    where = f"card {card.number} (line {card.line})"
    if card.problem:
        return RecordError(where, card.problem)
    if card.version and card.version not in ("2.1", "3.0", "4.0"):
        return RecordError(where, f"vCard version {_short(card.version)} is not supported (2.1, 3.0 and 4.0 are)")
    try:
        by_name: dict[str, list[_Property]] = {}
        for prop in card.properties:
            by_name.setdefault(prop.name, []).append(prop)
        name = ""
        if "FN" in by_name:
            name = _text(by_name["FN"][0])
        elif "N" in by_name:
            parts = [p.strip() for p in split_escaped(_decode_value(by_name["N"][0]), ";")]
            parts += [""] * (5 - len(parts))
            family, given, additional, prefix, suffix = parts[:5]
            name = " ".join(p for p in (prefix, given, additional, family, suffix) if p)
        elif "ORG" in by_name:
            name = split_escaped(_decode_value(by_name["ORG"][0]), ";")[0]

        phones = sorted(by_name.get("TEL", []), key=_preference)
        emails = sorted(by_name.get("EMAIL", []), key=_preference)
        phone_values = [_text(p).strip() for p in phones]
        phone_values = [v[4:] if v.lower().startswith("tel:") else v for v in phone_values]
        phone_values = [v.split(";")[0] for v in phone_values if v]  # tel: URIs may carry ;ext=
        email_values = [v for v in (_text(p).strip() for p in emails) if v]
        email_values = [v[7:] if v.lower().startswith("mailto:") else v for v in email_values]

        notes = [_text(p) for p in by_name.get("NOTE", [])]
        # what the hub has no field for is kept in the notes, as text
        notes += [f"TEL: {v}" for v in phone_values[1:]]
        notes += [f"EMAIL: {v}" for v in email_values[1:]]
        notes += [f"URL: {_text(p)}" for p in by_name.get("URL", [])]
        lists: list[str] = []
        for prop in by_name.get("CATEGORIES", []):
            lists += [c for c in split_escaped(_decode_value(prop), ",") if c.strip()]
    except ValueError as exc:
        return RecordError(where, str(exc))
    result = check_contact(
        name,
        phone_values[0] if phone_values else "",
        email_values[0] if email_values else "",
        "\n".join(notes),
        lists,
        where,
    )
    if isinstance(result, RecordError) and phone_values:
        # say which property was wrong, in the card's own words
        result = RecordError(where, result.message.replace("phone ", "TEL ", 1).replace("e-mail ", "EMAIL ", 1))
    elif isinstance(result, RecordError):
        result = RecordError(where, result.message.replace("e-mail ", "EMAIL ", 1))
    return result


def parse_vcard(lines: Iterable[bytes]) -> Iterator[Parsed]:
    """Contacts from vCard 2.1, 3.0 or 4.0: FN (or N, or ORG) is the name;
    the first mobile or preferred TEL the phone; the first EMAIL the e-mail;
    NOTE the notes (further numbers, addresses and URLs are added to them as
    text); CATEGORIES the distribution lists."""
    for card in _cards(lines):
        yield _card_record(card)


def _vcard_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> str:
    """Folds a content line at 75 octets without splitting a UTF-8 character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line + "\r\n"
    pieces: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with a space
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces) + "\r\n"


def write_vcard(contacts: Iterable[ExportContact], version: str = "4.0") -> Iterator[str]:
    """vCards, UTF-8, CRLF, folded at 75 octets."""
    if version not in ("3.0", "4.0"):
        raise ContactsFormatError(f"vCard version {version!r}: choose 3.0 or 4.0")
    for contact in contacts:
        lines = [
            "BEGIN:VCARD",
            f"VERSION:{version}",
            f"FN:{_vcard_escape(contact.name)}",
            f"N:{_vcard_escape(contact.name)};;;;",
        ]
        if contact.phone:
            if version == "4.0":
                lines.append(f"TEL;VALUE=uri;TYPE=cell:tel:{contact.phone}")
            else:
                lines.append(f"TEL;TYPE=CELL:{contact.phone}")
        if contact.email:
            lines.append(
                f"EMAIL;TYPE=INTERNET:{_vcard_escape(contact.email)}"
                if version == "3.0"
                else f"EMAIL:{_vcard_escape(contact.email)}"
            )
        if contact.notes:
            lines.append(f"NOTE:{_vcard_escape(contact.notes)}")
        if contact.lists:
            lines.append("CATEGORIES:" + ",".join(_vcard_escape(name) for name in contact.lists))
        if contact.id is not None:
            lines.append(f"UID:msghub-contact-{contact.id}")
        lines.append("END:VCARD")
        yield "".join(_fold(line) for line in lines)


def detect_format(filename: str, head: bytes) -> str:
    """'vcard' or 'csv', from the file's name and its first bytes."""
    lowered = filename.lower()
    if lowered.endswith((".vcf", ".vcard")):
        return "vcard"
    if lowered.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:11].upper()
    return "vcard" if start.startswith(b"BEGIN:VCARD") else "csv"


def parse(fmt: str, lines: Iterable[bytes]) -> Iterator[Parsed]:
    if fmt == "vcard":
        return parse_vcard(lines)
    if fmt == "csv":
        return parse_csv(lines)
    raise ContactsFormatError(f"unknown contacts format {fmt!r}: csv or vcard")
