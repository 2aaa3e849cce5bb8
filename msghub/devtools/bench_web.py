"""`msghub bench web`: folder pages and searches of the web UI with many
messages, timed through the app itself (routing, session, row-level
security, queries, templates), printed as JSON.

Writes rows into the database at url (messages whose text starts with
"bench "): run it on a database of its own. Messages already there from an
earlier run are reused; only the missing ones are added, in one statement.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx

from msghub.app.runtime import make_pool
from msghub.devtools.benchkit import machine, percentile
from msghub.hub.db import connect
from msghub.hub.queries import QUERIES
from msghub.services.accounts import change_password
from msghub.services.blocking import call
from msghub.services.tx import SYSTEM
from msghub.services.users import add_user
from msghub.web.app import create_app
from msghub.web.queries import WEB_QUERIES

PASSWORD = "bench web password"
OPERATOR = "bench-web-operator"
USER = "bench-web-user"
RUNS = 60


def _user(conn: Any, name: str, role: str) -> int:
    row = conn.execute(QUERIES["user_by_name"], {"username": name}).fetchone()
    if row is None:
        return call(conn, add_user, name, PASSWORD, role=role)
    call(conn, change_password, SYSTEM, int(row["id"]), PASSWORD)
    return int(row["id"])


def _one(conn: Any, query: str) -> Any:
    row = conn.execute(WEB_QUERIES[query]).fetchone()
    assert row is not None
    return row


def fill(url: str, messages: int) -> tuple[dict[str, Any], float]:
    """Users, a folder and the messages; returns (ids, seconds spent filling)."""
    with connect(url) as conn:
        _user(conn, OPERATOR, "operator")
        user_id = _user(conn, USER, "user")
        folder = conn.execute(WEB_QUERIES["bench_web_find_folder"], {"user_id": user_id}).fetchone()
        if folder is None:
            folder = conn.execute(WEB_QUERIES["bench_web_folder"], {"user_id": user_id}).fetchone()
        assert folder is not None
        folder_id = folder["id"]
        conn.commit()
        have = int(_one(conn, "bench_web_count")["n"])
        t0 = time.perf_counter()
        if have < messages:
            conn.execute(
                WEB_QUERIES["bench_web_fill"], {"messages": messages - have, "user_id": user_id, "folder_id": folder_id}
            )
            conn.commit()
        conn.execute(WEB_QUERIES["bench_web_analyze"])
        conn.commit()
        max_id = int(_one(conn, "bench_web_max_id")["id"])
    return {"folder_id": folder_id, "max_id": max_id}, time.perf_counter() - t0


async def _login(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = await client.post(
        "/login", data={"csrf_token": token.group(1), "username": username, "password": PASSWORD}
    )
    assert response.status_code == 303, f"bench login as {username} failed"


async def measure(url: str, ids: dict[str, Any], runs: int) -> dict[str, dict[str, list[float]]]:
    pool = make_pool(url, max_size=4)
    await pool.open(wait=True)
    middle = ids["max_id"] // 2
    pages = {
        "folder": ["/folders/inbox", "/folders/sent", "/folders/failed", f"/folders/inbox?before={middle}"],
        "search": [
            "/search?q=zebra",
            "/search?q=meeting",
            "/folders/inbox?q=alpha",
            "/search?q=mango+meet",
            "/search?q=nothingmatches",
        ],
    }
    timings: dict[str, dict[str, list[float]]] = {}
    try:
        transport = httpx.ASGITransport(app=create_app(pool))
        for username in (OPERATOR, USER):
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await _login(client, username)
                folder_pages = (
                    [*pages["folder"], f"/folders/{ids['folder_id']}"] if username == USER else pages["folder"]
                )
                for kind, paths in (("folder", folder_pages), ("search", pages["search"])):
                    for path in paths:
                        times = timings.setdefault(kind, {}).setdefault(f"{username} {path}", [])
                        for _ in range(runs):
                            t0 = time.perf_counter()
                            response = await client.get(path)
                            times.append((time.perf_counter() - t0) * 1000)
                            assert response.status_code == 200, f"{path}: {response.status_code}"
    finally:
        await pool.close()
    return timings


def summary(timings: dict[str, list[float]]) -> dict[str, float]:
    every = [t for ts in timings.values() for t in ts]
    return {"p50_ms": round(percentile(every, 0.5), 1), "p99_ms": round(percentile(every, 0.99), 1)}


def main(url: str, messages: int = 1_000_000, runs: int = RUNS) -> dict[str, Any]:
    ids, fill_s = fill(url, messages)
    timings = asyncio.run(measure(url, ids, runs))
    folder, search = summary(timings["folder"]), summary(timings["search"])
    result = {
        "benchmark": "web",
        "messages": messages,
        "fill_s": round(fill_s, 1),
        "runs_per_page": runs,
        "folder_page_p50_ms": folder["p50_ms"],
        "folder_page_p99_ms": folder["p99_ms"],
        "search_p50_ms": search["p50_ms"],
        "search_p99_ms": search["p99_ms"],
        "target_ms": 200,
        "pages": {
            path: {"p50_ms": round(percentile(ts, 0.5), 1), "p99_ms": round(percentile(ts, 0.99), 1)}
            for kind in timings.values()
            for path, ts in kind.items()
        },
        "machine": machine(),
    }
    print(json.dumps(result, indent=2))
    return result
