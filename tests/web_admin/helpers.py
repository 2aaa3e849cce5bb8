"""Shared helpers of the contacts, connections, statistics, admin and API
page tests: the app in-process over ASGI against the test's database."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from typing import Any

import httpx

from msghub.app.runtime import make_pool
from msghub.hub.db import connect
from msghub.services.blocking import call
from msghub.services.users import add_user
from msghub.web.app import create_app
from msghub.web.pages.api import new_key

PASSWORD = "correct horse battery"


def run(db_url: str, scenario: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
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


def user(db_url: str, name: str, role: str = "user") -> int:
    with connect(db_url) as conn:
        user_id = call(conn, add_user, name, PASSWORD, role=role)
        conn.commit()
    return user_id


def api_key(db_url: str, user_id: int, scopes: tuple[str, ...] = ("send", "read")) -> str:
    key_id, key, digest = new_key()
    with connect(db_url) as conn:
        conn.execute(
            "INSERT INTO hub.api_keys (key_id, secret_sha256, name, user_id, scopes) VALUES (%s, %s, 'test', %s, %s)",
            (key_id, digest, user_id, list(scopes)),
        )
        conn.commit()
    assert hashlib.sha256(key.split("_", 2)[2].encode()).digest() == digest
    return key


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Logs in; returns the session's CSRF token (from a page's forms)."""
    page = await client.get("/login")
    response = await client.post(
        "/login", data={"csrf_token": csrf(page.text), "username": username, "password": password}
    )
    assert response.status_code == 303, response.text
    home = await client.get("/")
    return csrf(home.text)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag of the page with its attributes, as a browser parses them."""
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def assert_inert(html: str) -> None:
    """Nothing on the page runs script: no inline script, no event handler
    attribute, no javascript: URL."""
    for tag, attrs in tags(html):
        if tag == "script":
            src = str(attrs.get("src") or "")
            assert src.startswith(("/static/", "http://testserver/static/")), attrs
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src", "action", "formaction") and value:
                assert not value.strip().lower().startswith("javascript:"), (tag, name, value)
