"""Running the real rule runner against a test database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import psycopg

from msghub.app.runtime import make_pool
from msghub.rules.pool import SandboxPool
from msghub.rules.runner import BatchResult, RuleRunner


def add_rule(db: psycopg.Connection[Any], name: str, source: str, *, events: str = "{message_received}",
             position: int = 0, stop: bool = False, enabled: bool = True) -> int:
    return int(db.execute(
        "INSERT INTO hub.rules (name, source, events, position, stop_processing, enabled)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (name, source, events, position, stop, enabled)).fetchone()["id"])


def connection(db: psycopg.Connection[Any], name: str = "gsm") -> int:
    return int(db.execute(
        "INSERT INTO hub.connections (name, kind, channels) VALUES (%s, 'loopback', '{sms,mms,email}') RETURNING id",
        (name,)).fetchone()["id"])


def receive(db: psycopg.Connection[Any], conn_id: int, sender: str, text: str, channel: str = "sms",
            subject: str | None = None) -> int:
    return int(db.execute(
        "SELECT hub.receive_message_v1(%s, %s, %s, %s, %s, %s) AS id",
        (conn_id, channel, sender, ["+15550000"] if channel != "email" else ["hub@example.org"], subject, text),
    ).fetchone()["id"])


class Runner:
    """A rule runner with its own event loop, for synchronous tests."""

    def __init__(self, url: str, workers: int = 1) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool = make_pool(url, max_size=3)
        self.loop.run_until_complete(self.pool.open(wait=True))
        self.sandbox = SandboxPool(workers)
        self.runner = RuleRunner(self.pool, self.sandbox, "test-node")

    def drain(self, max_batches: int = 50) -> int:
        """Process events until none are left; returns how many."""
        total = 0
        for _ in range(max_batches):
            self.runner.rules_changed()
            result: BatchResult = self.loop.run_until_complete(self.runner.process_batch())
            if result.events == 0:
                return total
            total += result.events
        raise AssertionError("events kept coming")

    def close(self) -> None:
        self.sandbox.close()
        self.loop.run_until_complete(self.pool.close())
        self.loop.close()


def runner_for(url: str) -> Iterator[Runner]:
    r = Runner(url)
    try:
        yield r
    finally:
        r.close()
