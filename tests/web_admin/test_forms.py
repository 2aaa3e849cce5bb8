"""Every state-changing form of these pages carries the CSRF token, and every
page renders nothing that runs."""

from __future__ import annotations

import re

from tests.web_admin.helpers import assert_inert, login, run, tags, user

PAGES = [
    "/contacts",
    "/contacts/new",
    "/contacts/import",
    "/lists",
    "/connections",
    "/connections/new",
    "/connections/new?kind=emi",
    "/stats",
    "/admin",
    "/admin/users",
    "/admin/groups",
    "/admin/roles",
    "/admin/api-keys",
    "/admin/audit",
]


def test_every_post_form_has_the_csrf_token(db_url, db):
    root = user(db_url, "root", role="admin")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms}')")
    db.execute("INSERT INTO hub.groups (name) VALUES ('g')")
    contact = db.execute(
        "INSERT INTO hub.contacts (name, phone, owner_user_id) VALUES ('c', '+4912345', %s) RETURNING id", (root,)
    ).fetchone()["id"]
    list_id = db.execute(
        "INSERT INTO hub.lists (name, owner_user_id) VALUES ('l', %s) RETURNING id", (root,)
    ).fetchone()["id"]
    db.execute("INSERT INTO hub.list_members VALUES (%s, %s)", (list_id, contact))
    pages = [*PAGES, f"/contacts/{contact}", f"/lists/{list_id}", f"/admin/users/{root}", "/connections/1/edit"]

    async def scenario(client):
        token = await login(client, "root")
        return token, {path: await client.get(path) for path in pages}

    token, responses = run(db_url, scenario)
    forms_seen = 0
    for path, response in responses.items():
        assert response.status_code == 200, path
        html = response.text
        assert_inert(html)
        for form in re.findall(r"<form\b.*?</form>", html, re.S):
            attrs = dict(tags(form)[0][1])
            if (attrs.get("method") or "get").lower() != "post":
                continue
            forms_seen += 1
            assert f'name="csrf_token" value="{token}"' in form, (path, form[:200])
    assert forms_seen >= 20


def test_contacts_are_paged_by_keyset(db_url, db):
    alice = user(db_url, "alice")
    db.execute(
        "INSERT INTO hub.contacts (name, phone, owner_user_id) "
        "SELECT 'Person ' || lpad(i::text, 3, '0'), '+49170' || lpad(i::text, 5, '0'), %s "
        "FROM generate_series(1, 150) i",
        (alice,),
    )

    async def scenario(client):
        await login(client, "alice")
        first = await client.get("/contacts")
        next_url = re.search(r'<a rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
        second = await client.get(next_url)
        return first.text, second.text

    first, second = run(db_url, scenario)
    names_first = re.findall(r">(Person \d+)</a>", first)
    names_second = re.findall(r">(Person \d+)</a>", second)
    assert names_first == [f"Person {i:03d}" for i in range(1, 101)]
    assert names_second == [f"Person {i:03d}" for i in range(101, 151)]
    assert 'rel="next"' not in second
