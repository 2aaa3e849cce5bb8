"""The web app through ASGI in-process, against a real database."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from msghub.app.runtime import make_pool
from msghub.hub.db import connect
from msghub.services.blocking import call
from msghub.services.users import add_user
from msghub.web.app import create_app

PASSWORD = "correct horse battery"


def _run(db_url: str, scenario: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        pool = make_pool(db_url, max_size=4)
        await pool.open(wait=True)
        try:
            transport = httpx.ASGITransport(app=create_app(pool))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await scenario(client)
        finally:
            await pool.close()

    return asyncio.run(main())


def _user(db_url: str, name: str = "alice") -> None:
    with connect(db_url) as conn:
        call(conn, add_user, name, PASSWORD, role="operator")
        conn.commit()


def _session_cookie(response: httpx.Response) -> str:
    return next(c for c in response.headers.get_list("set-cookie") if c.startswith("msghub_session="))


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


async def _login(client: httpx.AsyncClient, username: str = "alice", password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login", data={"csrf_token": _csrf(page.text), "username": username, "password": password}
    )


def test_login_page_is_protected_and_strict(db_url):
    async def scenario(client):
        page = await client.get("/login")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        cookie = page.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        forged = await client.post("/login", data={"csrf_token": "forged", "username": "alice", "password": PASSWORD})
        assert forged.status_code == 403 and "form expired" in forged.text
        return True

    _user(db_url)
    assert _run(db_url, scenario)


def test_wrong_password_then_login_and_logout(db_url, db):
    _user(db_url)

    async def scenario(client):
        bad = await _login(client, password="wrong password!")
        assert bad.status_code == 401 and "wrong user name or password" in bad.text
        unknown = await _login(client, username="mallory")
        assert unknown.status_code == 401 and "wrong user name or password" in unknown.text
        good = await _login(client)
        assert good.status_code == 303 and good.headers["location"] == "/"
        session_cookie = _session_cookie(good)
        assert "httponly" in session_cookie.lower() and "samesite=strict" in session_cookie.lower()
        token = session_cookie.split(";")[0].split("=", 1)[1]
        status = await client.get("/status")
        assert status.status_code == 200 and "Connections" in status.text
        refused = await client.post("/logout", data={"csrf_token": "nope"})
        assert refused.status_code == 403
        out = await client.post("/logout", data={"csrf_token": _csrf(status.text)})
        assert out.status_code == 303
        after = await client.get("/")
        assert after.status_code == 303 and after.headers["location"] == "/login"
        return token

    token = _run(db_url, scenario)
    assert db.execute("SELECT count(*) AS n FROM hub.web_sessions").fetchone()["n"] == 0
    actions = [r["action"] for r in db.execute("SELECT action FROM hub.audit_log ORDER BY id")]
    assert actions == ["login.failed", "login.failed", "login"]
    assert token


def test_session_table_keeps_only_a_digest(db_url, db):
    _user(db_url)

    async def scenario(client):
        response = await _login(client)
        return _session_cookie(response).split(";")[0].split("=", 1)[1]

    token = _run(db_url, scenario)
    stored = db.execute("SELECT token_sha256 FROM hub.web_sessions").fetchone()["token_sha256"]
    assert bytes(stored) == hashlib.sha256(token.encode()).digest()


def test_lockout_after_repeated_failures(db_url, db):
    _user(db_url)

    async def scenario(client):
        for _ in range(5):
            assert (await _login(client, password="wrong password!")).status_code == 401
        locked = await _login(client)
        assert locked.status_code == 401 and "locked" in locked.text
        return True

    assert _run(db_url, scenario)
    row = db.execute("SELECT failed_logins, locked_until > now() AS locked FROM hub.users").fetchone()
    assert row["failed_logins"] == 5 and row["locked"] is True


def test_status_page_escapes_message_content(db_url, db):
    _user(db_url)
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('conn', 'loopback', '{sms}')")
    db.execute(
        "SELECT hub.receive_message_v1(1, 'sms', '\"><b>bold</b>', '{+15550001}', NULL, "
        "'<script>alert(1)</script><img src=x onerror=alert(2)>')"
    )

    async def scenario(client):
        await _login(client)
        return (await client.get("/status")).text

    html = _run(db_url, scenario)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "&#34;&gt;&lt;b&gt;bold&lt;/b&gt;" in html


def test_unauthenticated_pages_redirect_and_health_answers(db_url):
    async def scenario(client):
        page = await client.get("/")
        health = await client.get("/healthz")
        return page, health

    page, health = _run(db_url, scenario)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert health.status_code == 200 and health.json() == {"ok": True}
