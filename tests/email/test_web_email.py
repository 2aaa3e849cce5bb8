"""E-mail in the web UI: sanitised HTML, remote images blocked until allowed,
inline cid: images, attachments as safe downloads, and the conversation."""

from __future__ import annotations

import base64

from psycopg.types.json import Jsonb

from msghub.connectors.base import Attachment
from msghub.connectors.pop3.inbound import read_fetched
from msghub.email.build import MailSpec, build_mail, mail_bytes
from tests.web.webkit import login, make_user, run_app

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
        rows = db.execute("SELECT id, filename FROM hub.message_parts WHERE message_id = %s", (first_id,)).fetchall()
        evil = next(r["id"] for r in rows if r["filename"] == "evil.html")
        download = await client.get(f"/messages/{first_id}/parts/{evil}")
        assert download.headers["content-type"] == "application/octet-stream"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"

    run_app(db_url, scenario)
