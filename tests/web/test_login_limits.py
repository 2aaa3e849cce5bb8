"""The limit on failed logins per client address: the login form and API
keys refuse an address after too many failures, and only that address."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from msghub.app.runtime import make_pool
from msghub.web.app import create_app
from tests.web_admin.helpers import PASSWORD, api_key, user

ADDRESS_LIMIT = 20  # failed logins per address and window: docs/SECURITY.md, msghub/hub/login_limits.py
ATTACKER, BYSTANDER = "198.51.100.7", "203.0.113.9"


def _run(db_url: str, scenario: Callable[[dict[str, httpx.AsyncClient]], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        pool = make_pool(db_url, max_size=4)
        await pool.open(wait=True)
        try:
            app = create_app(pool)
            clients = {address: httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                                                  base_url="http://testserver")
                       for address in (ATTACKER, BYSTANDER)}
            try:
                return await scenario(clients)
            finally:
                for client in clients.values():
                    await client.aclose()
        finally:
            await pool.close()

    return asyncio.run(main())


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    page = await client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return await client.post("/login", data={"csrf_token": match.group(1), "username": username,
                                             "password": password})


def test_an_address_with_too_many_failed_logins_is_refused_and_no_other(db_url: str, db: Any) -> None:
    user(db_url, "alice")

    async def scenario(clients: dict[str, httpx.AsyncClient]) -> None:
        attacker, bystander = clients[ATTACKER], clients[BYSTANDER]
        for n in range(ADDRESS_LIMIT):  # each name once: no account lockout involved
            wrong = await _login(attacker, f"guess{n}", "wrong password!")
            assert wrong.status_code == 401, n
        refused = await _login(attacker, "alice", PASSWORD)
        assert refused.status_code == 429 and "too many failed" in refused.text
        assert "msghub_session=" not in refused.headers.get("set-cookie", ""), "even the right password is refused"
        allowed = await _login(bystander, "alice", PASSWORD)
        assert allowed.status_code == 303, "another address is not limited"

    _run(db_url, scenario)
    assert db.execute("SELECT count(*) AS n FROM hub.web_sessions").fetchone() == {"n": 1}


def test_an_address_with_too_many_wrong_api_keys_is_refused_and_no_other(db_url: str) -> None:
    key = api_key(db_url, user(db_url, "alice"))
    key_id = key.split("_")[1]

    async def scenario(clients: dict[str, httpx.AsyncClient]) -> None:
        attacker, bystander = clients[ATTACKER], clients[BYSTANDER]
        for n in range(ADDRESS_LIMIT):
            wrong = await attacker.get("/api/v1/messages", headers={"Authorization": f"Bearer mh_{key_id}_guess{n}"})
            assert wrong.status_code == 401, n
        refused = await attacker.get("/api/v1/messages", headers={"Authorization": f"Bearer {key}"})
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert "retry-after" in refused.headers
        allowed = await bystander.get("/api/v1/messages", headers={"Authorization": f"Bearer {key}"})
        assert allowed.status_code == 200

    _run(db_url, scenario)
