"""The dispatchers together, as the runtime starts them: each loop does its
work, and setting the stop event ends them all."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from pathlib import Path

from msghub.app.runtime import make_pool
from msghub.rules.dispatch import Dispatchers, run_dispatchers

PATIENCE_S = 20.0


def test_all_loops_run_until_stopped(db, db_url, tmp_path: Path):
    ext = tmp_path / "ext.db"
    with sqlite3.connect(ext) as lite:
        lite.execute("CREATE TABLE sink (v TEXT)")
        lite.execute("CREATE TABLE source (id INTEGER PRIMARY KEY, v TEXT)")
        lite.execute("INSERT INTO source VALUES (1, 'in')")
    url = f"sqlite:///{ext}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    db.execute("INSERT INTO hub.http_requests (method, url) VALUES ('GET', %s)", (f"http://127.0.0.1:{closed}/",))
    db.execute("INSERT INTO hub.export_tables (name, table_name, database_url) VALUES ('sink', 'sink', %s)", (url,))
    db.execute("INSERT INTO hub.export_writes (export_name, row_data) VALUES ('sink', %s)", (json.dumps({"v": "out"}),))
    db.execute(
        "INSERT INTO hub.import_sources (name, database_url, query, key_column, topic)"
        " VALUES ('src', %s, 'SELECT * FROM source WHERE id > coalesce(:last_key, 0)', 'id', 'in')",
        (url,),
    )
    db.execute("INSERT INTO hub.schedules (name, interval_s) VALUES ('tick', 3600)")

    def event_types() -> list[str]:
        return sorted(r["type"] for r in db.execute("SELECT type FROM hub.events"))

    async def main() -> None:
        pool = make_pool(db_url, max_size=4)
        await pool.open(wait=True)
        stop = asyncio.Event()
        try:
            task = asyncio.create_task(run_dispatchers(pool, "n1", stop))
            async with asyncio.timeout(PATIENCE_S):
                while (
                    len(event_types()) < 3
                    or db.execute("SELECT status FROM hub.export_writes").fetchone()["status"] == "pending"
                ):
                    await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(task, PATIENCE_S)
        finally:
            await pool.close()

    asyncio.run(main())
    assert event_types() == ["data_imported", "http_response", "schedule"]
    assert db.execute("SELECT status FROM hub.export_writes").fetchone()["status"] == "done"
    with sqlite3.connect(ext) as lite:
        assert lite.execute("SELECT v FROM sink").fetchall() == [("out",)]


def test_wake_reaches_the_loops_that_follow_rule_runs(db_url):
    async def main() -> tuple[bool, bool, bool]:
        pool = make_pool(db_url, max_size=2)
        dispatchers = Dispatchers(pool, "n1", http_private=True)
        dispatchers.wake()
        woken = (
            dispatchers.http._wakeup.is_set(),
            dispatchers.exports._wakeup.is_set(),
            dispatchers.schedules._wakeup.is_set(),
        )
        await dispatchers.http.aclose()
        return woken

    assert asyncio.run(main()) == (True, True, False)
