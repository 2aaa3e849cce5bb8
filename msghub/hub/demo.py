"""The demo of `msghub run --demo`: a loopback connection and one message
that visibly goes out and comes back within seconds of the server starting."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from msghub.hub.connections import add_connection
from msghub.hub.db import Pool
from msghub.hub.queries import QUERIES

DEMO_CONNECTION = "demo"
DEMO_NUMBER = "+15550100"
WATCH_S = 20.0


def ensure_demo_connection(conn: psycopg.Connection[Any]) -> None:
    row = conn.execute(QUERIES["connection_by_name"], {"name": DEMO_CONNECTION}).fetchone()
    if row is None:
        add_connection(conn, DEMO_CONNECTION, "loopback", {"delay_ms": 1500}, is_default=True)


async def show_round_trip(pool: Pool, say: Any = print) -> None:
    """Queues a message through hub.outbox and prints each step of its trip."""
    start = time.monotonic()
    async with pool.connection() as conn:
        row = await (await conn.execute(QUERIES["queue_message_full"], {
            "channel": "sms", "recipients": [DEMO_NUMBER], "sender": "msghub", "subject": None,
            "text": "Hello from msghub!", "attachments": None, "connection": DEMO_CONNECTION, "send_at": None,
            "valid_until": None, "delivery_report": True, "priority": 1, "transliterate": False,
            "correlation_id": "demo", "idempotency_key": None})).fetchone()
        assert row is not None
        message = await (await conn.execute(QUERIES["outbox_messages"], {"id": row["id"]})).fetchone()
    assert message is not None
    message_id = message["id"]
    say(f"demo: queued message {message_id} to {DEMO_NUMBER} through connection '{DEMO_CONNECTION}'")
    seen: set[str] = {"queued"}
    reply_seen = False
    while time.monotonic() - start < WATCH_S and not (reply_seen and "delivered" in seen):
        await asyncio.sleep(0.1)
        async with pool.connection() as conn:
            for step in await (await conn.execute(QUERIES["message_history"], {"id": message_id})).fetchall():
                if step["status"] not in seen:
                    seen.add(step["status"])
                    say(f"demo: message {message_id} {step['status']} after {time.monotonic() - start:.2f} s")
            if not reply_seen:
                reply = await (await conn.execute(QUERIES["loopback_reply"], {"id": message_id})).fetchone()
                if reply:
                    reply_seen = True
                    say(f"demo: reply from {reply['sender']} received after "
                        f"{time.monotonic() - start:.2f} s: {reply['text']!r}")
    if not reply_seen:
        say("demo: no reply yet; see `msghub status` and the status page")
