"""Admin pages for integrator logins, imports, exports and schedules: admins
only, CSRF, escaped, audited, secrets shown once or never."""

from __future__ import annotations

import re
import sqlite3
import uuid

import psycopg
import pytest

from tests.web_admin.helpers import assert_inert, login, run, user

PAGES = ["/admin/integrators", "/admin/imports", "/admin/exports", "/admin/schedules", "/admin/directory"]
POSTS = ["/admin/integrators", "/admin/integrators/remove", "/admin/imports", "/admin/imports/action",
         "/admin/exports", "/admin/exports/remove", "/admin/schedules", "/admin/schedules/action", "/admin/directory"]


def _actions(db, actor="root"):
    return [(r["action"], r["target"]) for r in db.execute(
        "SELECT action, target FROM hub.audit_log WHERE actor = %s AND action <> 'login' ORDER BY id", (actor,))]


@pytest.mark.parametrize("role", ["user", "operator"])
def test_the_pages_are_forbidden_to_other_roles(db_url, db, role):
    user(db_url, "someone", role=role)

    async def scenario(client):
        token = await login(client, "someone")
        pages = [await client.get(path) for path in PAGES]
        posts = [await client.post(path, data={"csrf_token": token, "name": "evil", "every": "5", "login": "evil"})
                 for path in POSTS]
        return pages + posts

    for response in run(db_url, scenario):
        assert response.status_code == 403 and "Not allowed" in response.text
    assert db.execute("SELECT count(*) AS n FROM hub.schedules").fetchone()["n"] == 0


def test_posts_without_the_csrf_token_change_nothing(db_url, db):
    user(db_url, "root", role="admin")

    async def scenario(client):
        await login(client, "root")
        return [await client.post(path, data={"csrf_token": "forged", "name": "evil", "every": "5"})
                for path in POSTS]

    for response in run(db_url, scenario):
        assert response.status_code == 403
    assert db.execute("SELECT count(*) AS n FROM hub.schedules").fetchone()["n"] == 0


def test_integrator_login_is_created_works_and_is_removed(db_url, db):
    user(db_url, "root", role="admin")
    user(db_url, "alice")
    db.execute("INSERT INTO hub.groups (name) VALUES ('sales')")
    db.execute("INSERT INTO hub.messages (channel, direction, sender, recipients, body, status, owner_user_id) "
               "SELECT 'sms', 'in', '+491', '{+492}', 'for alice', 'received', id FROM hub.users "
               "WHERE username = 'alice'")
    login_name = f"crm_{uuid.uuid4().hex[:10]}"  # roles are the server's, shared by every test database

    async def scenario(client):
        token = await login(client, "root")
        empty = await client.get("/admin/integrators")
        assert "No integrator logins yet" in empty.text and 'value="group:sales"' in empty.text
        assert_inert(empty.text)
        bad = await client.post("/admin/integrators",
                                data={"csrf_token": token, "login": "bad name;", "acts_as": "user:alice"})
        assert bad.status_code == 400 and "letters, digits and _" in bad.text
        nobody = await client.post("/admin/integrators",
                                   data={"csrf_token": token, "login": login_name, "acts_as": "user:ghost"})
        assert nobody.status_code == 400 and "No user &#39;ghost&#39;" in nobody.text
        made = await client.post("/admin/integrators",
                                 data={"csrf_token": token, "login": login_name, "acts_as": "user:alice"})
        assert made.status_code == 200, made.text
        password = re.search(r'id="new-password">([^<]+)<', made.text).group(1)
        again = await client.post("/admin/integrators",
                                  data={"csrf_token": token, "login": login_name, "acts_as": "group:sales"})
        assert again.status_code == 400 and "already exists" in again.text
        listing = await client.get("/admin/integrators")
        assert login_name in listing.text and "user alice" in listing.text and password not in listing.text
        return token, password

    try:
        _, password = run(db_url, scenario)
        with psycopg.connect(db_url, user=login_name, password=password) as conn:
            assert [r[0] for r in conn.execute("SELECT text FROM hub.inbox")] == ["for alice"]
    except BaseException:
        db.execute(f'DROP ROLE IF EXISTS "{login_name}"')
        raise

    async def remove(client):
        token = await login(client, "root")
        gone = await client.post("/admin/integrators/remove", data={"csrf_token": token, "login": login_name})
        unknown = await client.post("/admin/integrators/remove", data={"csrf_token": token, "login": login_name})
        return gone, unknown

    gone, unknown = run(db_url, remove)
    assert gone.status_code == 303 and unknown.status_code == 400 and "No integrator login" in unknown.text
    assert db.execute("SELECT count(*) AS n FROM pg_roles WHERE rolname = %s", (login_name,)).fetchone()["n"] == 0
    assert _actions(db) == [("integrator.add", login_name), ("integrator.remove", login_name)]


def _orders(tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as ext:
        ext.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, phone TEXT, item TEXT)")
        ext.executemany("INSERT INTO orders VALUES (?, ?, ?)",
                        [(1, "+4917000001", "<b>pizza</b>"), (2, "+4917000002", "pasta")])
    return f"sqlite:///{path}"


def test_imports_are_added_tested_edited_switched_and_removed(db_url, db, tmp_path):
    user(db_url, "root", role="admin")
    url = _orders(tmp_path)
    query = "SELECT id, phone, item FROM orders WHERE id > coalesce(:last_key, 0)"

    async def scenario(client):
        token = await login(client, "root")
        form = {"csrf_token": token, "name": "shop", "url": url, "query": query, "key": "id", "topic": "orders",
                "every": "30"}
        bad_url = await client.post("/admin/imports", data={**form, "url": "not a url"})
        assert bad_url.status_code == 400 and "Not an SQLAlchemy database URL" in bad_url.text
        bad_every = await client.post("/admin/imports", data={**form, "every": "0"})
        assert bad_every.status_code == 400 and "between 1 and" in bad_every.text
        assert (await client.post("/admin/imports", data=form)).status_code == 303
        listing = await client.get("/admin/imports")
        assert "shop" in listing.text and "30 s" in listing.text and "never" in listing.text
        assert_inert(listing.text)
        tested = await client.post("/admin/imports/action", data={"csrf_token": token, "name": "shop",
                                                                  "action": "test"})
        assert tested.status_code == 200 and "2 row(s)" in tested.text and "Nothing was imported" in tested.text
        assert "&lt;b&gt;pizza&lt;/b&gt;" in tested.text and "<b>pizza</b>" not in tested.text
        editing = await client.get("/admin/imports?edit=shop")
        assert "Edit import shop" in editing.text and "coalesce(:last_key, 0)" in editing.text
        kept = await client.post("/admin/imports", data={**form, "url": "", "topic": "shop-orders",
                                                         "editing": "1"})
        assert kept.status_code == 303
        for action in ("disable", "reset"):
            done = await client.post("/admin/imports/action", data={"csrf_token": token, "name": "shop",
                                                                    "action": action})
            assert done.status_code == 303
        state = await client.get("/admin/imports")
        assert "disabled" in state.text and "shop-orders" in state.text
        unknown = await client.post("/admin/imports/action", data={"csrf_token": token, "name": "nope",
                                                                   "action": "enable"})
        assert unknown.status_code == 400 and "No import source named &#39;nope&#39;" in unknown.text
        removed = await client.post("/admin/imports/action", data={"csrf_token": token, "name": "shop",
                                                                   "action": "remove"})
        assert removed.status_code == 303
        return True

    assert run(db_url, scenario)
    assert db.execute("SELECT count(*) AS n FROM hub.import").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM hub.import_sources").fetchone()["n"] == 0
    assert _actions(db) == [("import.add", "shop"), ("import.add", "shop"), ("import.disable", "shop"),
                            ("import.reset", "shop"), ("import.remove", "shop")]


def test_an_import_url_password_is_never_shown_and_kept_on_edit(db_url, db):
    user(db_url, "root", role="admin")
    secret_url = "postgresql://reader:s3cret-pw@127.0.0.1:1/shop"

    async def scenario(client):
        token = await login(client, "root")
        form = {"csrf_token": token, "name": "crm", "url": secret_url, "query": "SELECT 1 AS id", "key": "id",
                "topic": "crm", "every": "60"}
        assert (await client.post("/admin/imports", data=form)).status_code == 303
        pages = [await client.get("/admin/imports"), await client.get("/admin/imports?edit=crm")]
        await client.post("/admin/imports", data={**form, "url": "", "every": "90", "editing": "1"})
        failed = await client.post("/admin/imports/action", data={"csrf_token": token, "name": "crm",
                                                                  "action": "test"})
        return [*pages, failed]

    responses = run(db_url, scenario)
    for page in responses:
        assert "s3cret-pw" not in page.text
    assert "reader:***@127.0.0.1" in responses[0].text
    assert responses[2].status_code == 400 and "the query failed" in responses[2].text
    row = db.execute("SELECT database_url, interval_s FROM hub.import_sources").fetchone()
    assert row == {"database_url": secret_url, "interval_s": 90}


def test_export_tables_are_allowed_checked_edited_and_removed(db_url, db, tmp_path):
    user(db_url, "root", role="admin")
    db.execute("CREATE TABLE public.vote_log (id serial PRIMARY KEY, sender text, choice text)")
    external = _orders(tmp_path)

    async def scenario(client):
        token = await login(client, "root")
        form = {"csrf_token": token, "name": "votes", "table": "public.vote_log", "where": "hub",
                "columns": "sender, choice"}
        bad_name = await client.post("/admin/exports", data={**form, "name": "1votes"})
        assert bad_name.status_code == 400 and "letters, digits and _" in bad_name.text
        no_table = await client.post("/admin/exports", data={**form, "table": "public.nope"})
        assert no_table.status_code == 400 and "No table public.nope in msghub" in no_table.text
        no_column = await client.post("/admin/exports", data={**form, "columns": "sender, colour"})
        assert no_column.status_code == 400 and "no column(s) &#39;colour&#39;" in no_column.text
        saved = await client.post("/admin/exports", data=form)
        # the test database's owner made the table: the hub's role may not insert yet, and the page says how
        assert saved.status_code == 200 and "GRANT INSERT ON public.vote_log TO msghub_app" in saved.text
        outside = await client.post("/admin/exports", data={"csrf_token": token, "name": "shop_orders",
                                                            "table": "orders", "where": "external",
                                                            "url": external, "columns": "phone"})
        assert outside.status_code == 303
        no_url = await client.post("/admin/exports", data={"csrf_token": token, "name": "other", "table": "t",
                                                           "where": "external"})
        assert no_url.status_code == 400 and "external database" in no_url.text
        editing = await client.get("/admin/exports?edit=shop_orders")
        assert "Edit export shop_orders" in editing.text and 'value="phone"' in editing.text
        edited = await client.post("/admin/exports", data={"csrf_token": token, "name": "shop_orders",
                                                           "table": "orders", "where": "external", "url": "",
                                                           "columns": "", "editing": "1"})
        assert edited.status_code == 303
        listing = await client.get("/admin/exports")
        assert_inert(listing.text)
        removed = await client.post("/admin/exports/remove", data={"csrf_token": token, "name": "votes"})
        again = await client.post("/admin/exports/remove", data={"csrf_token": token, "name": "votes"})
        return listing, removed, again

    listing, removed, again = run(db_url, scenario)
    assert "sender, choice" in listing.text and "any column" in listing.text
    assert removed.status_code == 303 and again.status_code == 400 and "No export named" in again.text
    rows = db.execute("SELECT name, table_name, database_url, columns FROM hub.export_tables").fetchall()
    assert rows == [{"name": "shop_orders", "table_name": "orders", "database_url": external, "columns": None}]
    assert _actions(db) == [("export.allow", "votes"), ("export.allow", "shop_orders"),
                            ("export.allow", "shop_orders"), ("export.remove", "votes")]


def test_schedules_are_added_edited_switched_and_removed(db_url, db):
    user(db_url, "root", role="admin")

    async def scenario(client):
        token = await login(client, "root")
        bad = await client.post("/admin/schedules", data={"csrf_token": token, "name": "daily", "every": "soon"})
        assert bad.status_code == 400 and "whole number of seconds" in bad.text
        bad_time = await client.post("/admin/schedules", data={"csrf_token": token, "name": "daily",
                                                               "every": "86400", "first": "tomorrow"})
        assert bad_time.status_code == 400 and "Not a date and time" in bad_time.text
        made = await client.post("/admin/schedules", data={"csrf_token": token, "name": "<daily>",
                                                           "every": "86400", "first": "2030-01-02T08:00"})
        assert made.status_code == 303
        listing = await client.get("/admin/schedules")
        assert "&lt;daily&gt;" in listing.text and "<daily>" not in listing.text and "86400 s" in listing.text
        assert_inert(listing.text)
        edited = await client.post("/admin/schedules", data={"csrf_token": token, "name": "<daily>",
                                                             "every": "3600", "editing": "1"})
        assert edited.status_code == 303
        off = await client.post("/admin/schedules/action", data={"csrf_token": token, "name": "<daily>",
                                                                 "action": "disable"})
        assert off.status_code == 303
        row = db.execute("SELECT interval_s, enabled FROM hub.schedules").fetchone()
        assert row == {"interval_s": 3600, "enabled": False}
        gone = await client.post("/admin/schedules/action", data={"csrf_token": token, "name": "<daily>",
                                                                  "action": "remove"})
        unknown = await client.post("/admin/schedules/action", data={"csrf_token": token, "name": "<daily>",
                                                                     "action": "enable"})
        return gone, unknown

    gone, unknown = run(db_url, scenario)
    assert gone.status_code == 303 and unknown.status_code == 400 and "No schedule named" in unknown.text
    assert _actions(db) == [("schedule.add", "<daily>"), ("schedule.add", "<daily>"),
                            ("schedule.disable", "<daily>"), ("schedule.remove", "<daily>")]


def test_a_hub_login_without_createrole_is_told_so(db_url, db):
    """The hub's database login may lack CREATEROLE: the page says what to do
    and nothing is half made."""
    user(db_url, "root", role="admin")
    user(db_url, "alice")
    hub_login = f"hub_{uuid.uuid4().hex[:10]}"
    limited_url = db_url.replace("postgres:@", f"{hub_login}:@", 1)
    if limited_url == db_url:
        pytest.skip("needs the suite's own server (a login without a password)")
    db.execute(f'CREATE ROLE "{hub_login}" LOGIN IN ROLE msghub_app')
    try:

        async def scenario(client):
            token = await login(client, "root")
            return await client.post("/admin/integrators", data={"csrf_token": token, "login": "crm_never",
                                                                 "acts_as": "user:alice"})

        refused = run(limited_url, scenario)
    finally:
        db.execute(f'DROP ROLE IF EXISTS "{hub_login}"')
    assert refused.status_code == 400 and "may not create or drop roles: give it CREATEROLE" in refused.text
    assert db.execute("SELECT count(*) AS n FROM hub.integrator_logins").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM pg_roles WHERE rolname = 'crm_never'").fetchone()["n"] == 0
    assert _actions(db) == []
