"""`msghub bench api`: the JSON API's send and Kannel's sendsms, timed over
real HTTP against a hub process serving only the web role, printed as JSON.

Each request is timed from sending it to its whole answer; messages queue
for a disabled loopback connection (nothing sends them), so only the
HTTP path and the outbox insert are measured. Writes a user, an API key and
queued messages into the database at url: run it on a database of its own.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from msghub.devtools.benchkit import machine, percentile
from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.hub.db import connect
from msghub.services.blocking import call
from msghub.services.connections import ensure_connection, get_connection, set_enabled
from msghub.services.tx import SYSTEM
from msghub.services.users import add_user
from msghub.web.pages.api import new_key

CONNECTION = "bench-api"
START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(url: str) -> str:
    """A user, a send key and the connection; returns the key."""
    name = f"bench-api-{uuid.uuid4().hex[:8]}"
    key_id, key, digest = new_key()
    with connect(url) as conn:
        call(conn, ensure_connection, SYSTEM, CONNECTION, "loopback", {"delay_ms": 0, "echo": False})
        call(conn, set_enabled, SYSTEM, call(conn, get_connection, CONNECTION), False)
        user_id = call(conn, add_user, name, uuid.uuid4().hex, role="user")
        conn.execute(GATEWAY_QUERIES["bench_api_key"], {"key_id": key_id, "secret_sha256": digest,
                                                        "user_id": user_id})
        conn.commit()
    return key


def _start_web(url: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, MSGHUB_DATABASE_URL=url, MSGHUB_LOG_LEVEL="WARNING", MSGHUB_HTTP_PORT=str(port),
               MSGHUB_NODE_NAME=f"bench-{uuid.uuid4().hex[:6]}")
    proc = subprocess.Popen([sys.executable, "-m", "msghub.app.cli", "run", "--only", "web"], env=env,
                            stdout=sys.stderr)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the hub process exited during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the web server did not come up")


async def _run(requests: int, concurrency: int, send: Callable[[int], Awaitable[httpx.Response]],
               expect: int) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker() -> None:
        nonlocal failures
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            response = await send(i)
            latencies.append((time.perf_counter() - started) * 1000)
            failures += response.status_code != expect

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"requests": requests, "failures": failures, "requests_per_s": round(requests / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50), 2), "p99_ms": round(percentile(latencies, 0.99), 2)}


async def _measure(base: str, key: str, requests: int, concurrency: int) -> dict[str, Any]:
    _, key_id, secret = key.split("_", 2)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        async def api(i: int) -> httpx.Response:
            return await client.post("/api/v1/messages", headers={"Authorization": f"Bearer {key}"},
                                     json={"to": f"+1555{i:07d}", "text": f"bench api {i}",
                                           "connection": CONNECTION})

        async def sendsms(i: int) -> httpx.Response:
            return await client.post("/cgi-bin/sendsms", data={
                "username": key_id, "password": secret, "to": f"+1556{i:07d}", "text": f"bench sendsms {i}",
                "smsc": CONNECTION})

        await _run(min(20, requests), concurrency, api, 201)  # warm-up: connections, caches
        return {"api": await _run(requests, concurrency, api, 201),
                "sendsms": await _run(requests, concurrency, sendsms, 202)}


def bench_api(url: str, requests: int = 2000, concurrency: int = 8) -> dict[str, Any]:
    key = _prepare(url)
    port = _free_port()
    proc = _start_web(url, port)
    try:
        results = asyncio.run(_measure(f"http://127.0.0.1:{port}", key, requests, concurrency))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"benchmark": "api", "concurrency": concurrency, **results, "machine": machine()}
