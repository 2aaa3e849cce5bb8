"""LISTEN/NOTIFY wake-ups.

One autocommit connection per process listens on msghub's channels and
calls the subscribers of each. A NOTIFY is only a hint: every subscriber
also polls, so a notification lost while this reconnects costs latency,
never a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable

import psycopg
from psycopg import sql

from msghub.hub.db import DatabaseError, connect_async
from msghub.hub.queries import QUERIES

log = logging.getLogger(__name__)

# channel -> what its payload is (docs/INTEGRATION.md lists the same)
CHANNELS: dict[str, str] = {
    "msghub_outbox": "id of a connection with newly queued messages ('' when unrouted)",
    "msghub_events": "empty: new rows in hub.events",
    "msghub_messages": "empty: messages were received, or reached sent, delivered or failed",
    "msghub_connections": "empty: connections were added, changed or removed",
    "msghub_polls": "id of a poll whose counts changed",
    "msghub_rules": "empty: rules were added, changed or removed",
}

RECONNECT_DELAY_S = 1.0
IDLE_PING_S = 30.0

Callback = Callable[[str], None]


class Listener:
    def __init__(self, url: str) -> None:
        self.url = url
        self._subscribers: dict[str, list[Callback]] = defaultdict(list)
        self._stopping = False
        self.connected = asyncio.Event()

    def subscribe(self, channel: str, callback: Callback) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"unknown notification channel {channel!r}")
        self._subscribers[channel].append(callback)

    def stop(self) -> None:
        self._stopping = True

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self._listen()
            # DatabaseError: no server to reconnect to yet (it is restarting)
            except (psycopg.OperationalError, OSError, DatabaseError) as exc:
                self.connected.clear()
                log.warning("notification listener lost its connection (%s); reconnecting", exc)
                self._wake_all()  # whatever was missed is found by looking
                await asyncio.sleep(RECONNECT_DELAY_S)

    async def _listen(self) -> None:
        conn = await connect_async(self.url, autocommit=True)
        try:
            for channel in CHANNELS:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.connected.set()
            while not self._stopping:
                received = False
                async for note in conn.notifies(timeout=IDLE_PING_S):
                    received = True
                    for callback in self._subscribers.get(note.channel, ()):
                        callback(note.payload)
                    if self._stopping:
                        break
                if not received:
                    await conn.execute(QUERIES["ping"])  # a silent link may be a dead one
        finally:
            self.connected.clear()
            await conn.close()

    def _wake_all(self) -> None:
        for callbacks in self._subscribers.values():
            for callback in callbacks:
                callback("")
