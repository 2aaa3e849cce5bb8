"""Issue 18, items 2 to 4, through the ASGI app: what the channel cannot carry
is refused before it is queued (attachments kept), "no route" in words with a
link for admins, the feedback of the outbox and the lists, the start page."""

from __future__ import annotations

import base64
import html
import json
import re

from tests.web.webkit import csrf_of, login, make_user, run_app


def _field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="err-{name}" role="alert">([^<]*)</p>', html)
    return match.group(1) if match else ""


def _loop(db) -> None:
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms,mms,email}')")


def test_an_sms_too_long_to_send_is_refused_with_the_reason(db_url, db):
    make_user(db_url, "alice")
    _loop(db)

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        return await client.post(
            "/compose", data={"csrf_token": csrf, "channel": "sms", "to": "+15550111", "text": "x" * 100_000}
        )

    page = run_app(db_url, scenario)
    assert page.status_code == 400
    reason = _field_error(page.text, "text")
    assert reason.startswith("This text needs 654 SMS; a message can be split into at most 255")
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 0


def test_a_refused_mms_keeps_its_attachments(db_url, db):
    make_user(db_url, "alice")
    _loop(db)
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (700 * 1024)

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        refused = await client.post(
            "/compose",
            data={"csrf_token": csrf, "channel": "mms", "to": "", "subject": "pic", "text": "see"},
            files={"files": ("cat.png", png, "image/png")},
        )
        kept = re.findall(r'name="kept_file" value="([^"]+)"', refused.text)
        again = await client.post(
            "/compose",
            data={
                "csrf_token": csrf,
                "channel": "mms",
                "to": "+15550111",
                "subject": "pic",
                "text": "see",
                "kept_file": [html.unescape(k) for k in kept],
            },
        )
        too_big = await client.post(
            "/compose",
            data={"csrf_token": csrf, "channel": "mms", "to": "+15550111", "text": "big"},
            files={"files": ("big.png", big, "image/png")},
        )
        return refused, kept, again, too_big

    refused, kept, again, too_big = run_app(db_url, scenario)
    assert refused.status_code == 400 and _field_error(refused.text, "to").startswith("Add at least one recipient")
    assert len(kept) == 1 and json.loads(html.unescape(kept[0]))["filename"] == "cat.png"
    assert "cat.png (1 KB, kept from before)" in refused.text
    assert again.status_code == 303
    part = db.execute("SELECT filename, data FROM hub.message_parts WHERE filename IS NOT NULL").fetchone()
    assert (part["filename"], bytes(part["data"])) == ("cat.png", png)
    reason = _field_error(too_big.text, "files")
    assert reason.startswith("The files are 700 KB together; an MMS carries at most 600 KB")
    assert "big.png" in too_big.text  # kept for a smaller channel or a fix
    assert base64.b64encode(big[:30]).decode()[:20] in too_big.text


def test_no_route_says_what_to_do_and_links_admins(db_url, db):
    make_user(db_url, "alice", role="operator")
    make_user(db_url, "root", role="admin")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('a', 'loopback', '{sms}'), "
               "('b', 'loopback', '{sms}')")

    async def scenario(client, name):
        await login(client, name)
        csrf = csrf_of((await client.get("/compose")).text)
        return await client.post(
            "/compose", data={"csrf_token": csrf, "channel": "sms", "to": "+15550111", "text": "hi"}
        )

    operator = run_app(db_url, lambda c: scenario(c, "alice"))
    admin = run_app(db_url, lambda c: scenario(c, "root"))
    for page in (operator, admin):
        assert _field_error(page.text, "connection").startswith("No connection is set up to carry this message")
    assert 'id="route-help"' not in operator.text
    assert 'id="route-help"' in admin.text and 'href="/connections"' in admin.text


def test_a_send_to_a_list_of_6000_says_how_many_and_follows_them(db_url, db):
    alice = make_user(db_url, "alice")
    _loop(db)
    list_id = db.execute("INSERT INTO hub.lists (name, owner_user_id) VALUES ('all', %s) RETURNING id",
                         (alice,)).fetchone()["id"]
    db.execute(
        "WITH c AS (INSERT INTO hub.contacts (name, phone, owner_user_id) "
        "  SELECT 'c' || n, '+4793' || lpad(n::text, 6, '0'), %s FROM generate_series(1, 6000) n RETURNING id) "
        "INSERT INTO hub.list_members (list_id, contact_id) SELECT %s, id FROM c",
        (alice, list_id),
    )

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        sent = await client.post("/compose", data={"csrf_token": csrf, "channel": "sms", "list": "all", "text": "hi"})
        outbox = await client.get(sent.headers["location"])
        oid = sent.headers["location"].rsplit("=", 1)[1]
        db.execute("UPDATE hub.messages SET status = 'sent' WHERE id IN "
                   "(SELECT id FROM hub.messages ORDER BY id LIMIT 1500)")
        progress = await client.get(f"/outbox/{oid}/progress")
        return outbox, progress.json()

    outbox, progress = run_app(db_url, scenario)
    assert '<strong id="queued-total">6,000 messages queued</strong>' in outbox.text
    assert '<progress id="queued-progress" max="6000" value="0">' in outbox.text
    assert (progress["total"], progress["sent"], progress["waiting"]) == (6000, 1500, 4500)


def test_outbox_rows_show_the_scheduled_time_and_the_priority(db_url, db):
    make_user(db_url, "alice")
    _loop(db)

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/compose")).text)
        await client.post(
            "/compose",
            data={"csrf_token": csrf, "channel": "sms", "to": "+15550111", "text": "later", "tz_offset": "0",
                  "send_at": "2099-05-01T12:00", "priority": "3"},
        )
        return await client.get("/folders/outbox")

    page = run_app(db_url, scenario)
    scheduled = r'<span class="scheduled"[^>]*>at <time datetime="2099-05-01T12:00:00\+00:00">2099-05-01 12:00</time>'
    assert re.search(scheduled, page.text)
    assert '<span class="priority priority-3">urgent</span>' in page.text


def test_a_failed_message_does_not_read_sent_and_a_recovered_connection_drops_its_error(db_url, db):
    make_user(db_url, "alice", role="admin")
    db.execute(
        "INSERT INTO hub.connections (name, kind, channels, state, state_since, last_error, last_error_at) VALUES "
        "('up-again', 'loopback', '{sms}', 'up', now(), 'connection refused', now() - interval '1 hour'), "
        "('still-down', 'loopback', '{sms}', 'down', now() - interval '1 hour', 'timed out', now())"
    )
    mid = db.execute(
        "INSERT INTO hub.messages (channel, direction, recipients, body, status, failure_reason) "
        "VALUES ('sms', 'out', '{+15550111}', 'x', 'failed', 'rejected') RETURNING id"
    ).fetchone()["id"]

    async def scenario(client):
        await login(client)
        return await client.get(f"/messages/{mid}"), await client.get("/connections"), await client.get("/status")

    message, connections, status = run_app(db_url, scenario)
    assert "<dd>sms (outgoing)</dd>" in message.text and "(sent)" not in message.text
    for page in (connections, status):
        assert "timed out" in page.text and "connection refused" not in page.text


def test_the_rule_list_speaks_in_words_and_cuts_with_an_ellipsis(db_url, db):
    make_user(db_url, "alice", role="admin")
    long = "Answers every message that arrives outside opening hours with a polite note about when the office " \
           "opens again, and files the message in the folder for the morning shift to read first."
    db.execute(
        "INSERT INTO hub.rules (name, events, source) VALUES ('closed', '{message_received,http_response}', %s)",
        ("// " + long[:90] + "\n// " + long[90:] + "\nreturn [];",),
    )

    async def scenario(client):
        await login(client)
        return await client.get("/rules")

    page = run_app(db_url, scenario)
    summary = re.search(r'<td class="summary">([^<]*)</td>', page.text).group(1)
    assert summary.endswith("…") and len(summary) <= 140 and summary.startswith("Answers every message")
    assert not summary[:-1].endswith(" ")
    assert "a message arrives, or a web call answers" in page.text


def test_the_start_page_is_the_inbox_and_an_admin_may_choose_status(db_url, db):
    make_user(db_url, "alice", role="user")
    make_user(db_url, "root", role="admin")

    async def as_user(client):
        await login(client, "alice")
        return await client.get("/")

    async def as_admin(client):
        await login(client, "root")
        before = await client.get("/")
        status = await client.get("/status")
        chose = await client.post("/start-page", data={"csrf_token": csrf_of(status.text), "start": "status"})
        after = await client.get("/")
        back = await client.post("/start-page", data={"csrf_token": csrf_of(status.text), "start": "inbox"})
        again = await client.get("/")
        return before, chose, after, back, again

    home = run_app(db_url, as_user)
    assert home.status_code == 200 and 'data-live-view="inbox"' in home.text and "<h1>Inbox</h1>" in home.text
    before, chose, after, back, again = run_app(db_url, as_admin)
    assert 'data-live-view="inbox"' in before.text
    assert chose.status_code == 303 and "<h1>Status</h1>" in after.text
    assert back.status_code == 303 and 'data-live-view="inbox"' in again.text


def test_the_connections_and_polls_pages_filter_their_own_items(db_url, db):
    make_user(db_url, "alice", role="admin")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('op2-smsc', 'loopback', '{sms}'), "
               "('mail-out', 'loopback', '{email}')")
    db.execute("INSERT INTO hub.polls (name, question) VALUES ('lunch', 'What for lunch?'), ('op2 vote', 'Which?')")

    async def scenario(client):
        await login(client)
        return (
            await client.get("/connections", params={"q": "OP2"}),
            await client.get("/polls", params={"q": "op2"}),
            await client.get("/connections", params={"q": "nothing like it"}),
        )

    connections, polls, none = run_app(db_url, scenario)
    for page, noun in ((connections, "connections"), (polls, "polls")):
        assert 'id="filtered-bar"' in page.text and f"only {noun} matching" in page.text
        assert 'action="/' + noun + '"' in page.text and "No message in" not in page.text
    assert 'data-connection="op2-smsc"' in connections.text and 'data-connection="mail-out"' not in connections.text
    assert ">op2 vote</a>" in polls.text and ">lunch</a>" not in polls.text
    assert "No connection matches “nothing like it”" in none.text


def test_messages_by_folder_as_a_chart_with_a_presentation_mode(db_url, db):
    alice = make_user(db_url, "alice", role="user")
    bob = make_user(db_url, "bob", role="user")
    conn_id = db.execute(
        "INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms}') RETURNING id"
    ).fetchone()["id"]
    yes = db.execute("INSERT INTO hub.folders (name, owner_user_id) VALUES ('Yes votes', %s) RETURNING id",
                     (alice,)).fetchone()["id"]
    for n, (owner, folder, hours_ago) in enumerate(
        [(alice, yes, 1), (alice, yes, 2), (alice, yes, 3), (alice, None, 1), (alice, yes, 48), (bob, None, 1)]
    ):
        mid = db.execute(
            "SELECT hub.receive_message_v1(%s, 'sms', %s, '{+15550001}', NULL, 'yes') AS id", (conn_id, f"+4790{n}")
        ).fetchone()["id"]
        db.execute(
            "UPDATE hub.messages SET owner_user_id = %s, folder_id = %s, "
            "created_at = now() - make_interval(hours => %s) WHERE id = %s",
            (owner, folder, hours_ago, mid),
        )

    async def scenario(client):
        await login(client)
        return (
            (await client.get("/stats/folders.json")).json(),
            (await client.get("/stats/folders.json", params={"hours": "168"})).json(),
            await client.get("/stats/folders/present"),
            await client.get("/stats"),
        )

    day, week, present, stats = run_app(db_url, scenario)
    assert day["total"] == 4 and [(b["label"], b["messages"], b["percent"]) for b in day["bars"]] == [
        ("Yes votes", 3, 75.0),
        ("Inbox", 1, 25.0),
    ]
    assert week["total"] == 5  # bob's message is not alice's to count
    assert '<body class="present">' in present.text and 'data-percent="75.0"' in present.text
    assert 'href="/stats/folders"' in stats.text
