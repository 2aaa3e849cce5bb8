"""Folder pages, search and the yellow filter bar, moving messages, per-user
visibility, through the app in-process against a real database."""

from __future__ import annotations

import re

from tests.web.webkit import csrf_of, login, make_user, run_app


def _world(db, db_url) -> dict[str, int]:
    alice = make_user(db_url, "alice", role="user")
    bob = make_user(db_url, "bob", role="user")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms}')")

    def receive(sender: str, body: str, owner: int | None) -> int:
        mid = db.execute(
            "SELECT hub.receive_message_v1(1, 'sms', %s, '{+15550001}', NULL, %s) AS id", (sender, body)
        ).fetchone()["id"]
        db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (owner, mid))
        return mid

    return {
        "alice": alice,
        "bob": bob,
        "a1": receive("+15550101", "the quick brown fox", alice),
        "a2": receive("+15550102", "lazy dogs sleep", alice),
        "b1": receive("+15550103", "bob's secret fox", bob),
    }


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]


def test_inbox_shows_own_messages_newest_first_and_search_filters(db_url, db):
    w = _world(db, db_url)

    async def scenario(client):
        await login(client)
        inbox = await client.get("/folders/inbox")
        filtered = await client.get("/folders/inbox", params={"q": "qui"})
        nothing = await client.get("/folders/inbox", params={"q": "elephant"})
        search = await client.get("/search", params={"q": "fox"})
        return inbox, filtered, nothing, search

    inbox, filtered, nothing, search = run_app(db_url, scenario)
    assert _ids(inbox.text) == [w["a2"], w["a1"]]
    assert "filtered-bar" not in inbox.text
    # the prefix "qui" finds "quick"; the bar says so and clears in one click
    assert _ids(filtered.text) == [w["a1"]]
    assert 'id="filtered-bar"' in filtered.text and 'href="/folders/inbox" id="clear-filter"' in filtered.text
    assert _ids(nothing.text) == [] and "No message in Inbox matches" in nothing.text
    # bob's fox is not alice's to find
    assert _ids(search.text) == [w["a1"]]


def test_keyset_paging_walks_every_message_once(db_url, db):
    make_user(db_url, "alice", role="admin")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms}')")
    db.execute(
        "INSERT INTO hub.messages (channel, direction, connection_id, sender, recipients, body, status) "
        "SELECT 'sms', 'in', 1, '+1555' || n, '{+15550001}', 'hello ' || n, 'received' "
        "FROM generate_series(1, 120) n"
    )

    async def scenario(client):
        await login(client)
        seen: list[int] = []
        url = "/folders/inbox"
        for _ in range(5):
            page = await client.get(url)
            seen += _ids(page.text)
            more = re.search(r'href="(\?before=\d+)" rel="next"', page.text)
            if not more:
                break
            url = "/folders/inbox" + more.group(1)
        return seen

    seen = run_app(db_url, scenario)
    assert len(seen) == 120 and len(set(seen)) == 120 and seen == sorted(seen, reverse=True)


def test_others_messages_and_folders_are_not_found(db_url, db):
    w = _world(db, db_url)
    folder = db.execute(
        "INSERT INTO hub.folders (name, owner_user_id) VALUES ('Bob only', %s) RETURNING id", (w["bob"],)
    ).fetchone()["id"]

    async def scenario(client):
        await login(client)
        return [
            await client.get(p)
            for p in (
                f"/messages/{w['b1']}",
                "/messages/999999",
                f"/folders/{folder}",
                "/folders/nonsense",
                f"/messages/{w['b1']}/history",
                f"/messages/{w['a1']}/history",
            )
        ]

    pages = run_app(db_url, scenario)
    assert [p.status_code for p in pages] == [404, 404, 404, 404, 404, 200]
    assert pages[5].text.startswith('<ol class="history"') and 'data-status="received"' in pages[5].text
    assert pages[0].text == pages[1].text
    assert "Bob only" not in pages[0].text


def test_moving_into_an_own_folder_and_back(db_url, db):
    w = _world(db, db_url)
    mine = db.execute(
        "INSERT INTO hub.folders (name, owner_user_id) VALUES ('Foxes', %s) RETURNING id", (w["alice"],)
    ).fetchone()["id"]
    bobs = db.execute(
        "INSERT INTO hub.folders (name, owner_user_id) VALUES ('Bobs', %s) RETURNING id", (w["bob"],)
    ).fetchone()["id"]

    async def scenario(client):
        await login(client)
        view = await client.get(f"/messages/{w['a1']}")
        csrf = csrf_of(view.text)
        forged = await client.post(f"/messages/{w['a1']}/move", data={"csrf_token": "x", "folder": str(mine)})
        into_bobs = await client.post(f"/messages/{w['a1']}/move", data={"csrf_token": csrf, "folder": str(bobs)})
        moved = await client.post(f"/messages/{w['a1']}/move", data={"csrf_token": csrf, "folder": str(mine)})
        folder = await client.get(f"/folders/{mine}")
        inbox = await client.get("/folders/inbox")
        return forged.status_code, into_bobs.status_code, moved.status_code, folder.text, inbox.text

    forged, into_bobs, moved, folder, inbox = run_app(db_url, scenario)
    assert (forged, into_bobs, moved) == (403, 404, 303)
    assert _ids(folder) == [w["a1"]] and w["a1"] not in _ids(inbox)
    assert "Foxes" in inbox and "Bobs" not in inbox  # the nav lists only alice's folders
    kinds = [
        r["kind"]
        for r in db.execute("SELECT kind FROM hub.message_changes WHERE message_id = %s ORDER BY id", (w["a1"],))
    ]
    assert kinds[-1] == "moved"


def test_creating_a_folder_needs_a_name_and_an_own_group(db_url, db):
    w = _world(db, db_url)
    group = db.execute("INSERT INTO hub.groups (name) VALUES ('sales') RETURNING id").fetchone()["id"]

    async def scenario(client):
        await login(client)
        csrf = csrf_of((await client.get("/folders/inbox")).text)
        blank = await client.post("/folders", data={"csrf_token": csrf, "name": "  "})
        foreign = await client.post("/folders", data={"csrf_token": csrf, "name": "x", "group": str(group)})
        made = await client.post("/folders", data={"csrf_token": csrf, "name": "Later"})
        return blank.status_code, foreign.status_code, made.status_code, made.headers.get("location")

    blank, foreign, made, location = run_app(db_url, scenario)
    assert (blank, foreign, made) == (400, 400, 303)
    row = db.execute("SELECT id, owner_user_id FROM hub.folders WHERE name = 'Later'").fetchone()
    assert location == f"/folders/{row['id']}" and row["owner_user_id"] == w["alice"]
