"""A send form's MMS (picture) and e-mail channels through the app: only
the channels the form allows, the picture checked by its bytes and size,
e-mail recipients under the form's allowed domains."""

from __future__ import annotations

import re

from msghub.gateway import forms
from tests.gateway.test_send_form import _cli, _token, image
from tests.web_admin.helpers import run, user


def _setup(db, db_url, *channels: str) -> None:
    db.execute("INSERT INTO hub.connections (name, kind, channels, enabled) "
               "VALUES ('loop', 'loopback', '{sms,mms,email}', true)")
    user(db_url, "owner")
    args = [a for c in channels for a in ("--channel", c)]
    done = _cli(db_url, "form", "set", "desk", "--title", "Desk", "--owner", "owner", "--login", "kiosk",
                "--prefix", "+49", "--prefix", "@example.org", "--rate", "100", *args)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mms_and_email_where_the_form_allows_them(db_url, db):
    _setup(db, db_url, "sms", "mms", "email")
    picture = image("JPEG", (64, 48))

    async def scenario(client):
        page = await client.get("/g/desk")

        async def post(data, files=None):
            fresh = await client.get("/g/desk")
            return await client.post("/g/desk", data={"token": _token(fresh.text), **data}, files=files)

        mms = await post({"channel": "mms", "to": "+4917012345", "subject": "Gate 4", "text": "see photo"},
                         {"picture": ("gate.jpg", picture, "image/jpeg")})
        picture_only = await post({"channel": "mms", "to": "+4917012345"},
                                  {"picture": ("gate.jpg", picture, "image/jpeg")})
        not_image = await post({"channel": "mms", "to": "+4917012345", "text": "x"},
                               {"picture": ("gate.jpg", b"\xff\xd8\xff<html>", "image/jpeg")})
        too_big = await post({"channel": "mms", "to": "+4917012345", "text": "x"},
                             {"picture": ("big.gif", b"GIF89a" + bytes(forms.MAX_PICTURE_BYTES), "image/gif")})
        email = await post({"channel": "email", "to": "ann@example.org", "subject": "Hello", "text": "Dear Ann"})
        other_domain = await post({"channel": "email", "to": "eve@evil.example", "subject": "x", "text": "x"})
        number_as_domain = await post({"channel": "sms", "to": "@example.org", "text": "x"})
        empty = await post({"channel": "mms", "to": "+4917012345"})
        return page, mms, picture_only, not_image, too_big, email, other_domain, number_as_domain, empty

    page, mms, picture_only, not_image, too_big, email, other_domain, number_as_domain, empty = run(db_url, scenario)
    assert 'enctype="multipart/form-data"' in page.text
    assert re.findall(r'name="channel" value="(\w+)"', page.text) == ["sms", "mms", "email"]
    assert 'name="picture"' in page.text and 'id="translit-preview"' in page.text
    assert mms.status_code == 200 and "Status:" in mms.text
    assert picture_only.status_code == 200
    assert not_image.status_code == 400 and "not a readable JPEG" in not_image.text
    assert too_big.status_code in (400, 413) and ("too large" in too_big.text or "at most" in too_big.text)
    assert email.status_code == 200
    assert other_domain.status_code == 400 and "cannot send to that address" in other_domain.text
    assert number_as_domain.status_code == 400
    assert empty.status_code == 400 and "Give a number and a picture or a message" in empty.text
    rows = db.execute("SELECT m.channel, m.recipients[1] AS to, m.subject, "
                      "(SELECT array_agg(p.content_type ORDER BY p.seq) FROM hub.message_parts p "
                      " WHERE p.message_id = m.id) AS parts FROM hub.messages m ORDER BY m.id").fetchall()
    assert rows == [
        {"channel": "mms", "to": "+4917012345", "subject": "Gate 4", "parts": ["image/jpeg"]},
        {"channel": "mms", "to": "+4917012345", "subject": None, "parts": ["image/jpeg"]},
        {"channel": "email", "to": "ann@example.org", "subject": "Hello", "parts": None}]
    stored = db.execute("SELECT data FROM hub.message_parts ORDER BY message_id LIMIT 1").fetchone()["data"]
    assert bytes(stored) == picture


def test_a_channel_the_form_does_not_allow_is_refused(db_url, db):
    _setup(db, db_url)  # sms only (the default)

    async def scenario(client):
        page = await client.get("/g/desk")
        refused = await client.post("/g/desk", data={"token": _token(page.text), "channel": "email",
                                                     "to": "ann@example.org", "subject": "s", "text": "t"})
        async def unknown_length():
            yield b"token=x&to=%2B4917012345&text=hi"

        chunked = await client.post("/g/desk", content=unknown_length(),
                                    headers={"content-type": "application/x-www-form-urlencoded"})
        return page, refused, chunked

    page, refused, chunked = run(db_url, scenario)
    assert chunked.status_code == 413
    assert 'name="channel" value="sms"' in page.text and 'type="radio"' not in page.text
    assert 'name="picture"' not in page.text and "multipart" not in page.text
    assert refused.status_code == 400 and "does not send that kind" in refused.text
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0
