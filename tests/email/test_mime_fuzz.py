"""Fuzzing the MIME codec: nothing but its own errors escapes, and what it writes it reads back."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msghub.connectors.base import Attachment
from msghub.connectors.pop3.inbound import read_fetched
from msghub.connectors.pop3.session import Pop3Error, Pop3Session
from msghub.connectors.pop3.settings import SETTINGS as POP3_SETTINGS
from msghub.connectors.settings import validate_config
from msghub.email.build import MailSpec, build_mail, mail_bytes
from msghub.email.dsn import read_status
from msghub.email.errors import MailBuildError, MailParseError
from msghub.email.parse import parse_mail
from msghub.email.sanitize import sanitize_html
from tests.email.corpus import MALFORMED
from tests.email.test_mime import POSTFIX_BOUNCE

pop3_settings = validate_config(POP3_SETTINGS, {"host": "127.0.0.1", "username": "u"})
SEEDS = [*MALFORMED.values(), POSTFIX_BOUNCE]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except MailParseError:
        return
    read_status(mail)
    if mail.html:
        sanitize_html(mail.html)


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(raw):
    _read(raw)


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=0, max_size=8)),
                                        max_size=8))
def test_mutated_mails(seed, edits):
    raw = bytearray(seed)
    for pos, chunk in edits:
        pos = min(pos, len(raw))
        raw[pos:pos + len(chunk)] = chunk
    _read(bytes(raw))


# what the database can hold: no NUL, no lone surrogates
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_header_text = st.text(_chars, max_size=200)


@FUZZ
@given(subject=_header_text, text=st.text(_chars, max_size=500), filename=_header_text,
       data=st.binary(max_size=300), ctype=st.sampled_from(["application/pdf", "text/plain", "image/png", "x"]))
def test_built_mails_read_back(subject, text, filename, data, ctype):
    spec = MailSpec(sender="hub@example.test", to=("a@example.test",), subject=subject, text=text,
                    attachments=(Attachment(ctype, data, filename or None),))
    try:
        raw = mail_bytes(build_mail(spec))
    except MailBuildError:
        return
    mail = parse_mail(raw)
    # folding may change runs of white space, nothing else
    assert " ".join((mail.subject or "").split()) == " ".join(subject.split())
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    assert mail.text.rstrip("\n") == normalised.rstrip("\n") or not normalised.strip()
    assert len(mail.attachments) == 1
    if ctype != "text/plain":
        assert mail.attachments[0].data == data


def _storable(value: object) -> None:
    """What PostgreSQL text and jsonb accept: no NUL, no lone surrogates."""
    text = json.dumps(value, ensure_ascii=False)
    text.encode("utf-8")  # raises on a lone surrogate
    assert "\\u0000" not in text and "\x00" not in text


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=0, max_size=8)),
                                        max_size=8), st.booleans())
def test_fetched_mails_are_always_storable(seed, edits, headers_only):
    raw = bytearray(seed)
    for pos, chunk in edits:
        pos = min(pos, len(raw))
        raw[pos:pos + len(chunk)] = chunk
    try:
        reading = read_fetched(bytes(raw), "uidl", len(raw), "hub", headers_only=headers_only, limit=10)
    except MailParseError:
        return
    message = reading.fetched.message
    _storable([message.sender, list(message.recipients), message.subject, message.text, message.meta,
               [a.filename for a in message.attachments], [a.content_type for a in message.attachments],
               [a.content_id for a in message.attachments], reading.fetched.header_id, reading.fetched.in_reply_to,
               list(reading.fetched.references)])
    assert message.recipients


class _FakePop:
    def __init__(self, uidl_lines: list[bytes], list_lines: list[bytes]) -> None:
        self.uidl_lines, self.list_lines = uidl_lines, list_lines

    def uidl(self) -> tuple[bytes, list[bytes], int]:
        return b"+OK", self.uidl_lines, 0

    def list(self) -> tuple[bytes, list[bytes], int]:
        return b"+OK", self.list_lines, 0

    def close(self) -> None:
        pass


_lines = st.lists(st.one_of(st.binary(max_size=30),
                            st.builds(lambda n, u: f"{n} {u}".encode(), st.integers(-5, 10**20), st.text(max_size=20))),
                  max_size=20)


@FUZZ
@given(_lines, _lines)
def test_pop3_listings_from_a_strange_server(uidl_lines, list_lines):
    session = Pop3Session(pop3_settings)
    session.pop = _FakePop(uidl_lines, list_lines)  # type: ignore[assignment]
    try:
        listing = session.listing()
    except Pop3Error:
        return
    for number, uidl, size in listing:
        assert isinstance(number, int) and isinstance(size, int)
        assert 0 < len(uidl) <= 200 and all(0x21 <= ord(c) <= 0x7E for c in uidl)
