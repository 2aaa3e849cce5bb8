"""The web pages show and use only what the signed-in user sees (issue 10,
items 1 and 3): the compose form's lists, the statistics page's totals by
connection, polls."""

from __future__ import annotations

import re

from tests.web_admin.helpers import csrf, login, run, user


def _list(db, name: str, owner: int, phone: str) -> int:
    list_id = db.execute("INSERT INTO hub.lists (name, owner_user_id) VALUES (%s, %s) RETURNING id",
                         (name, owner)).fetchone()["id"]
    contact = db.execute("INSERT INTO hub.contacts (name, phone, owner_user_id) VALUES (%s, %s, %s) RETURNING id",
                         (name, phone, owner)).fetchone()["id"]
    db.execute("INSERT INTO hub.list_members VALUES (%s, %s)", (list_id, contact))
    return list_id


def test_bob_picking_his_own_list_sends_to_his_contacts_when_alice_has_one_of_that_name(db_url, db):
    """Seen on main: the message went to alice's contact."""
    alice = user(db_url, "alice")
    bob = user(db_url, "bob")
    db.execute("INSERT INTO hub.connections (name, kind, channels, is_default)"
               " VALUES ('loop', 'loopback', '{sms}', true)")
    _list(db, "alist", alice, "+15550000001")
    bobs = _list(db, "alist", bob, "+15550000002")
    sales = db.execute("INSERT INTO hub.groups (name) VALUES ('sales') RETURNING id").fetchone()["id"]
    db.execute("INSERT INTO hub.memberships (user_id, group_id) VALUES (%s, %s)", (bob, sales))
    sales_list = db.execute("INSERT INTO hub.lists (name, owner_group_id) VALUES ('alist', %s) RETURNING id",
                            (sales,)).fetchone()["id"]

    async def scenario(client):
        await login(client, "bob")
        page = await client.get("/compose")
        sent = await client.post("/compose", data={"csrf_token": csrf(page.text), "channel": "sms",
                                                   "list": str(bobs), "text": "to my list", "priority": "1"})
        return page, sent

    page, sent = run(db_url, scenario)
    options = re.findall(r'<option value="(\d+)"[^>]*>alist', page.text)
    assert options == [str(bobs), str(sales_list)]  # alice's list is not offered
    assert "alist (sales) (0 members)" in page.text  # a group's list says whose it is
    assert sent.status_code == 303
    rows = db.execute("SELECT recipients[1] AS r, owner_user_id FROM hub.messages").fetchall()
    assert [(r["r"], r["owner_user_id"]) for r in rows] == [("+15550000002", bob)]


def test_the_api_resolves_a_list_name_among_the_keys_owners_lists(db_url, db):
    from tests.web_admin.helpers import api_key

    alice = user(db_url, "alice")
    bob = user(db_url, "bob")
    db.execute("INSERT INTO hub.connections (name, kind, channels, is_default)"
               " VALUES ('loop', 'loopback', '{sms}', true)")
    _list(db, "alist", alice, "+15550000001")
    _list(db, "vip", alice, "+15550000009")
    _list(db, "alist", bob, "+15550000002")
    key = api_key(db_url, bob)

    async def scenario(client):
        auth = {"Authorization": f"Bearer {key}"}
        own = await client.post("/api/v1/messages", headers=auth, json={"list": "alist", "text": "hi"})
        others = await client.post("/api/v1/messages", headers=auth, json={"list": "vip", "text": "hi"})
        missing = await client.post("/api/v1/messages", headers=auth, json={"list": "nope", "text": "hi"})
        return own, others, missing

    own, others, missing = run(db_url, scenario)
    assert own.status_code in (200, 201, 202), own.text
    assert "+15550000001" not in own.text and "+15550000009" not in others.text
    assert others.status_code == missing.status_code == 422
    assert others.text.replace("vip", "X") == missing.text.replace("nope", "X")
    rows = db.execute("SELECT recipients[1] AS r FROM hub.messages").fetchall()
    assert [r["r"] for r in rows] == ["+15550000002"]


def test_per_connection_totals_count_only_what_the_user_sees(db_url, db):
    """Seen on main: a user who owns nothing saw every connection's global totals."""
    root = user(db_url, "root", role="admin")
    user(db_url, "nobody")
    link = db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('smsc', 'emi', '{sms}') RETURNING id"
                      ).fetchone()["id"]
    db.execute("INSERT INTO hub.messages (channel, direction, connection_id, recipients, status, owner_user_id)"
               " SELECT 'sms', 'out', %s, '{+15550001}', 'sent', %s FROM generate_series(1, 6)", (link, root))

    def page_of(name):
        async def scenario(client):
            await login(client, name)
            return (await client.get("/stats")).text
        return scenario

    admin_page = run(db_url, page_of("root"))
    nobody_page = run(db_url, page_of("nobody"))
    admin_table = re.search(r'<table id="by-connection">.*?</table>', admin_page, re.S)
    assert admin_table is not None and "<td>smsc</td>" in admin_table.group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', admin_table.group(0))[:1] == ["6"]
    table = re.search(r'<table id="by-connection">.*?</table>', nobody_page, re.S)
    assert table is None or "smsc" not in table.group(0)
    assert ">6<" not in nobody_page


def test_a_poll_the_user_may_not_see_is_absent_from_the_results_view(db_url, db):
    alice = user(db_url, "alice")
    user(db_url, "bob")
    poll = db.execute("INSERT INTO hub.polls (name, question, owner_user_id) VALUES ('secret', 'Q?', %s)"
                      " RETURNING id", (alice,)).fetchone()["id"]
    db.execute("INSERT INTO hub.poll_options (poll_id, position, label, keywords) VALUES (%s, 1, 'Aurora', '{a}')",
               (poll,))

    async def scenario(client):
        await login(client, "bob")
        return await client.get(f"/polls/{poll}"), await client.get("/polls/999999")

    hidden, missing = run(db_url, scenario)
    assert hidden.status_code == missing.status_code == 404
    from tests.security_world import as_hub_user

    with as_hub_user(db_url, alice) as conn:
        assert [r["label"] for r in conn.execute("SELECT label FROM hub.poll_results").fetchall()] == ["Aurora"]
    bob = db.execute("SELECT id FROM hub.users WHERE username = 'bob'").fetchone()["id"]
    with as_hub_user(db_url, bob) as conn:
        assert conn.execute("SELECT label FROM hub.poll_results").fetchall() == []
