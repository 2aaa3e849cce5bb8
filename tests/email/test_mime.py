"""The MIME codec: outbound mails read back the same, received mails read right, malformed ones kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from msghub.connectors.base import Attachment
from msghub.email.build import MailSpec, build_mail, mail_bytes, make_message_id
from msghub.email.dsn import read_status
from msghub.email.errors import MailBuildError, MailParseError
from msghub.email.parse import parse_mail
from msghub.email.sanitize import has_remote_images, sanitize_html
from tests.email.corpus import MALFORMED


def _spec(**kw: object) -> MailSpec:
    base: dict[str, object] = {"sender": "hub@example.test", "to": ("alice@example.test",), "subject": "Hello",
                               "text": "Hi there"}
    base.update(kw)
    return MailSpec(**base)  # type: ignore[arg-type]


def test_a_built_mail_reads_back_with_every_part():
    pdf = Attachment("application/pdf", b"%PDF-1.4 " + bytes(range(256)) * 20, "Résumé très long \u2013 2026.pdf")
    image = Attachment("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "logo.png", "logo@hub")
    raw = mail_bytes(build_mail(_spec(
        subject="Grüße ☃ and a very long subject line that must be folded because it is longer than 78 chars",
        text="Zwei Zeilen\nmit Ümlauten\n.leading dot", html='<p>Hi <img src="cid:logo@hub"></p>',
        attachments=(pdf, image), message_id="<m1@example.test>", in_reply_to="<q@x>", references=("<p@x>",),
        reply_to="replies@example.test", sender_name="Hub, the \"one\"",
        date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))))
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    mail = parse_mail(raw)
    assert mail.subject.startswith("Grüße ☃") and mail.subject.endswith("78 chars")
    assert mail.text == "Zwei Zeilen\nmit Ümlauten\n.leading dot\n"
    assert mail.html is not None and "cid:logo@hub" in mail.html
    assert mail.sender == "hub@example.test" and mail.to == ("alice@example.test",)
    assert mail.reply_to == "replies@example.test"
    assert mail.message_id == "<m1@example.test>" and mail.in_reply_to == "<q@x>"
    assert mail.references == ("<p@x>", "<q@x>")
    assert mail.date == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert [(a.filename, a.content_type, a.data) for a in mail.attachments] == [
        (pdf.filename, pdf.content_type, pdf.data), ("logo.png", "image/png", image.data)]
    assert mail.attachments[1].content_id == "logo@hub"
    assert mail.notes == ()
    # RFC 2231 names: non-ASCII file names are parameter-encoded, not raw bytes
    assert b"filename*" in raw and "Résumé".encode() not in raw


def test_plain_mail_is_not_multipart():
    raw = mail_bytes(build_mail(_spec()))
    assert b"multipart" not in raw and b"Content-Type: text/plain" in raw


def test_message_ids_are_stable_per_message():
    assert make_message_id(7, "example.test", "smtp") == make_message_id(7, "example.test", "smtp")
    assert make_message_id(7, "example.test", "smtp") != make_message_id(8, "example.test", "smtp")
    with pytest.raises(MailBuildError):
        make_message_id(7, "bad domain")


@pytest.mark.parametrize("spec, message", [
    (_spec(sender="not an address"), "sender"),
    (_spec(to=()), "at least one recipient"),
    (_spec(to=("x@y\r\nBcc: evil@x",)), "recipient"),
    (_spec(subject="two\r\nBcc: evil@example.org"), "subject must be one line"),
    (_spec(in_reply_to="<a>\nX: y"), "In-Reply-To"),
])
def test_header_injection_and_bad_addresses_are_refused(spec, message):
    with pytest.raises(MailBuildError, match=message):
        build_mail(spec)


def test_encoded_words_and_charsets_are_decoded():
    raw = (b"From: =?iso-8859-1?q?J=F6rg?= <Joerg@Example.ORG>\r\nTo: a@example.test, B <b@example.test>\r\n"
           b"Cc: c@example.test, a@example.test\r\nSubject: =?utf-8?B?4pyTIGRvbmU=?= =?iso-8859-1?Q?_caf=E9?=\r\n"
           b"Content-Type: text/plain; charset=iso-8859-15\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"Preis: 5 =A4\r\n")
    mail = parse_mail(raw)
    assert mail.sender == "joerg@example.org"
    assert mail.subject == "✓ done café"
    assert mail.text == "Preis: 5 €\n"
    assert mail.recipients == ("a@example.test", "b@example.test", "c@example.test")


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_mails_are_kept_with_a_note(name):
    mail = parse_mail(MALFORMED[name])
    kept = mail.text + (mail.html or "") + "".join(a.data.decode("latin-1") for a in mail.attachments)
    # lenient decoding reads these without complaint (bad-qp keeps "=ZZ" literally)
    if name not in ("bad-date", "bad-addresses", "8bit-headers", "no-headers", "deep-nesting", "bad-qp"):
        assert mail.notes, f"{name}: no note says what was wrong"
    assert kept.strip() or mail.subject, f"{name}: nothing was kept"
    for att in mail.attachments:
        assert att.filename is None or ("/" not in att.filename and "\\" not in att.filename)


def test_specific_notes():
    assert any("unknown character set" in n for n in parse_mail(MALFORMED["unknown-charset"]).notes)
    assert "café" in parse_mail(MALFORMED["unknown-charset"]).text
    wrong = parse_mail(MALFORMED["wrong-charset"])
    assert "not valid in its character set" in " ".join(wrong.notes) and "caf" in wrong.text
    assert parse_mail(MALFORMED["8bit-headers"]).subject is not None
    assert parse_mail(MALFORMED["bad-date"]).date is None
    assert [n for n in parse_mail(MALFORMED["bad-date"]).notes if "date" in n]
    assert parse_mail(MALFORMED["path-filename"]).attachments[0].filename == "passwd"
    assert "bottom" in parse_mail(MALFORMED["deep-nesting"]).text or parse_mail(MALFORMED["deep-nesting"]).notes


def test_not_a_mail_is_a_parse_error():
    with pytest.raises(MailParseError):
        parse_mail(b"")
    with pytest.raises(MailParseError):
        parse_mail("text")  # type: ignore[arg-type]


POSTFIX_BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@example.test>\r\nTo: hub@example.test\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"B1\"\r\n\r\n"
    b"--B1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI'm sorry to have to inform you...\r\n\r\n"
    b"--B1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.example.test\r\n"
    b"Original-Envelope-Id: msghub.42\r\nArrival-Date: Wed,  2 Dec 2026 00:36:55 +0000 (UTC)\r\n\r\n"
    b"Final-Recipient: rfc822; x@gone.example.test\r\nOriginal-Recipient: rfc822;x@gone.example.test\r\n"
    b"Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: x-unix; mailbox gone\r\n for good\r\n\r\n"
    b"--B1\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: hi\r\nMessage-ID: <abc@x>\r\n"
    b"From: hub@example.test\r\n\r\n--B1--\r\n")


def test_a_postfix_bounce_names_the_message_and_the_reason():
    status = read_status(parse_mail(POSTFIX_BOUNCE))
    assert status is not None
    assert status.original_message_id == "<abc@x>" and status.envelope_id == "msghub.42"
    assert status.outcome == "failed"
    assert status.reason == "x@gone.example.test: 5.1.1 mailbox gone for good"


def test_a_delivered_dsn_and_an_ordinary_mail():
    delivered = POSTFIX_BOUNCE.replace(b"Action: failed", b"Action: delivered").replace(b"Status: 5.1.1",
                                                                                         b"Status: 2.0.0")
    status = read_status(parse_mail(delivered))
    assert status is not None and status.outcome == "delivered" and status.reason is None
    assert read_status(parse_mail(mail_bytes(build_mail(_spec())))) is None


def test_html_is_sanitised_and_remote_images_blocked():
    html = ('<p onclick="steal()">Hi<script>alert(1)</script><img src="https://tracker.example/p.gif">'
            '<img src="cid:logo"><a href="javascript:alert(1)">x</a><a href="https://ok.example/">ok</a>'
            '<style>body{background:url(https://t.example/)}</style><iframe src="https://x"></iframe></p>')
    clean = sanitize_html(html, cid_url={"logo": "/messages/1/parts/2"})
    assert "script" not in clean and "onclick" not in clean and "javascript" not in clean
    assert "tracker.example" not in clean and "iframe" not in clean and "t.example" not in clean
    assert 'src="/messages/1/parts/2"' in clean
    assert 'href="https://ok.example/"' in clean and "noopener" in clean
    assert has_remote_images(html)
    assert "tracker.example" in sanitize_html(html.replace("https://tracker", "https://tracker"),
                                              allow_remote_images=True)
