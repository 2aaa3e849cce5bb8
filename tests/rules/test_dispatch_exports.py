"""sql.insert() targets: rows written into msghub's own database inside the
caller's transaction, and into external SQLite and PostgreSQL databases
after the commit, with retries and precise refusals."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from msghub.app.runtime import make_pool
from msghub.rules.exports import ExportRefused, ExportWriter, insert_local
from msghub.rules.external_sql import dispose_all
from msghub.services.blocking import call

_counter = itertools.count()


@pytest.fixture(autouse=True)
def fresh_engines() -> Iterator[None]:
    yield
    dispose_all()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    path = tmp_path / "external.db"
    with sqlite3.connect(path) as ext:
        ext.execute(
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL,"
            " seen_at DATETIME, extra TEXT)"
        )
    return f"sqlite:///{path}"


def sqlite_rows(url: str, query: str = "SELECT name, score, seen_at, extra FROM contacts ORDER BY id") -> list[Any]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as ext:
        return ext.execute(query).fetchall()


@pytest.fixture
def external_pg(pg_server: Any) -> Iterator[str]:
    """A second database on the test server, standing in for someone else's."""
    name = f"msghub_ext_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = pg_server.url(name)
    try:
        yield url
    finally:
        dispose_all()
        with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def allow(
    db: psycopg.Connection[Any], name: str, table: str, url: str | None = None, columns: list[str] | None = None
) -> None:
    db.execute(
        "INSERT INTO hub.export_tables (name, table_name, database_url, columns) VALUES (%s, %s, %s, %s)",
        (name, table, url, columns),
    )


def queue(db: psycopg.Connection[Any], export: str, row: Any) -> int:
    return int(
        db.execute(
            "INSERT INTO hub.export_writes (export_name, row_data) VALUES (%s, %s) RETURNING id",
            (export, json.dumps(row)),
        ).fetchone()["id"]
    )


def write_pending(db_url: str, **options: Any) -> int:
    async def main() -> int:
        pool = make_pool(db_url, max_size=2)
        await pool.open(wait=True)
        try:
            return await ExportWriter(pool, **options).process_once()
        finally:
            await pool.close()

    return asyncio.run(main())


def write_state(db: psycopg.Connection[Any], write_id: int) -> dict[str, Any]:
    return dict(
        db.execute(
            "SELECT status, attempts, error, done_at FROM hub.export_writes WHERE id = %s", (write_id,)
        ).fetchone()
    )


# --- external: SQLite ------------------------------------------------------


def test_rows_reach_an_external_sqlite_table(db, db_url, sqlite_url):
    allow(db, "crm", "contacts", sqlite_url)
    first = queue(db, "crm", {"name": "Ann", "score": 1.5, "seen_at": "2026-11-26T01:02:03"})
    second = queue(db, "crm", {"name": "Bob", "extra": {"tags": ["a"]}})

    assert write_pending(db_url) == 2

    assert sqlite_rows(sqlite_url) == [
        ("Ann", 1.5, "2026-11-26 01:02:03.000000", None),
        ("Bob", None, None, '{"tags": ["a"]}'),
    ]
    for write_id in (first, second):
        state = write_state(db, write_id)
        assert state["status"] == "done" and state["attempts"] == 1 and state["error"] is None
        assert state["done_at"] is not None
    assert write_pending(db_url) == 0, "done rows are not written again"
    assert len(sqlite_rows(sqlite_url)) == 2


def test_a_column_the_table_lacks_fails_at_once_naming_it(db, db_url, sqlite_url):
    allow(db, "crm", "contacts", sqlite_url)
    write_id = queue(db, "crm", {"name": "Ann", "shoe_size": 9, "colour": "red"})
    write_pending(db_url)
    state = write_state(db, write_id)
    assert state["status"] == "failed" and state["attempts"] == 1
    assert state["error"] == "export 'crm': table contacts has no column(s) 'colour', 'shoe_size'"
    assert sqlite_rows(sqlite_url) == []


def test_only_allowed_columns_are_written(db, db_url, sqlite_url):
    allow(db, "crm", "contacts", sqlite_url, columns=["name", "score"])
    ok = queue(db, "crm", {"name": "Ann", "score": 2})
    refused = queue(db, "crm", {"name": "Eve", "extra": "sneaky"})
    write_pending(db_url)
    assert write_state(db, ok)["status"] == "done"
    state = write_state(db, refused)
    assert state["status"] == "failed"
    assert state["error"] == "export 'crm': column(s) 'extra' not allowed (allowed: 'name', 'score')"
    assert sqlite_rows(sqlite_url, "SELECT name FROM contacts") == [("Ann",)]


def test_a_column_added_after_the_first_write_is_found(db, db_url, sqlite_url):
    allow(db, "crm", "contacts", sqlite_url)
    queue(db, "crm", {"name": "Ann"})
    write_pending(db_url)  # the table is reflected and remembered here
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as ext:
        ext.execute("ALTER TABLE contacts ADD COLUMN city TEXT")
    write_id = queue(db, "crm", {"name": "Bob", "city": "Oslo"})
    write_pending(db_url)
    assert write_state(db, write_id)["status"] == "done"
    assert sqlite_rows(sqlite_url, "SELECT city FROM contacts WHERE name = 'Bob'") == [("Oslo",)]


def test_failures_are_retried_with_backoff_then_fail(db, db_url, sqlite_url):
    allow(db, "crm", "contacts", sqlite_url)
    write_id = queue(db, "crm", {"extra": "no name"})  # NOT NULL name: the database refuses

    write_pending(db_url, backoff_s=3600)
    state = write_state(db, write_id)
    assert state["status"] == "pending" and state["attempts"] == 1
    assert "IntegrityError" in state["error"] and "name" in state["error"]
    assert write_pending(db_url, backoff_s=3600) == 0, "not due again before its backoff"
    assert write_state(db, write_id)["attempts"] == 1

    for attempt in range(2, 6):
        assert write_pending(db_url, backoff_s=0) == 1, "one attempt per pass"
        assert write_state(db, write_id)["attempts"] == attempt
    assert write_state(db, write_id)["status"] == "failed"
    assert write_pending(db_url, backoff_s=0) == 0, "a failed row is left alone"


def test_a_missing_table_is_retried(db, db_url, sqlite_url):
    allow(db, "crm", "not_there", sqlite_url)
    write_id = queue(db, "crm", {"name": "Ann"})
    write_pending(db_url)
    state = write_state(db, write_id)
    assert state["status"] == "pending" and "not_there" in state["error"]


def test_local_exports_are_not_the_writers_business(db, db_url):
    db.execute("CREATE TABLE public.local_log (who text)")
    allow(db, "log", "local_log")
    write_id = queue(db, "log", {"who": "x"})
    assert write_pending(db_url) == 0
    assert write_state(db, write_id)["status"] == "pending"


# --- external: PostgreSQL --------------------------------------------------


def test_rows_reach_an_external_postgresql_table(db, db_url, external_pg):
    with psycopg.connect(external_pg, autocommit=True) as ext:
        ext.execute("CREATE SCHEMA crm")
        ext.execute(
            'CREATE TABLE crm.contacts (id serial PRIMARY KEY, "Name" text NOT NULL, seen_at timestamptz,'
            " tags jsonb, amount numeric)"
        )
    allow(db, "crm", "crm.contacts", external_pg)
    write_id = queue(
        db, "crm", {"Name": "Ann", "seen_at": "2026-11-26T01:02:03+00:00", "tags": ["vip"], "amount": 12.5}
    )

    write_pending(db_url)

    assert write_state(db, write_id)["status"] == "done"
    with psycopg.connect(external_pg) as ext:
        row = ext.execute('SELECT "Name", seen_at::text, tags, amount::text FROM crm.contacts').fetchone()
    assert row == ("Ann", "2026-11-26 01:02:03+00", ["vip"], "12.5")


# --- msghub's own database -------------------------------------------------


@pytest.fixture
def local_table(db: psycopg.Connection[Any]) -> dict[str, Any]:
    db.execute('CREATE TABLE public.local_log (id serial PRIMARY KEY, who text, n int, data jsonb, "Mixed" text)')
    db.execute("GRANT INSERT ON public.local_log TO msghub_app")
    db.execute("GRANT USAGE ON SEQUENCE public.local_log_id_seq TO msghub_app")
    allow(db, "log", "public.local_log", columns=["who", "n", "data", "Mixed"])
    return dict(db.execute("SELECT * FROM hub.export_tables WHERE name = 'log'").fetchone())


def test_insert_local_writes_in_the_callers_transaction(db, db_url, local_table):
    async def main() -> None:
        pool = make_pool(db_url, max_size=2)
        await pool.open(wait=True)
        try:
            async with pool.connection() as conn:
                async with conn.transaction():
                    await insert_local(
                        conn, local_table, {"who": "kept", "n": 1, "data": {"a": [1]}, "Mixed": "M"}
                    )
                with pytest.raises(RuntimeError):
                    async with conn.transaction():
                        await insert_local(conn, local_table, {"who": "rolled back"})
                        raise RuntimeError("the rule run failed")
        finally:
            await pool.close()

    asyncio.run(main())
    rows = db.execute('SELECT who, n, data, "Mixed" FROM public.local_log').fetchall()
    assert rows == [{"who": "kept", "n": 1, "data": {"a": [1]}, "Mixed": "M"}]


def test_insert_local_refuses_columns_not_allowed(db, local_table):
    with db.transaction(), pytest.raises(ExportRefused) as refused:
        call(db, insert_local, local_table, {"who": "x", "id": 99})
    assert str(refused.value) == "export 'log': column(s) 'id' not allowed (allowed: 'Mixed', 'data', 'n', 'who')"
    assert isinstance(refused.value, ValueError)


def test_insert_local_refuses_unknown_columns_and_leaves_the_transaction_usable(db, local_table):
    export = dict(local_table, columns=None)
    hostile = 'who") VALUES (1); DROP TABLE hub.rules; --'
    with db.transaction():
        with pytest.raises(ExportRefused) as refused:
            call(db, insert_local, export, {"who": "x", hostile: 1})
        assert "has no column(s)" in str(refused.value) and "DROP TABLE" in str(refused.value)
        call(db, insert_local, export, {"who": "after"})
    assert db.execute("SELECT who FROM public.local_log").fetchall() == [{"who": "after"}]
    assert db.execute("SELECT to_regclass('hub.rules') IS NOT NULL AS here").fetchone()["here"]


def test_insert_local_names_a_missing_table(db):
    export = {"name": "gone", "table_name": "public.nowhere", "columns": None}
    with pytest.raises(ExportRefused, match=r"export 'gone': table public.nowhere does not exist"):
        call(db, insert_local, export, {"a": 1})
