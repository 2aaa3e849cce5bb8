"""SQL imports from external databases: new rows only, in key order, at most
MAX_ROWS a run, exactly once across a crash, errors recorded not raised."""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg import sql

from msghub.app.runtime import make_pool
from msghub.hub.db import Pool
from msghub.rules.external_sql import dispose_all
from msghub.rules.importer import MAX_ROWS, Importer, run_source
from msghub.rules.queries import DISPATCH_QUERIES

T = TypeVar("T")
_counter = itertools.count()
NEW_ORDERS = "SELECT id, sender, amount FROM orders WHERE id > coalesce(:last_key, -1)"


class Crash(Exception):
    pass


@pytest.fixture(autouse=True)
def fresh_engines() -> Iterator[None]:
    yield
    dispose_all()


@pytest.fixture
def orders(tmp_path: Path) -> Iterator[tuple[str, sqlite3.Connection]]:
    path = tmp_path / "shop.db"
    ext = sqlite3.connect(path, isolation_level=None)
    ext.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, sender TEXT, amount REAL)")
    try:
        yield f"sqlite:///{path}", ext
    finally:
        ext.close()


def add_orders(ext: sqlite3.Connection, count: int) -> None:
    start = ext.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]
    ext.executemany(
        "INSERT INTO orders (id, sender, amount) VALUES (?, ?, ?)",
        [(i, f"+4470000{i:05d}", i / 2) for i in range(start + 1, start + count + 1)],
    )


def add_source(
    db: psycopg.Connection[Any],
    url: str,
    query: str = NEW_ORDERS,
    *,
    name: str = "shop",
    key: str = "id",
    enabled: bool = True,
) -> None:
    db.execute(
        "INSERT INTO hub.import_sources (name, database_url, query, key_column, topic, interval_s, enabled)"
        " VALUES (%s, %s, %s, %s, 'orders', 60, %s)",
        (name, url, query, key, enabled),
    )


def make_due(db: psycopg.Connection[Any]) -> None:
    db.execute("UPDATE hub.import_sources SET last_run_at = now() - interval '2 minutes'")


def with_pool(db_url: str, work: Callable[[Pool], Awaitable[T]]) -> T:
    async def main() -> T:
        pool = make_pool(db_url, max_size=3)
        await pool.open(wait=True)
        try:
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(main())


def import_once(db_url: str) -> int:
    return with_pool(db_url, lambda pool: Importer(pool).process_once())


def imported(db: psycopg.Connection[Any]) -> list[Any]:
    return [r["payload"] for r in db.execute("SELECT payload FROM hub.import ORDER BY id").fetchall()]


def source(db: psycopg.Connection[Any], name: str = "shop") -> dict[str, Any]:
    return dict(db.execute("SELECT * FROM hub.import_sources WHERE name = %s", (name,)).fetchone())


def test_new_rows_become_imports_and_events_in_key_order(db, db_url, orders):
    url, ext = orders
    add_orders(ext, 3)
    add_source(db, url)

    assert import_once(db_url) == 1

    assert imported(db) == [
        {"id": 1, "sender": "+447000000001", "amount": 0.5},
        {"id": 2, "sender": "+447000000002", "amount": 1.0},
        {"id": 3, "sender": "+447000000003", "amount": 1.5},
    ]
    assert db.execute("SELECT DISTINCT topic FROM hub.import").fetchall() == [{"topic": "orders"}]
    rows = db.execute("SELECT payload FROM hub.events WHERE type = 'data_imported' ORDER BY id").fetchall()
    assert [r["payload"]["row"]["id"] for r in rows] == [1, 2, 3]
    state = source(db)
    assert state["last_key"] == 3 and state["last_error"] is None and state["last_run_at"] is not None


def test_a_source_waits_its_interval_then_imports_only_new_rows(db, db_url, orders):
    url, ext = orders
    add_orders(ext, 2)
    add_source(db, url)
    import_once(db_url)
    add_orders(ext, 2)
    assert import_once(db_url) == 0, "not due yet"
    make_due(db)
    assert import_once(db_url) == 1
    assert [p["id"] for p in imported(db)] == [1, 2, 3, 4]
    make_due(db)
    import_once(db_url)
    assert len(imported(db)) == 4, "nothing new, nothing imported"


def test_a_run_takes_at_most_max_rows(db, db_url, orders):
    url, ext = orders
    add_orders(ext, MAX_ROWS + 5)
    add_source(db, url, "SELECT * FROM orders WHERE (:last_key IS NULL OR id > :last_key)")
    import_once(db_url)
    assert len(imported(db)) == MAX_ROWS and source(db)["last_key"] == MAX_ROWS
    make_due(db)
    import_once(db_url)
    assert [p["id"] for p in imported(db)][-6:] == list(range(MAX_ROWS, MAX_ROWS + 6))
    assert len(imported(db)) == MAX_ROWS + 5


def test_a_crash_before_commit_neither_loses_nor_duplicates_rows(db, db_url, orders):
    url, ext = orders
    add_orders(ext, 3)
    add_source(db, url)

    async def crash_midway(pool: Pool) -> int:
        async with pool.connection() as conn:
            with pytest.raises(Crash):
                async with conn.transaction():
                    due = await (await conn.execute(DISPATCH_QUERIES["import_claim_due"])).fetchone()
                    outcome = await run_source(conn, due)
                    raise Crash  # the node dies before its commit
        return outcome.rows

    assert with_pool(db_url, crash_midway) == 3, "the rows were fetched and inserted before the crash"
    assert imported(db) == [] and source(db)["last_key"] is None and source(db)["last_run_at"] is None
    assert db.execute("SELECT count(*) AS n FROM hub.events").fetchone()["n"] == 0

    assert import_once(db_url) == 1, "still due: the crashed run left no trace"
    make_due(db)
    import_once(db_url)
    assert [p["id"] for p in imported(db)] == [1, 2, 3]


def test_two_nodes_never_run_one_source_at_once(db, db_url, orders):
    url, ext = orders
    add_orders(ext, 1)
    add_source(db, url)

    async def race(pool: Pool) -> Any:
        async with pool.connection() as first, first.transaction():
            held = await (await first.execute(DISPATCH_QUERIES["import_claim_due"])).fetchone()
            assert held is not None
            return await Importer(pool).run_one()

    assert with_pool(db_url, race) is None


def test_errors_are_recorded_and_the_loop_goes_on(db, db_url, orders):
    url, ext = orders
    add_orders(ext, 1)
    add_source(db, url, "SELECT * FROM no_such_table WHERE id > coalesce(:last_key, 0)")
    add_source(db, url, "SELECT sender FROM orders", name="keyless")

    assert import_once(db_url) == 2
    assert "no_such_table" in source(db)["last_error"] and source(db)["last_run_at"] is not None
    assert "no such column: id" in source(db, "keyless")["last_error"], "the key column orders the rows"
    assert imported(db) == []

    db.execute("UPDATE hub.import_sources SET query = %s WHERE name = 'shop'", (NEW_ORDERS,))
    make_due(db)
    import_once(db_url)
    assert source(db)["last_error"] is None and len(imported(db)) == 1


def test_disabled_sources_are_not_run(db, db_url, orders):
    url, ext = orders
    add_orders(ext, 1)
    add_source(db, url, enabled=False)
    assert import_once(db_url) == 0 and imported(db) == []


@pytest.fixture
def external_pg(pg_server: Any) -> Iterator[str]:
    name = f"msghub_src_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield pg_server.url(name)
    finally:
        dispose_all()
        with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_postgresql_values_become_json(db, db_url, external_pg):
    with psycopg.connect(external_pg, autocommit=True) as ext:
        ext.execute(
            "CREATE TABLE signups (id bigint PRIMARY KEY, at timestamptz, day date, price numeric(8,2),"
            " whole numeric, token uuid, raw bytea)"
        )
        ext.execute(
            "INSERT INTO signups VALUES (10, '2026-11-26 01:02:03+00', '2026-11-26', 12.50, 7,"
            " '00000000-0000-0000-0000-000000000001', '\\x6869')"
        )
    add_source(db, external_pg, "SELECT * FROM signups WHERE id > coalesce(CAST(:last_key AS bigint), 0)")

    import_once(db_url)

    [row] = imported(db)
    assert row == {
        "id": 10,
        "at": "2026-11-26T01:02:03+00:00",
        "day": "2026-11-26",
        "price": 12.5,
        "whole": 7,
        "token": "00000000-0000-0000-0000-000000000001",
        "raw": "aGk=",
    }
    assert source(db)["last_key"] == 10
    make_due(db)
    import_once(db_url)
    assert len(imported(db)) == 1, "the bigint key binds back into the query"
