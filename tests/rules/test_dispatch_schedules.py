"""Schedules fire once per due time, skip what was missed, and never fire
twice when several hub nodes poll at once."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import psycopg

from msghub.app.runtime import make_pool
from msghub.rules.schedules import ScheduleTicker, fire_due_schedules

HOUR_S = 3600
PATIENCE_S = 15.0


def add_schedule(
    db: psycopg.Connection[Any], name: str, *, late: str = "10 seconds", interval_s: int = HOUR_S, enabled: bool = True
) -> Any:
    return db.execute(
        "INSERT INTO hub.schedules (name, interval_s, enabled, next_at)"
        " VALUES (%s, %s, %s, now() - %s::interval) RETURNING next_at",
        (name, interval_s, enabled, late),
    ).fetchone()["next_at"]


def fired(db: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [r["payload"] for r in db.execute("SELECT payload FROM hub.events WHERE type = 'schedule' ORDER BY id")]


def next_at(db: psycopg.Connection[Any], name: str) -> Any:
    return db.execute("SELECT next_at FROM hub.schedules WHERE name = %s", (name,)).fetchone()["next_at"]


def fire(db_url: str) -> int:
    async def main() -> int:
        # a lock wait would mean SKIP LOCKED is missing: fail rather than hang
        async with await psycopg.AsyncConnection.connect(
            db_url, autocommit=True, options="-c lock_timeout=5000"
        ) as conn:
            return await fire_due_schedules(conn)

    return asyncio.run(main())


def test_a_due_schedule_fires_once_and_moves_on_one_interval(db, db_url):
    due = add_schedule(db, "hourly")
    add_schedule(db, "later", late="-1 minute")
    add_schedule(db, "off", enabled=False)

    assert fire(db_url) == 1
    [event] = fired(db)
    assert event["schedule"] == "hourly"
    assert db.execute("SELECT %s::timestamptz = %s AS same", (event["due_at"], due)).fetchone()["same"]
    assert next_at(db, "hourly") == due + timedelta(seconds=HOUR_S)
    assert fire(db_url) == 0, "not due again within the hour"


def test_missed_intervals_are_skipped_not_burst(db, db_url):
    due = add_schedule(db, "hourly", late="3 hours 30 minutes")
    assert fire(db_url) == 1
    assert len(fired(db)) == 1
    assert next_at(db, "hourly") == due + timedelta(hours=4), "the next whole interval after now"


def test_a_schedule_locked_by_another_node_is_skipped(db, db_url):
    add_schedule(db, "hourly")
    with psycopg.connect(db_url) as other:  # a transaction of another node, not yet committed
        other.execute("SELECT name FROM hub.schedules FOR UPDATE")
        assert fire(db_url) == 0
        other.rollback()
    assert fire(db_url) == 1


def test_concurrent_callers_fire_a_schedule_once(db, db_url):
    for i in range(5):
        add_schedule(db, f"s{i}")

    async def race() -> list[int]:
        async with AsyncExitStack() as stack:
            conns = [
                await stack.enter_async_context(await psycopg.AsyncConnection.connect(db_url, autocommit=True))
                for _ in range(8)
            ]
            return await asyncio.gather(*(fire_due_schedules(conn) for conn in conns))

    counts = asyncio.run(race())
    assert sum(counts) == 5
    assert sorted(e["schedule"] for e in fired(db)) == [f"s{i}" for i in range(5)]


def test_firing_notifies_msghub_events(db, db_url):
    add_schedule(db, "hourly")
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN msghub_events")
        fire(db_url)
        notes = list(listener.notifies(timeout=PATIENCE_S, stop_after=1))
    assert [n.channel for n in notes] == ["msghub_events"]


def test_the_ticker_fires_while_running(db, db_url):
    add_schedule(db, "hourly")

    async def main() -> None:
        pool = make_pool(db_url, max_size=2)
        await pool.open(wait=True)
        ticker = ScheduleTicker(pool, poll_interval_s=0.05)
        try:
            task = asyncio.create_task(ticker.run())
            async with asyncio.timeout(PATIENCE_S):
                while not fired(db):
                    await asyncio.sleep(0.02)
            ticker.stop()
            await task
        finally:
            await pool.close()

    asyncio.run(main())
    assert [e["schedule"] for e in fired(db)] == ["hourly"]
