"""The compose page: queues through hub.outbox as the user, shows the
outbox trigger's refusals next to the field, uploads attachments."""

from __future__ import annotations

import re

from tests.web.webkit import csrf_of, login, make_user, run_app


def _setup(db, db_url) -> int:
    alice = make_user(db_url, "alice", role="operator")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms,mms,email}')")
    db.execute("INSERT INTO hub.contacts (name, phone, owner_user_id) VALUES ('Ann <b>', '+15550111', %s)", (alice,))
    return alice


def _field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="err-{name}" role="alert">([^<]*)</p>', html)
    return match.group(1) if match else ""


def test_compose_queues_an_sms_as_the_user(db_url, db):
    alice = _setup(db, db_url)

    async def scenario(client):
        await login(client)
        page = await client.get("/compose")
        sent = await client.post(
            "/compose",
            data={
                "csrf_token": csrf_of(page.text),
                "channel": "sms",
                "to": "Ann <+15550111>, +15550222",
                "text": "hello from the web",
                "delivery_report": "on",
                "priority": "2",
            },
        )
        return page, sent

    page, sent = run_app(db_url, scenario)
    # the address book is searched as one types, not sent with the page
    assert page.status_code == 200 and "+15550111" not in page.text
    assert sent.status_code == 303 and sent.headers["location"].startswith("/folders/outbox?queued=")
    rows = db.execute(
        "SELECT recipients, body, owner_user_id, created_by, delivery_report, priority FROM hub.messages ORDER BY id"
    ).fetchall()
    assert [r["recipients"] for r in rows] == [["+15550111"], ["+15550222"]]
    assert all(
        r["created_by"] == alice == r["owner_user_id"] and r["delivery_report"] and r["priority"] == 2 for r in rows
    )


def test_refusals_appear_next_to_their_field(db_url, db):
    _setup(db, db_url)

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        no_to = await client.post("/compose", data={"csrf_token": csrf, "channel": "sms", "text": "x"})
        no_text = await client.post("/compose", data={"csrf_token": csrf, "channel": "sms", "to": "+15550111"})
        expired = await client.post(
            "/compose",
            data={
                "csrf_token": csrf,
                "channel": "sms",
                "to": "+15550111",
                "text": "x",
                "valid_until": "2001-01-01T10:00",
            },
        )
        sms_file = await client.post(
            "/compose",
            data={"csrf_token": csrf, "channel": "sms", "to": "+15550111"},
            files={"files": ("a.png", b"\x89PNG", "image/png")},
        )
        bad_number = await client.post(
            "/compose",
            data={"csrf_token": csrf, "channel": "sms", "to": "call me", "text": "<script>alert(1)</script>"},
        )
        forged = await client.post(
            "/compose", data={"csrf_token": "nope", "channel": "sms", "to": "+15550111", "text": "x"}
        )
        return no_to, no_text, expired, sms_file, bad_number, forged

    no_to, no_text, expired, sms_file, bad_number, forged = run_app(db_url, scenario)
    assert no_to.status_code == 400 and _field_error(no_to.text, "to").startswith("Add at least one recipient")
    assert _field_error(no_text.text, "text").startswith("Write some text")
    assert _field_error(expired.text, "valid_until").startswith("That expiry time has passed")
    assert _field_error(sms_file.text, "files").startswith("An SMS cannot carry files")
    assert "call me" in _field_error(bad_number.text, "to")
    # what was typed comes back, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in bad_number.text
    assert forged.status_code == 403
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0


def test_mms_with_an_image_keeps_the_part(db_url, db):
    _setup(db, db_url)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        sent = await client.post(
            "/compose",
            data={"csrf_token": csrf, "channel": "mms", "to": "+15550111", "subject": "pic", "text": "see"},
            files={"files": ("cat.png", png, "image/png")},
        )
        view = await client.get(sent.headers["location"])
        return sent, view

    sent, view = run_app(db_url, scenario)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/messages/")
    part = db.execute("SELECT content_type, filename, data FROM hub.message_parts").fetchone()
    assert (part["content_type"], part["filename"], bytes(part["data"])) == ("image/png", "cat.png", png)
    assert 'class="slide-part part-image"' in view.text and "?inline=1" in view.text  # a slide of its own


def test_reply_prefills_the_sender(db_url, db):
    _setup(db, db_url)
    mid = db.execute(
        "SELECT hub.receive_message_v1(1, 'email', 'ann@example.org', '{desk@example.org}', 'Question', 'hi') AS id"
    ).fetchone()["id"]

    async def scenario(client):
        await login(client)
        return await client.get(f"/compose?reply_to={mid}")

    page = run_app(db_url, scenario)
    assert 'value="ann@example.org"' in page.text and 'value="Re: Question"' in page.text
    assert re.search(r'value="email" checked', page.text)


def test_deferred_and_expiring_in_the_browsers_time_zone(db_url, db):
    _setup(db, db_url)

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        # a browser two hours east of UTC (getTimezoneOffset() = -120)
        return await client.post(
            "/compose",
            data={
                "csrf_token": csrf,
                "channel": "sms",
                "to": "+15550111",
                "text": "later",
                "tz_offset": "-120",
                "send_at": "2099-05-01T12:00",
                "valid_until": "2099-05-02T08:30",
                "priority": "0",
            },
        )

    sent = run_app(db_url, scenario)
    assert sent.status_code == 303
    row = db.execute(
        "SELECT to_char(send_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS s, "
        "to_char(valid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS v, priority, status "
        "FROM hub.messages"
    ).fetchone()
    assert (row["s"], row["v"], row["priority"], row["status"]) == ("2099-05-01 10:00", "2099-05-02 06:30", 0, "queued")


def test_expiry_before_sending_is_explained(db_url, db):
    _setup(db, db_url)

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        return await client.post(
            "/compose",
            data={
                "csrf_token": csrf,
                "channel": "sms",
                "to": "+15550111",
                "text": "x",
                "send_at": "2099-05-02T12:00",
                "valid_until": "2099-05-01T12:00",
            },
        )

    page = run_app(db_url, scenario)
    assert page.status_code == 400
    assert _field_error(page.text, "send_at").startswith("The message would expire before it is sent")
