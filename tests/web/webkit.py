"""Helpers for web tests: the app in-process over ASGI, users, logging in."""

from __future__ import annotations

import asyncio
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


def run_app(db_url: str, scenario: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
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


def make_user(db_url: str, name: str = "alice", role: str = "operator") -> int:
    with connect(db_url) as conn:
        user_id = call(conn, add_user, name, PASSWORD, role=role)
        conn.commit()
    return int(user_id)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form without a CSRF token"
    return match.group(1)


async def login(client: httpx.AsyncClient, username: str = "alice", password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login", data={"csrf_token": csrf_of(page.text), "username": username, "password": password}
    )
