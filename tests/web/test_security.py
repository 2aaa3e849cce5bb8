"""Hostile content and forged requests against the web app in-process:
attachments are downloads with safe types, pages escape what senders wrote,
every state-changing form needs the session's CSRF token."""

from __future__ import annotations

import base64
import json
import re

from starlette.routing import Route

from msghub.web.app import create_app
from tests.web.webkit import login, make_user, run_app

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
HTML = b"<html><body><script>alert(3)</script></body></html>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _hostile_message(db, owner: int) -> int:
    parts = [
        {"content_type": ct, "filename": fn, "data": base64.b64encode(data).decode()}
        for ct, fn, data in [
            ("image/svg+xml", "logo.svg", SVG),
            ("text/html; charset=utf-8", "<b>page</b>.html", HTML),
            ("image/png", 'cat"; evil=1.png', PNG),
            ("text/plain", "note.txt", b"<script>alert(4)</script>"),
        ]
    ]
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms,mms,email}')")
    mid = db.execute(
        "SELECT hub.receive_message_v1(1, 'email', %s, '{desk@example.org}', %s, %s, '{}', %s) AS id",
        (
            '"><script>alert(5)</script>',
            "<img src=x onerror=alert(6)>",
            '<a href="javascript:alert(7)">x</a><style>body{display:none}</style>',
            json.dumps(parts),
        ),
    ).fetchone()["id"]
    db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (owner, mid))
    return int(mid)


def test_attachments_are_downloads_and_only_raster_images_show_inline(db_url, db):
    alice = make_user(db_url, "alice", role="user")
    mid = _hostile_message(db, alice)
    part_ids = [r["id"] for r in db.execute("SELECT id FROM hub.message_parts ORDER BY seq")]

    async def scenario(client):
        await login(client)
        page = await client.get(f"/messages/{mid}")
        plain = [await client.get(f"/messages/{mid}/parts/{p}") for p in part_ids]
        inline = [await client.get(f"/messages/{mid}/parts/{p}?inline=1") for p in part_ids]
        return page, plain, inline

    page, plain, inline = run_app(db_url, scenario)
    svg, html, png, text = plain
    for response in plain + inline:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("sandbox")
    for response in (svg, html, text):
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment;")
    assert svg.content == SVG and html.content == HTML
    # inline=1 is honoured only for a raster image; SVG and HTML stay downloads
    assert inline[0].headers["content-disposition"].startswith("attachment;")
    assert inline[1].headers["content-type"] == "application/octet-stream"
    assert inline[2].headers["content-type"] == "image/png"
    assert inline[2].headers["content-disposition"].startswith("inline;")
    # a quote in a file name cannot add parameters to the header
    assert 'filename="cat__ evil_1.png"' in png.headers["content-disposition"]
    html_page = page.text
    assert "<script>alert" not in html_page and "onerror=alert" not in html_page.replace("onerror=alert(6)&gt;", "")
    assert "<img src=x" not in html_page and 'href="javascript:' not in html_page and "<style>body" not in html_page
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in html_page  # the text part, shown as text
    assert html_page.count('<img src="/messages/') == 1  # only the PNG is an image on the page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html_page) is None  # no inline script at all


def test_other_users_parts_are_not_found(db_url, db):
    make_user(db_url, "alice", role="user")
    bob = make_user(db_url, "bob", role="user")
    mid = _hostile_message(db, bob)
    part = db.execute("SELECT id FROM hub.message_parts LIMIT 1").fetchone()["id"]

    async def scenario(client):
        await login(client)
        return (await client.get(f"/messages/{mid}/parts/{part}")).status_code

    assert run_app(db_url, scenario) == 404


def test_every_form_post_needs_the_csrf_token(db_url, db):
    make_user(db_url, "alice", role="admin")
    app = create_app(pool=None)  # type: ignore[arg-type]
    posts = [
        r.path
        for r in app.routes
        if isinstance(r, Route)
        and "POST" in (r.methods or set())
        and not r.path.startswith("/api/")
        and r.path != "/login"
    ]
    assert {"/logout", "/compose", "/messages/{message_id:int}/move"} <= set(posts)

    def concrete(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "1", path)

    async def scenario(client):
        await login(client)
        return {
            p: (await client.post(concrete(p), data={"csrf_token": "forged", "name": "x"})).status_code for p in posts
        }

    codes = run_app(db_url, scenario)
    # 403, or 404 where the thing to change does not exist (nothing changes)
    assert {p: c for p, c in codes.items() if c not in (403, 404)} == {}
    assert codes["/logout"] == codes["/compose"] == codes["/folders"] == 403


def test_pages_carry_a_strict_policy(db_url, db):
    make_user(db_url, "alice", role="user")

    async def scenario(client):
        await login(client)
        return [await client.get(p) for p in ("/folders/inbox", "/compose", "/search?q=x", "/polls")]

    for page in run_app(db_url, scenario):
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) is None
        assert " style=" not in page.text
