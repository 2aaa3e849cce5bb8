"""E-mail in the web UI: sanitised HTML, remote images blocked until allowed,
inline cid: images, attachments as safe downloads, and the conversation."""

from __future__ import annotations

import base64
import smtplib
import ssl

from psycopg.types.json import Jsonb

from msghub.connectors.base import Attachment
from msghub.connectors.pop3.inbound import read_fetched
from msghub.devtools.mailservers import PASSWORD
from msghub.email.build import MailSpec, build_mail, mail_bytes
from tests.email.support import pop3_config, smtp_config
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web.webkit import csrf_of, login, make_user, run_app

HTML = ('<p onclick="steal()">Hello <b>there</b><script>alert(1)</script>'
        '<img src="https://tracker.example/pixel.gif"><img src="cid:logo@x"></p>')


def _store(db, raw: bytes, uidl: str, owner: int) -> int:
    fetched = read_fetched(raw, uidl, len(raw), "hub").fetched
    message = fetched.message
    parts = [{"content_type": a.content_type, "filename": a.filename, "content_id": a.content_id,
              "data": base64.b64encode(a.data).decode()} for a in message.attachments]
    cid = db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES "
                     "(%s, 'pop3', '{email}', '{}') ON CONFLICT (name) DO UPDATE SET kind = 'pop3' RETURNING id",
                     ("mail-in",)).fetchone()["id"]
    mid = db.execute("SELECT hub.pop3_receive_v1(%s, %s, 'stored', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) AS id",
                     (cid, uidl, len(raw), message.sender, list(message.recipients), message.subject, message.text,
                      Jsonb(message.meta), Jsonb(parts), fetched.header_id, fetched.in_reply_to,
                      list(fetched.references))).fetchone()["id"]
    db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (owner, mid))
    return int(mid)


def test_html_mail_is_shown_sanitised_with_its_conversation(db_url, db):
    alice = make_user(db_url)
    logo = Attachment("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "logo.png", "logo@x")
    script = Attachment("text/html", b"<script>alert('x')</script>", "evil.html")
    first = mail_bytes(build_mail(MailSpec(sender="bob@example.org", to=("hub@example.test",), subject="Hi",
                                           text="Hello there", html=HTML, attachments=(logo, script),
                                           message_id="<first@example.org>")))
    answer = mail_bytes(build_mail(MailSpec(sender="carol@example.org", to=("hub@example.test",), subject="Re: Hi",
                                            text="me too", message_id="<second@example.org>",
                                            in_reply_to="<first@example.org>")))
    first_id = _store(db, first, "u1", alice)
    second_id = _store(db, answer, "u2", alice)

    async def scenario(client):
        await login(client)
        page = (await client.get(f"/messages/{first_id}")).text
        assert "<b>there</b>" in page and "alert(1)" not in page and "steal()" not in page
        assert "tracker.example" not in page and "Remote images are blocked" in page
        assert f"/messages/{first_id}/parts/" in page and "?inline=1" in page
        shown = (await client.get(f"/messages/{first_id}?images=1")).text
        assert "https://tracker.example/pixel.gif" in shown and "Remote images are blocked" not in shown
        conv = (await client.get(f"/messages/{second_id}")).text
        assert "Conversation" in conv and f'href="/messages/{first_id}"' in conv
        # the fragment a live page refreshes when an answer arrives
        fragment = (await client.get(f"/messages/{first_id}/conversation")).text
        assert fragment.startswith('<div id="conversation">') and f'href="/messages/{second_id}"' in fragment
        rows = db.execute("SELECT id, filename FROM hub.message_parts WHERE message_id = %s", (first_id,)).fetchall()
        evil = next(r["id"] for r in rows if r["filename"] == "evil.html")
        download = await client.get(f"/messages/{first_id}/parts/{evil}")
        assert download.headers["content-type"] == "application/octet-stream"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"

    run_app(db_url, scenario)


def test_a_user_sends_an_email_with_an_attachment_and_the_answer_joins_its_conversation(mailboxes, db_url, db):
    """The web compose page -> a real hub -> Postfix -> alice's mailbox; alice answers;
    Dovecot -> the hub's pop3 connection -> the sent mail's conversation on its page."""
    make_user(db_url, "ann")
    for name, kind, config in (("mail-out", "smtp", smtp_config(mailboxes)),
                               ("mail-in", "pop3", pop3_config(mailboxes, "hub", poll_interval_s=1))):
        db.execute("INSERT INTO hub.connections (name, kind, channels, config, is_default) VALUES (%s, %s, '{email}', "
                   "%s, %s)", (name, kind, Jsonb(config), kind == "smtp"))
    hub = start_hub(db_url)
    try:
        wait_for(lambda: {r["state"] for r in db.execute("SELECT state FROM hub.connections").fetchall()} == {"up"},
                 60, "both connections up")

        async def compose(client):
            await login(client, "ann")
            csrf = csrf_of((await client.get("/compose")).text)
            sent = await client.post("/compose", data={"csrf_token": csrf, "channel": "email",
                                                       "to": "alice@example.test", "subject": "Report",
                                                       "text": "The report is attached."},
                                     files={"files": ("report.pdf", b"%PDF-1.4 report", "application/pdf")})
            return sent.headers["location"]

        location = run_app(db_url, compose)
        sent_id = int(location.rsplit("/", 1)[1])
        header_id = wait_for(lambda: db.execute("SELECT header_id FROM hub.smtp_accepted WHERE message_id = %s",
                                                (sent_id,)).fetchone(), 60, "the mail accepted")["header_id"]
        wait_for(lambda: mailboxes.maildir_count("alice") == 1, 60, "the mail in alice's mailbox")
        raw = next((mailboxes.mail / "alice" / "Maildir" / "new").iterdir()).read_bytes()
        assert b'filename="report.pdf"' in raw and b"Subject: Report" in raw
        context = ssl.create_default_context(cafile=str(mailboxes.ca))
        with smtplib.SMTP("127.0.0.1", mailboxes.ports.smtp, timeout=10) as client:
            client.starttls(context=context)
            client.login("alice@example.test", PASSWORD)
            client.sendmail("alice@example.test", ["hub@example.test"],
                            (f"From: alice@example.test\r\nTo: hub@example.test\r\nSubject: Re: Report\r\n"
                             f"In-Reply-To: {header_id}\r\nMessage-ID: <thanks@example.test>\r\n\r\n"
                             "Thanks, got it.\r\n").encode())
        answer = wait_for(lambda: db.execute("SELECT message_id FROM hub.email_threads WHERE header_id = "
                                             "'<thanks@example.test>'").fetchone(), 60, "the answer fetched")
        db.execute("UPDATE hub.messages SET owner_user_id = (SELECT id FROM hub.users WHERE username = 'ann') "
                   "WHERE id = %s", (answer["message_id"],))

        async def view(client):
            await login(client, "ann")
            return (await client.get(location)).text

        page = run_app(db_url, view)
        assert "Conversation" in page and f'href="/messages/{answer["message_id"]}"' in page
    finally:
        assert stop_hub(hub) == 0


def test_connection_test_and_check_now_from_the_connections_page(mailboxes, db_url, db):
    make_user(db_url, "root", role="admin")
    cid = db.execute("INSERT INTO hub.connections (name, kind, channels, config, enabled) VALUES "
                     "('mail-in', 'pop3', '{email}', %s, false) RETURNING id",
                     (Jsonb(pop3_config(mailboxes, "bob")),)).fetchone()["id"]
    out = db.execute("INSERT INTO hub.connections (name, kind, channels, config, enabled) VALUES "
                     "('mail-out', 'smtp', '{email}', %s, false) RETURNING id",
                     (Jsonb(smtp_config(mailboxes, password="wrong")),)).fetchone()["id"]
    for i in range(2):
        mailboxes.drop_mail("bob", f"From: x@example.org\r\nSubject: c{i}\r\n\r\nbody\r\n".encode(), f"c{i}")

    async def scenario(client):
        await login(client, "root")
        csrf = csrf_of((await client.get("/connections")).text)
        tested = (await client.post(f"/connections/{cid}/test", data={"csrf_token": csrf})).text
        refused = (await client.post(f"/connections/{out}/test", data={"csrf_token": csrf})).text
        checked = (await client.post(f"/connections/{cid}/check", data={"csrf_token": csrf})).text
        again = (await client.post(f"/connections/{cid}/check", data={"csrf_token": csrf})).text
        return tested, refused, checked, again

    tested, refused, checked, again = run_app(db_url, scenario)
    assert "Worked: logged in to 127.0.0.1" in tested and "2 mails in the mailbox" in tested
    assert "Failed:" in refused and "535" in refused
    assert "stored 2" in checked and "stored 0" in again
    assert [r["subject"] for r in db.execute("SELECT subject FROM hub.messages ORDER BY subject").fetchall()] == [
        "c0", "c1"]


def test_an_sms_and_its_email_answer_share_a_conversation_page(db_url, db):
    ann = make_user(db_url, "ann")
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES "
               "('sms', 'loopback', '{sms}', '{}'), ('mail-out', 'smtp', '{email}', '{}')")
    db.execute("INSERT INTO hub.contacts (name, phone, email) VALUES ('Alice', '+447700900555', 'alice@example.test')")
    sms = db.execute("SELECT hub.receive_message_v1((SELECT id FROM hub.connections WHERE name = 'sms'), 'sms', "
                     "'+447700900555', ARRAY['+15550000'], NULL, 'call me') AS id").fetchone()["id"]
    db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (ann, sms))
    db.execute("SELECT hub.auto_reply_v2(%s, 'Calling at 10', 'email', NULL, NULL, false, NULL, 'test')", (sms,))
    answer = db.execute("SELECT id, recipients, subject FROM hub.messages WHERE channel = 'email'").fetchone()
    assert answer["recipients"] == ["alice@example.test"] and answer["subject"] == "Re: SMS from +447700900555"

    async def scenario(client):
        await login(client, "ann")
        return (await client.get(f"/messages/{sms}")).text, (await client.get(f"/messages/{answer['id']}")).text

    sms_page, answer_page = run_app(db_url, scenario)
    assert "Conversation" in sms_page and f'href="/messages/{answer["id"]}"' in sms_page
    assert f'href="/messages/{sms}"' in answer_page
