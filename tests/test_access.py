"""Who sees what: row-level security in PostgreSQL, for the hub's own role,
for integrators' logins, and through the web routes."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from msghub.app.runtime import make_pool
from msghub.hub.db import connect
from msghub.services import access
from msghub.services.blocking import call
from msghub.services.groups import set_membership_by_name
from msghub.services.tx import SYSTEM
from msghub.services.users import add_user
from msghub.web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def world(db_url: str, db: psycopg.Connection[Any]) -> dict[str, int]:
    """alice in helpdesk, bob in sales, carol an operator in helpdesk, an admin;
    a message for each owner kind and one nobody owns."""
    ids: dict[str, int] = {}
    with connect(db_url) as conn:
        for name, role in (("alice", "user"), ("bob", "user"), ("carol", "operator"), ("root", "admin")):
            ids[name] = call(conn, add_user, name, PASSWORD, role=role)
        ids["helpdesk"] = access.add_group(conn, "helpdesk")
        ids["sales"] = access.add_group(conn, "sales")
        call(conn, set_membership_by_name, SYSTEM, "alice", "helpdesk", member=True)
        call(conn, set_membership_by_name, SYSTEM, "carol", "helpdesk", member=True)
        call(conn, set_membership_by_name, SYSTEM, "bob", "sales", member=True)
        conn.commit()
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('link', 'loopback', '{sms,mms,email}')")
    for key, user, group in (("m_alice", ids["alice"], None), ("m_helpdesk", None, ids["helpdesk"]),
                             ("m_sales", None, ids["sales"]), ("m_nobody", None, None)):
        ids[key] = db.execute(
            "SELECT hub.receive_message_v1(1, 'sms', '+447700900123', '{+15550001}', NULL, %s) AS id",
            (key,)).fetchone()["id"]
        db.execute("UPDATE hub.messages SET owner_user_id = %s, owner_group_id = %s WHERE id = %s",
                   (user, group, ids[key]))
    return ids


@contextlib.contextmanager
def as_hub_user(db_url: str, user_id: int) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the web app makes one: role msghub_app, one user."""
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SET ROLE msghub_app")
        conn.execute("SELECT set_config('msghub.user_id', %s, false)", (str(user_id),))
        yield conn


def _seen(conn: psycopg.Connection[Any], source: str = "hub.messages") -> set[str]:
    return {r["body"] if "body" in r else r["text"] for r in conn.execute(f"SELECT * FROM {source}")}


@pytest.mark.parametrize(("who", "expected"), [
    ("alice", {"m_alice", "m_helpdesk"}),
    ("bob", {"m_sales"}),
    ("carol", {"m_helpdesk", "m_nobody"}),
    ("root", {"m_alice", "m_helpdesk", "m_sales", "m_nobody"}),
])
def test_each_user_sees_own_and_group_rows(db_url, world, who, expected):
    with as_hub_user(db_url, world[who]) as conn:
        assert _seen(conn) == expected
        assert _seen(conn, "hub.inbox") == expected
        parts = conn.execute("SELECT DISTINCT message_id FROM hub.message_status_log").fetchall()
        assert {r["message_id"] for r in parts} == {world[k] for k in expected}


def test_the_hub_role_without_a_user_sees_nothing(db_url, world):
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SET ROLE msghub_app")
        assert _seen(conn) == set()
        conn.execute("SET msghub.system = 'on'")
        assert len(_seen(conn)) == 4


def test_assignment_moves_visibility_and_is_recorded(db_url, world, db):
    with as_hub_user(db_url, world["alice"]) as alice:
        assert alice.execute("SELECT hub.assign_v1(%s, %s, NULL) AS ok", (world["m_helpdesk"], world["bob"])
                             ).fetchone()["ok"] is True
        assert _seen(alice) == {"m_alice"}
        # gone for alice: assigning it again finds nothing
        assert alice.execute("SELECT hub.assign_v1(%s, %s, NULL) AS ok", (world["m_helpdesk"], world["alice"])
                             ).fetchone()["ok"] is False
    with as_hub_user(db_url, world["bob"]) as bob:
        assert _seen(bob) == {"m_sales", "m_helpdesk"}
    row = db.execute("SELECT * FROM hub.assignments").fetchone()
    assert (row["by_user_id"], row["by_actor"], row["from_group_id"], row["to_user_id"]) == (
        world["alice"], "alice", world["helpdesk"], world["bob"])


def test_revoking_membership_hides_rows_at_once(db_url, world, db):
    with as_hub_user(db_url, world["alice"]) as alice:
        assert "m_helpdesk" in _seen(alice)
        db.execute("DELETE FROM hub.memberships WHERE user_id = %s", (world["alice"],))
        assert _seen(alice) == {"m_alice"}  # same session, next statement


def test_integrator_login_sees_only_its_users_rows(db_url, world, pg_server, db):
    with connect(db_url) as conn:
        # roles are shared by every database of the server: a unique name
        access.add_integrator(conn, f"crm_{uuid.uuid4().hex[:10]}", "s3cret-pass", username="alice", group=None)
        conn.commit()
    login = db.execute("SELECT role_name FROM hub.integrator_logins").fetchone()["role_name"]
    parts = urlsplit(db_url)
    url = parts._replace(netloc=f"{login}:s3cret-pass@{parts.netloc.rpartition('@')[2]}").geturl()
    try:
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as crm:
            assert _seen(crm, "hub.inbox") == {"m_alice", "m_helpdesk"}
            # settings an integrator sets are ignored
            crm.execute("SET msghub.system = 'on'")
            crm.execute("SELECT set_config('msghub.user_id', %s, false)", (str(world["root"]),))
            assert _seen(crm, "hub.inbox") == {"m_alice", "m_helpdesk"}
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                crm.execute("SELECT * FROM hub.messages")
            crm.execute("INSERT INTO hub.outbox (recipient, text, connection) VALUES ('+447700900999', 'hi', 'link')")
            assert crm.execute("SELECT hub.cancel_v1(%s) AS ok", (world["m_sales"],)).fetchone()["ok"] is False
    finally:
        with connect(db_url) as conn:
            access.remove_integrator(conn, login)
            conn.commit()
    queued = db.execute("SELECT owner_user_id, created_by FROM hub.messages WHERE recipients = '{+447700900999}'"
                        ).fetchone()
    assert (queued["owner_user_id"], queued["created_by"]) == (world["alice"], world["alice"])


def test_connection_permissions_refuse_others(db_url, world, db):
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('private', 'loopback', '{sms}')")
    with connect(db_url) as conn:
        access.grant_connection(conn, 2, username=None, group="sales", allow=True)
        conn.commit()
    insert = "INSERT INTO hub.outbox (recipient, text, connection) VALUES ('+447700900123', 'x', 'private')"
    with as_hub_user(db_url, world["alice"]) as alice, pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        alice.execute(insert)
    assert err.value.diag.column_name == "connection"
    assert "you may not send through connection 'private'" in str(err.value)
    with as_hub_user(db_url, world["bob"]) as bob:
        bob.execute(insert)
        # the open connection stays open to everyone
        bob.execute("INSERT INTO hub.outbox (recipient, text, connection) VALUES ('+447700900123', 'x', 'link')")
    assert db.execute("SELECT count(*) AS n FROM hub.messages WHERE direction = 'out'").fetchone()["n"] == 2


def _web(db_url: str, username: str, paths: list[str]) -> list[httpx.Response]:
    import re

    async def main() -> list[httpx.Response]:
        pool = make_pool(db_url, max_size=2)
        await pool.open(wait=True)
        try:
            transport = httpx.ASGITransport(app=create_app(pool))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                page = await client.get("/login")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
                await client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
                return [await client.get(p) for p in paths]
        finally:
            await pool.close()
    return asyncio.run(main())


def test_web_routes_show_only_what_the_user_may_see(db_url, world):
    own, others, missing, status = _web(db_url, "alice", [
        f"/messages/{world['m_alice']}", f"/messages/{world['m_sales']}", "/messages/999999", "/"])
    assert own.status_code == 200 and "m_alice" in own.text
    # someone else's message and a message that does not exist look the same
    assert others.status_code == missing.status_code == 404
    assert others.text == missing.text
    assert "m_alice" in status.text and "m_helpdesk" in status.text
    assert "m_sales" not in status.text and "m_nobody" not in status.text


def test_assigning_through_the_web_hands_the_message_over(db_url, world, db):
    import re

    async def main() -> tuple[int, int, int]:
        pool = make_pool(db_url, max_size=2)
        await pool.open(wait=True)
        try:
            transport = httpx.ASGITransport(app=create_app(pool))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                page = await client.get("/login")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
                await client.post("/login", data={"csrf_token": token, "username": "alice", "password": PASSWORD})
                view = await client.get(f"/messages/{world['m_helpdesk']}")
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', view.text).group(1)
                forged = await client.post(f"/messages/{world['m_helpdesk']}/assign",
                                           data={"csrf_token": "x", "assignee": f"user:{world['bob']}"})
                moved = await client.post(f"/messages/{world['m_helpdesk']}/assign",
                                          data={"csrf_token": csrf, "assignee": f"user:{world['bob']}"})
                after = await client.get(f"/messages/{world['m_helpdesk']}")
                return forged.status_code, moved.status_code, after.status_code
        finally:
            await pool.close()

    assert asyncio.run(main()) == (403, 303, 404)
    row = db.execute("SELECT by_actor, to_user_id FROM hub.assignments").fetchone()
    assert (row["by_actor"], row["to_user_id"]) == ("alice", world["bob"])
