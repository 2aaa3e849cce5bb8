"""Every change that should end a user's web sessions ends them, whatever
path makes it: msghub user passwd, the admin pages, SQL."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest

from msghub.app.cli import main
from msghub.hub.db import connect
from msghub.hub.queries import QUERIES
from msghub.services.blocking import call
from msghub.services.users import add_user
from msghub.web.security import new_token, token_digest


def _with_session(db_url: str, name: str = "alice") -> int:
    with connect(db_url) as conn:
        user_id = call(conn, add_user, name, "alice password 1")
        conn.execute(QUERIES["create_web_session"], {"token_sha256": token_digest(new_token()), "user_id": user_id,
                                                      "csrf_token": new_token(), "ttl_s": 3600})
        conn.commit()
    return user_id


def _sessions(db: Any, user_id: int) -> int:
    return int(db.execute("SELECT count(*) AS n FROM hub.web_sessions WHERE user_id = %s", (user_id,))
               .fetchone()["n"])


def test_msghub_user_passwd_ends_the_sessions(db_url: str, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    user_id = _with_session(db_url)
    bob = _with_session(db_url, "bob")
    monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a new password 1\n"))
    assert main(["user", "passwd", "alice", "--password-stdin"]) == 0
    assert _sessions(db, user_id) == 0
    assert _sessions(db, bob) == 1, "only that user's"


@pytest.mark.parametrize("change", [
    "UPDATE hub.users SET enabled = false WHERE id = %(id)s",
    "UPDATE hub.users SET password_hash = %(hash)s WHERE id = %(id)s",
    "UPDATE hub.users SET auth_source = 'ldap', password_hash = NULL WHERE id = %(id)s",
])
def test_sql_changes_end_the_sessions(db_url: str, db: Any, change: str) -> None:
    from msghub.services.users import hash_password

    user_id = _with_session(db_url)
    db.execute(change, {"id": user_id, "hash": hash_password("another password")})
    assert _sessions(db, user_id) == 0


@pytest.mark.parametrize("change", [
    "UPDATE hub.users SET role = 'operator', display_name = 'Alice' WHERE id = %(id)s",
    "UPDATE hub.users SET failed_logins = 3, last_login_at = now() WHERE id = %(id)s",
    "UPDATE hub.users SET enabled = true WHERE id = %(id)s",
])
def test_other_changes_keep_the_sessions(db_url: str, db: Any, change: str) -> None:
    user_id = _with_session(db_url)
    db.execute(change, {"id": user_id})
    assert _sessions(db, user_id) == 1


def test_removing_an_integrator_login_closes_its_open_connections(db_url: str, db: Any) -> None:
    import uuid
    from urllib.parse import urlsplit

    import psycopg

    from msghub.services import access

    login = f"crm_{uuid.uuid4().hex[:10]}"  # roles are shared by every database of the server
    with connect(db_url) as conn:
        call(conn, add_user, "alice", "alice password 1")
        access.add_integrator(conn, login, "s3cret-pass", username="alice", group=None)
        conn.commit()
    parts = urlsplit(db_url)
    url = parts._replace(netloc=f"{login}:s3cret-pass@{parts.netloc.rpartition('@')[2]}").geturl()
    crm = psycopg.connect(url, autocommit=True)
    try:
        assert crm.execute("SELECT count(*) FROM hub.inbox").fetchone() == (0,)
        with connect(db_url) as conn:
            access.remove_integrator(conn, login)
            conn.commit()
        with pytest.raises(psycopg.OperationalError):  # closed by the server, not merely without privileges
            crm.execute("SELECT 1")
    finally:
        crm.close()


def test_a_password_set_on_the_admin_page_ends_the_sessions_and_reenabling_revives_none(db_url: str, db: Any) -> None:
    from tests.web_admin.helpers import login, run, user

    user(db_url, "root", role="admin")
    bob = user(db_url, "bob")

    async def scenario(client: Any) -> tuple[int, int]:
        await login(client, "bob")
        bob_cookie = client.cookies.get("msghub_session")
        client.cookies.clear()
        token = await login(client, "root")
        await client.post(f"/admin/users/{bob}/password", data={"csrf_token": token})
        after_password = _sessions(db, bob)
        # a later disable and enable: the ended session stays ended
        await client.post(f"/admin/users/{bob}", data={"csrf_token": token, "role": "user"})
        await client.post(f"/admin/users/{bob}", data={"csrf_token": token, "role": "user", "enabled": "on"})
        client.cookies.clear()
        client.cookies.set("msghub_session", bob_cookie)
        page = await client.get("/contacts")
        return after_password, page.status_code

    assert run(db_url, scenario) == (0, 303)
