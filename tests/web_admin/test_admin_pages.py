"""Administration pages: admins only; users, groups, roles, API keys, audit."""

from __future__ import annotations

import re

import pytest

from tests.web_admin.helpers import PASSWORD, assert_inert, login, run, user

ADMIN_PAGES = ["/admin", "/admin/users", "/admin/groups", "/admin/roles", "/admin/api-keys", "/admin/audit",
               "/admin/forms", "/admin/webhooks"]


@pytest.mark.parametrize("role", ["user", "operator", "integrator"])
def test_admin_pages_are_forbidden_to_other_roles(db_url, db, role):
    user(db_url, "someone", role=role)
    target = user(db_url, "target")

    async def scenario(client):
        token = await login(client, "someone")
        pages = [await client.get(path) for path in ADMIN_PAGES]
        posts = [
            await client.post(path, data={"csrf_token": token, "username": "evil", "name": "evil"})
            for path in (
                "/admin/users",
                "/admin/groups",
                "/admin/api-keys",
                f"/admin/users/{target}/password",
                f"/admin/users/{target}",
            )
        ]
        return pages, posts

    pages, posts = run(db_url, scenario)
    for response in pages + posts:
        assert response.status_code == 403
        assert "Not allowed" in response.text and f"Your role ({role})" in response.text
    assert db.execute("SELECT count(*) AS n FROM hub.users WHERE username = 'evil'").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM hub.groups").fetchone()["n"] == 0


def test_anonymous_is_sent_to_login(db_url):
    async def scenario(client):
        return [await client.get(path) for path in ADMIN_PAGES]

    for response in run(db_url, scenario):
        assert response.status_code == 303 and response.headers["location"] == "/login"


def test_create_user_disable_and_reset_password(db_url, db):
    user(db_url, "root", role="admin")

    async def scenario(client):
        token = await login(client, "root")
        short = await client.post(
            "/admin/users", data={"csrf_token": token, "username": "bob", "role": "user", "password": "short"}
        )
        assert short.status_code == 400 and "password too short" in short.text
        bad_name = await client.post(
            "/admin/users", data={"csrf_token": token, "username": "bad name!", "role": "user"}
        )
        assert bad_name.status_code == 400 and "letters, digits" in bad_name.text
        forged = await client.post("/admin/users", data={"csrf_token": "x", "username": "bob", "role": "user"})
        assert forged.status_code == 403
        made = await client.post(
            "/admin/users",
            data={"csrf_token": token, "username": "bob", "role": "operator", "display_name": "<b>Bob</b>"},
        )
        assert made.status_code == 200
        password = re.search(r'id="new-password">([^<]+)<', made.text).group(1)
        assert "<b>Bob</b>" not in made.text and "&lt;b&gt;Bob&lt;/b&gt;" in made.text
        again = await client.post("/admin/users", data={"csrf_token": token, "username": "bob", "role": "user"})
        assert again.status_code == 400 and "already exists" in again.text
        bob_id = db.execute("SELECT id FROM hub.users WHERE username = 'bob'").fetchone()["id"]
        reset = await client.post(f"/admin/users/{bob_id}/password", data={"csrf_token": token})
        new_password = re.search(r'id="new-password">([^<]+)<', reset.text).group(1)
        disabled = await client.post(
            f"/admin/users/{bob_id}", data={"csrf_token": token, "role": "operator", "display_name": "Bob"}
        )
        assert disabled.status_code == 303
        return password, new_password

    password, new_password = run(db_url, scenario)
    assert password != new_password
    row = db.execute("SELECT role, enabled, password_hash FROM hub.users WHERE username = 'bob'").fetchone()
    assert row["role"] == "operator" and row["enabled"] is False and row["password_hash"].startswith("$argon2id$")
    from argon2 import PasswordHasher

    assert PasswordHasher().verify(row["password_hash"], new_password)
    actions = [
        r["action"]
        for r in db.execute("SELECT action FROM hub.audit_log WHERE actor = 'root' AND action <> 'login' ORDER BY id")
    ]
    assert actions == ["user.create", "user.password", "user.update"]


def test_a_disabled_user_loses_their_session(db_url, db):
    user(db_url, "root", role="admin")
    bob = user(db_url, "bob")

    async def scenario(client):
        await login(client, "bob")
        bob_cookie = client.cookies.get("msghub_session")
        client.cookies.clear()
        token = await login(client, "root")
        await client.post(f"/admin/users/{bob}", data={"csrf_token": token, "role": "user"})
        client.cookies.clear()
        client.cookies.set("msghub_session", bob_cookie)
        return await client.get("/contacts")

    response = run(db_url, scenario)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_the_last_admin_cannot_be_demoted_or_disabled(db_url, db):
    root = user(db_url, "root", role="admin")

    async def scenario(client):
        token = await login(client, "root")
        demote = await client.post(f"/admin/users/{root}", data={"csrf_token": token, "role": "user", "enabled": "on"})
        disable = await client.post(f"/admin/users/{root}", data={"csrf_token": token, "role": "admin"})
        return demote, disable

    for response in run(db_url, scenario):
        assert response.status_code == 400 and "only enabled admin" in response.text
    assert db.execute("SELECT role, enabled FROM hub.users").fetchone() == {"role": "admin", "enabled": True}


def test_groups_and_membership(db_url, db):
    user(db_url, "root", role="admin")
    bob = user(db_url, "bob")

    async def scenario(client):
        token = await login(client, "root")
        made = await client.post("/admin/groups", data={"csrf_token": token, "name": "sales", "description": "S"})
        assert made.status_code == 303
        dup = await client.post("/admin/groups", data={"csrf_token": token, "name": "sales"})
        assert dup.status_code == 400 and "already exists" in dup.text
        group_id = db.execute("SELECT id FROM hub.groups").fetchone()["id"]
        added = await client.post(
            f"/admin/groups/{group_id}", data={"csrf_token": token, "action": "add", "user_id": str(bob)}
        )
        assert added.status_code == 303
        page = await client.get("/admin/groups")
        assert "Members: bob" in page.text
        via_user = await client.post(f"/admin/users/{bob}/groups", data={"csrf_token": token})
        assert via_user.status_code == 303
        assert db.execute("SELECT count(*) AS n FROM hub.memberships").fetchone()["n"] == 0
        await client.post(f"/admin/users/{bob}/groups", data={"csrf_token": token, "groups": str(group_id)})
        assert db.execute("SELECT count(*) AS n FROM hub.memberships").fetchone()["n"] == 1
        missing = await client.post("/admin/groups/999999", data={"csrf_token": token, "action": "delete"})
        assert missing.status_code == 404
        deleted = await client.post(f"/admin/groups/{group_id}", data={"csrf_token": token, "action": "delete"})
        assert deleted.status_code == 303
        roles = await client.get("/admin/roles")
        assert "operator" in roles.text and "the messages of their groups" in roles.text
        return True

    assert run(db_url, scenario)
    actions = [
        r["action"]
        for r in db.execute("SELECT action FROM hub.audit_log WHERE actor = 'root' AND action <> 'login' ORDER BY id")
    ]
    assert actions == ["group.create", "group.join", "group.leave", "group.join", "group.delete"]


def test_api_key_is_shown_once_works_and_can_be_revoked(db_url, db):
    user(db_url, "root", role="admin")
    bob = user(db_url, "bob")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms}')")

    async def scenario(client):
        token = await login(client, "root")
        no_scope = await client.post("/admin/api-keys", data={"csrf_token": token, "name": "crm", "user_id": str(bob)})
        assert no_scope.status_code == 400 and "at least one scope" in no_scope.text
        made = await client.post(
            "/admin/api-keys",
            data={"csrf_token": token, "name": "crm", "user_id": str(bob), "scopes": ["send", "read"]},
        )
        key = re.search(r'id="new-key">([^<]+)<', made.text).group(1)
        listing = await client.get("/admin/api-keys")
        assert key not in listing.text and key.split("_")[1] in listing.text
        sent = await client.post(
            "/api/v1/messages",
            headers={"Authorization": f"Bearer {key}"},
            json={"to": "+4917000001", "text": "from the crm"},
        )
        assert sent.status_code == 201
        key_row = db.execute("SELECT id FROM hub.api_keys").fetchone()["id"]
        revoked = await client.post(f"/admin/api-keys/{key_row}/revoke", data={"csrf_token": token})
        assert revoked.status_code == 303
        again = await client.post(f"/admin/api-keys/{key_row}/revoke", data={"csrf_token": token})
        assert again.status_code == 404
        after = await client.post(
            "/api/v1/messages",
            headers={"Authorization": f"Bearer {key}"},
            json={"to": "+4917000001", "text": "too late"},
        )
        return key, after

    key, after = run(db_url, scenario)
    assert after.status_code == 401
    stored = db.execute("SELECT secret_sha256, scopes, user_id FROM hub.api_keys").fetchone()
    assert stored["scopes"] == ["send", "read"] and stored["user_id"] == bob
    assert key.encode() not in bytes(stored["secret_sha256"])
    message = db.execute("SELECT owner_user_id FROM hub.messages").fetchone()
    assert message["owner_user_id"] == bob


def test_audit_log_pages_and_filters(db_url, db):
    user(db_url, "root", role="admin")
    for i in range(120):
        db.execute(
            "INSERT INTO hub.audit_log (actor, action, target, detail) VALUES ('cli', %s, %s, %s)",
            (f"test.{i % 2}", f"<script>t{i}</script>", '{"k": "</td><script>x</script>"}'),
        )

    async def scenario(client):
        await login(client, "root")
        first = await client.get("/admin/audit")
        older = re.search(r'href="(/admin/audit\?before=\d+)"', first.text).group(1)
        second = await client.get(older.replace("&amp;", "&"))
        filtered = await client.get("/admin/audit?q=test.1")
        return first.text, second.text, filtered.text

    first, second, filtered = run(db_url, scenario)
    ids_first = re.findall(r"&lt;script&gt;t(\d+)&lt;/script&gt;", first)
    ids_second = re.findall(r"&lt;script&gt;t(\d+)&lt;/script&gt;", second)
    # 50 a page; the newest entry on the first page is root's own login
    assert len(ids_first) == 49 and ">login<" in first and len(ids_second) == 50
    assert not set(ids_first) & set(ids_second)
    assert int(min(ids_first, key=int)) > int(max(ids_second, key=int))
    assert "test.0" not in filtered and "test.1" in filtered and 'id="filtered-bar"' in filtered
    for html in (first, second, filtered):
        assert "<script>t" not in html and "<script>x" not in html
        assert_inert(html)


def test_non_local_users_cannot_get_a_password(db_url, db):
    user(db_url, "root", role="admin")
    ext = db.execute("INSERT INTO hub.users (username, auth_source) VALUES ('ext', 'ldap') RETURNING id").fetchone()[
        "id"
    ]

    async def scenario(client):
        token = await login(client, "root")
        return await client.post(f"/admin/users/{ext}/password", data={"csrf_token": token, "password": PASSWORD})

    response = run(db_url, scenario)
    assert response.status_code == 400 and "logs in through LDAP" in response.text
    assert db.execute("SELECT password_hash FROM hub.users WHERE username = 'ext'").fetchone()["password_hash"] is None
