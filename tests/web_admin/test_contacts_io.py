"""CSV and vCard parsers and writers: precise errors, round trips, fuzzing,
and vobject (a real vCard library) as the oracle."""

from __future__ import annotations

import io

import pytest
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msghub.contacts.contacts_io import (
    ContactRecord,
    ContactsFormatError,
    ExportContact,
    RecordError,
    detect_format,
    normalize_phone,
    parse_csv,
    parse_vcard,
    write_csv,
    write_vcard,
)


def _csv(text: str) -> list:
    return list(parse_csv(io.BytesIO(text.encode())))


def _vcf(text: str) -> list:
    return list(parse_vcard(io.BytesIO(text.encode())))


def test_phone_normalization_matches_the_outbox_rules():
    assert normalize_phone("+49 (0)171 234-567") == "+49171234567"
    assert normalize_phone("0049.171.234") == "+49171234"
    assert normalize_phone("(030) 1234") == "0301234"
    for bad in ("+12ab", "12", "+" + "1" * 21, "١٢٣٤", ""):
        assert normalize_phone(bad) is None, bad


def test_phone_normalization_agrees_with_the_database(db):
    samples = ["+49 (0)171 234-567", "0049.171.234", "+12ab", "12", "1 2 3 4", "00 12", "+(1)23", "٣٤٥٦"]
    for sample in samples:
        expected = db.execute("SELECT hub.normalize_phone_v1(%s) AS n", (sample,)).fetchone()["n"]
        assert normalize_phone(sample) == expected, sample


def test_csv_errors_name_the_line_and_the_value():
    records = _csv('name,phone,email\n\nAnn,+491711,\nBob,+12ab,\nCy,,not-mail\n"Dee\nDoe",+491712,\nEve,,\n')
    assert [str(r) if isinstance(r, RecordError) else r.name for r in records] == [
        "Ann",
        "line 4: phone '+12ab' is not a phone number",
        "line 5: e-mail 'not-mail' is not an e-mail address",
        "Dee\nDoe",
        "line 8: no phone number or e-mail address: a contact needs one of them",
    ]


def test_csv_header_problems_are_file_errors():
    with pytest.raises(ContactsFormatError, match="the file is empty"):
        _csv("")
    with pytest.raises(ContactsFormatError, match="line 1: no phone or e-mail column"):
        _csv("first,second\na,b\n")
    with pytest.raises(ContactsFormatError, match="line 2: not UTF-8"):
        list(parse_csv(io.BytesIO(b"name,phone\n\xff,+491711\n")))


def test_csv_broken_quote_stops_with_its_line():
    records = _csv('name,phone\nAnn,+491711\n"Bob" x,+491712\nCy,+491713\n')
    assert isinstance(records[-1], RecordError) and records[-1].where == "line 3"
    assert "the rest of the file is not read" in records[-1].message


def test_csv_delimiters_bom_and_aliases():
    text = "\ufeffFull Name;Mobile;Mail;Groups\r\nAnn;+491711;ann@example.org;A;\r\n"
    record = _csv(text)[0]
    assert isinstance(record, RecordError)  # 5 fields for 4 columns
    record = _csv("Full Name\tMobile\tGroups\r\nAnn\t+491711\tA;B\\;C\r\n")[0]
    assert record == ContactRecord("Ann", "+491711", None, "", ("A", "B;C"), "line 2")


def test_vcard_versions_and_properties():
    records = _vcf(
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=\r\n=C3=BCrgen;;;\r\n"
        "TEL;HOME:+49301\r\nTEL;CELL;PREF:+491711\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\nTEL;VALUE=uri;TYPE=cell:tel:+49-171-2\r\n"
        "EMAIL;PREF=1:ann@example.org\r\nEMAIL:other@example.org\r\nCATEGORIES:A,B\\,C\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nORG:Acme;Sales\r\nEMAIL;TYPE=INTERNET:sales@acme.example\r\n"
        "PHOTO;ENCODING=b;TYPE=JPEG:" + "A" * 5000 + "\r\nEND:VCARD\r\n"
    )
    assert records[0] == ContactRecord("Jürgen Müller", "+491711", None, "TEL: +49301", (), "card 1 (line 1)")
    assert records[1] == ContactRecord(
        "Ann", "+491712", "ann@example.org", "EMAIL: other@example.org", ("A", "B,C"), "card 2 (line 8)"
    )
    assert records[2].name == "Acme" and records[2].email == "sales@acme.example"


def test_vcard_errors_name_the_card():
    records = _vcf(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nTEL:+12ab\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:5.0\r\nFN:B\r\nTEL:+4911\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nFN:C\r\nno colon here\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nFN:D\r\nEMAIL:d@\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nFN:E\r\nTEL:+4912\r\n"
    )
    assert [str(r) for r in records] == [
        "card 1 (line 1): TEL '+12ab' is not a phone number",
        "card 2 (line 6): vCard version '5.0' is not supported (2.1, 3.0 and 4.0 are)",
        "card 3 (line 11): line 13 is not a vCard property: 'no colon here'",
        "card 4 (line 15): EMAIL 'd@' is not an e-mail address",
        "card 5 (line 19): no END:VCARD before the end of the file",
    ]
    with pytest.raises(ContactsFormatError, match="line 1: not a vCard file"):
        _vcf("name,phone\n")
    with pytest.raises(ContactsFormatError, match="line 3: END:VCARD without BEGIN:VCARD"):
        _vcf("BEGIN:VCARD\r\nEND:VCARD\r\nEND:VCARD\r\n")


def test_detect_format():
    assert detect_format("a.VCF", b"") == "vcard"
    assert detect_format("a.csv", b"BEGIN:VCARD") == "csv"
    assert detect_format("upload", b"\xef\xbb\xbf\r\nbegin:vcard") == "vcard"
    assert detect_format("upload", b"name,phone") == "csv"


# ---------------------------------------------------------------- round trips

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n,;:\\\"'=+-@"), max_size=40
)
_phone = st.from_regex(r"\+[1-9][0-9]{5,14}", fullmatch=True)
_email = st.from_regex(r"[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True)
_contact = st.builds(
    ExportContact,
    name=_text.map(str.strip),
    phone=st.one_of(st.none(), _phone),
    email=st.one_of(st.none(), _email),
    notes=_text.map(str.strip),
    lists=st.lists(_text.map(str.strip).filter(bool), max_size=3, unique=True),
).filter(lambda c: c.phone is not None or c.email is not None)


def _same(record, contact: ExportContact) -> bool:
    return (
        isinstance(record, ContactRecord)
        and record.name == contact.name
        and record.phone == contact.phone
        and record.email == contact.email
        and record.notes == contact.notes
        and record.lists == tuple(contact.lists)
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(_contact, max_size=5))
def test_csv_round_trip(contacts):
    data = "".join(write_csv(contacts)).encode()
    records = list(parse_csv(io.BytesIO(data)))
    assert len(records) == len(contacts)
    for record, contact in zip(records, contacts, strict=True):
        assert _same(record, contact), (record, contact)


@settings(max_examples=150, deadline=None)
@given(st.lists(_contact, min_size=1, max_size=5), st.sampled_from(["3.0", "4.0"]))
def test_vcard_round_trip_and_vobject_reads_ours(contacts, version):
    text = "".join(write_vcard(contacts, version))
    records = list(parse_vcard(io.BytesIO(text.encode())))
    assert len(records) == len(contacts)
    for record, contact in zip(records, contacts, strict=True):
        assert _same(record, contact), (record, contact)
    # the oracle: a real vCard library reads the same values
    cards = list(vobject.readComponents(text))
    for card, contact in zip(cards, contacts, strict=True):
        assert card.fn.value == contact.name
        assert [e.value for e in card.contents.get("email", [])] == ([contact.email] if contact.email else [])
        notes = card.contents.get("note")
        assert (notes[0].value if notes else "") == contact.notes
        categories = card.contents.get("categories")
        assert (categories[0].value if categories else []) == contact.lists


@settings(max_examples=100, deadline=None)
@given(st.lists(_contact, min_size=1, max_size=4))
def test_we_read_what_vobject_writes(contacts):
    chunks = []
    for contact in contacts:
        card = vobject.vCard()
        card.add("fn").value = contact.name
        card.add("n").value = vobject.vcard.Name(family=contact.name)
        if contact.phone:
            tel = card.add("tel")
            tel.value = contact.phone
            tel.type_param = "CELL"
        if contact.email:
            card.add("email").value = contact.email
        if contact.notes:
            card.add("note").value = contact.notes
        if contact.lists:
            card.add("categories").value = contact.lists
        chunks.append(card.serialize())
    records = list(parse_vcard(io.BytesIO("".join(chunks).encode())))
    for record, contact in zip(records, contacts, strict=True):
        assert _same(record, contact), (record, contact)


# ---------------------------------------------------------------- fuzzing: only clear errors


def _consume(parser, data: bytes) -> None:
    try:
        for item in parser(io.BytesIO(data)):
            assert isinstance(item, ContactRecord | RecordError)
            if isinstance(item, RecordError):
                assert item.where.startswith(("line ", "card ")) and item.message
    except ContactsFormatError as exc:
        assert str(exc)


_csvish = st.lists(
    st.sampled_from(
        [
            b"name,phone,email\r\n",
            b"name;phone\n",
            b"Ann,+491711,\n",
            b'"',
            b",",
            b";",
            b"\n",
            b"\r",
            b"\x00",
            b"\xff",
            b"+12ab",
            b"a@b.c",
            b"'=x",
            b"\t",
        ]
    ),
    max_size=30,
)
_vcardish = st.lists(
    st.sampled_from(
        [
            b"BEGIN:VCARD\r\n",
            b"END:VCARD\r\n",
            b"VERSION:4.0\r\n",
            b"FN:x\r\n",
            b"TEL:+4911\r\n",
            b"EMAIL:a@b.c\r\n",
            b" folded\r\n",
            b"N;ENCODING=QUOTED-PRINTABLE:=\r\n",
            b"=C3=\r\n",
            b'TEL;TYPE="a:b":1\r\n',
            b":\r\n",
            b"\xff",
            b"\x00",
            b"\\",
            b";",
            b"CATEGORIES:a\\,b,\r\n",
            b"NOTE;ENCODING=b:!!\r\n",
            b"\n",
        ]
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), _csvish.map(b"".join)))
def test_csv_parser_never_crashes(data):
    _consume(parse_csv, data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), _vcardish.map(b"".join)))
def test_vcard_parser_never_crashes(data):
    _consume(parse_vcard, data)
