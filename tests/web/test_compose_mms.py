"""Composing an MMS: uploads typed by their bytes, and pictures over the MMS
size class scaled and re-encoded to fit instead of refused."""

from __future__ import annotations

import io

import pytest

from tests.web.webkit import csrf_of, login, make_user, run_app

Image = pytest.importorskip("PIL.Image")


def _setup(db, db_url) -> None:
    make_user(db_url, "alice", role="operator")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms,mms,email}')")


def _noise_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((width, height), 90).convert("RGB").save(out, "PNG")
    return out.getvalue()


def _send(db_url, files, channel="mms"):
    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        return await client.post("/compose", data={"csrf_token": csrf, "channel": channel, "to": "+15550111",
                                                   "text": "look"}, files=files)  # fmt: skip

    return run_app(db_url, scenario)


def _parts(db):
    return db.execute(
        "SELECT content_type, filename, length(data) AS size FROM hub.message_parts p "
        "JOIN hub.messages m ON m.id = p.message_id WHERE m.direction = 'out' ORDER BY seq"
    ).fetchall()


def test_an_upload_is_typed_by_its_bytes(db_url, db):
    _setup(db, db_url)
    png = _noise_png(40, 30)
    sent = _send(db_url, {"files": ("photo.jpg", png, "image/jpeg")})
    assert sent.status_code == 303
    assert [(p["content_type"], p["filename"]) for p in _parts(db)] == [("image/png", "photo.jpg")]


def test_a_picture_over_the_size_class_is_scaled_to_fit(db_url, db):
    _setup(db, db_url)
    db.execute("UPDATE hub.settings SET value = '60000' WHERE key = 'mms_max_bytes'")
    big = _noise_png(900, 700)
    assert len(big) > 60000
    sent = _send(db_url, [("files", ("big.png", big, "image/png")), ("files", ("note.txt", b"hello", "text/plain"))])
    assert sent.status_code == 303
    parts = _parts(db)
    kinds = [(p["content_type"], p["filename"]) for p in parts]
    assert kinds == [("image/jpeg", "big.jpg"), ("text/plain", "note.txt")]
    assert sum(p["size"] for p in parts) <= 60000


def test_what_cannot_fit_is_still_refused(db_url, db):
    _setup(db, db_url)
    db.execute("UPDATE hub.settings SET value = '100' WHERE key = 'mms_max_bytes'")
    sent = _send(db_url, {"files": ("big.png", _noise_png(300, 300), "image/png")})
    assert sent.status_code == 400 and "limit of 100 bytes" in sent.text
    assert _parts(db) == []


def _send_copies(db_url, channel, cc, bcc, to="+15550111"):
    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        sent = await client.post("/compose", data={"csrf_token": csrf, "channel": channel, "to": to, "text": "hi",
                                                   "cc": cc, "bcc": bcc})  # fmt: skip
        page = await client.get(sent.headers["location"]) if sent.status_code == 303 else sent
        return sent, page

    return run_app(db_url, scenario)


def test_an_mms_with_cc_and_bcc_is_one_message_with_its_copies(db_url, db):
    _setup(db, db_url)
    db.execute("INSERT INTO hub.contacts (name, phone) VALUES ('Bob Builder', '+15550133')")
    sent, page = _send_copies(db_url, "mms", "+1 555 0122, Bob Builder", "carol@example.org")
    assert sent.status_code == 303
    row = db.execute("SELECT recipients, meta FROM hub.messages").fetchone()
    assert row["recipients"] == ["+15550111"]
    assert row["meta"] == {"cc": ["+15550122", "+15550133"], "bcc": ["carol@example.org"]}
    assert '<dd id="cc">+15550122, +15550133</dd>' in page.text and '<dd id="bcc">carol@example.org</dd>' in page.text


def test_copies_are_refused_for_other_channels_and_several_recipients(db_url, db):
    _setup(db, db_url)
    sent, _ = _send_copies(db_url, "sms", "+15550122", "")
    assert sent.status_code == 400 and "Only an MMS has copies" in sent.text
    sent, _ = _send_copies(db_url, "mms", "", "+15550122", to="+15550111, +15550112")
    assert sent.status_code == 400 and 'id="err-bcc"' in sent.text
    assert "Copies go with one recipient, not 2" in sent.text
    sent, _ = _send_copies(db_url, "mms", "Nobody Known", "")
    assert sent.status_code == 400 and 'id="err-cc"' in sent.text
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0
