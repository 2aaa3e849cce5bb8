"""The directory logins page against the real slapd the LDAP tests start:
the settings without secrets, and a test login that says what the
directory answers (role, hub groups) without creating a session or user."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from msghub.app.runtime import make_pool
from msghub.auth.external import ExternalAuthSettings
from msghub.auth.pam import PamSettings
from msghub.web.app import create_app
from tests.test_auth_ldap import READER_PW, USERS, Slapd, slapd  # noqa: F401  (slapd: the fixture)
from tests.web_admin.helpers import assert_inert, login, user


def _run(db_url: str, settings: ExternalAuthSettings, scenario: Any) -> Any:
    async def main() -> Any:
        pool = make_pool(db_url, max_size=4)
        await pool.open(wait=True)
        try:
            transport = httpx.ASGITransport(app=create_app(pool, auth_settings=settings))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await scenario(client)
        finally:
            await pool.close()

    return asyncio.run(main())


def test_settings_are_shown_without_the_bind_password_and_a_test_login_maps_roles_and_groups(
        slapd: Slapd, db_url: str, db: Any) -> None:  # noqa: F811
    user(db_url, "root", role="admin")
    settings = ExternalAuthSettings(ldap=slapd.settings(), pam=None)
    alice_pw = USERS["alice"][0]

    async def scenario(client: httpx.AsyncClient) -> Any:
        token = await login(client, "root")
        page = await client.get("/admin/directory")
        ok = await client.post("/admin/directory", data={"csrf_token": token, "username": "alice",
                                                         "password": alice_pw})
        wrong = await client.post("/admin/directory", data={"csrf_token": token, "username": "alice",
                                                            "password": "not her password"})
        outsider = await client.post("/admin/directory", data={"csrf_token": token, "username": "dave",
                                                               "password": USERS["dave"][0]})
        bad = await client.post("/admin/directory", data={"csrf_token": token, "username": "*)(uid=*",
                                                          "password": "x"})
        forged = await client.post("/admin/directory", data={"csrf_token": "x", "username": "alice",
                                                             "password": alice_pw})
        sessions = db.execute("SELECT count(*) AS n FROM hub.web_sessions").fetchone()["n"]
        return page, ok, wrong, outsider, bad, forged, sessions

    page, ok, wrong, outsider, bad, forged, sessions = _run(db_url, settings, scenario)
    assert page.status_code == 200 and slapd.url in page.text and "ou=people,dc=example,dc=org" in page.text
    assert "set (not shown)" in page.text and "Off (MSGHUB_PAM_SERVICE is not set)" in page.text
    assert "cn=hub-admins,ou=groups,dc=example,dc=org</code> → admin" in page.text
    assert_inert(page.text)
    for response in (page, ok, wrong, outsider, bad):
        assert READER_PW not in response.text and alice_pw not in response.text
    assert ok.status_code == 200
    assert "A login would succeed through LDAP as alice with role admin." in ok.text
    assert "<dt>Hub groups</dt><dd>north</dd>" in ok.text and "alice@example.org" in ok.text
    assert "bad credentials" in wrong.text and "A login would be refused" in wrong.text
    assert "may not use msghub" in outsider.text and "no group that may use msghub" in outsider.text
    assert bad.status_code == 400 and "Give a user name" in bad.text
    assert forged.status_code == 403
    # nothing but the admin's own login: no session, no user, no membership, no lockout
    assert sessions == 1
    assert [r["username"] for r in db.execute("SELECT username FROM hub.users")] == ["root"]
    assert db.execute("SELECT count(*) AS n FROM hub.memberships").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM hub.login_failures").fetchone()["n"] == 0
    audit = [(r["action"], r["target"], r["detail"]) for r in db.execute(
        "SELECT action, target, detail FROM hub.audit_log WHERE action = 'auth.test' ORDER BY id")]
    assert audit == [("auth.test", "alice", {"ldap": "ok"}), ("auth.test", "alice", {"ldap": "bad credentials"}),
                     ("auth.test", "dave", {"ldap": "not allowed"})]


def test_without_directory_settings_the_page_says_so(db_url: str, db: Any) -> None:
    user(db_url, "root", role="admin")
    pam_only = ExternalAuthSettings(ldap=None, pam=PamSettings("msghub-test", "wheel", None))

    async def scenario(client: httpx.AsyncClient) -> Any:
        token = await login(client, "root")
        page = await client.get("/admin/directory")
        return page, token

    page, _ = _run(db_url, pam_only, scenario)
    assert "Off (MSGHUB_LDAP_URL is not set)" in page.text and "msghub-test" in page.text and "wheel" in page.text

    async def nothing(client: httpx.AsyncClient) -> Any:
        token = await login(client, "root")
        return await client.post("/admin/directory", data={"csrf_token": token, "username": "alice",
                                                           "password": "whatever"})

    refused = _run(db_url, ExternalAuthSettings(ldap=None, pam=None), nothing)
    assert refused.status_code == 400 and "Neither LDAP nor PAM is configured" in refused.text
