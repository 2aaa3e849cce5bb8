"""SQL imports: external databases polled for new rows (hub.import_sources).

Each due source's query runs against its database with the bound parameter
:last_key, the largest key imported so far (NULL on the first run, so the
query must allow for that). Give the parameter a type where the database
cannot infer one (PostgreSQL cannot in `:last_key IS NULL`):

    SELECT id, sender, text FROM orders WHERE id > coalesce(:last_key, -1)
    SELECT * FROM orders WHERE (CAST(:last_key AS bigint) IS NULL OR id > :last_key)
    SELECT * FROM events WHERE at > coalesce(CAST(:last_key AS timestamptz), '-infinity')

Keys are kept as JSON: numbers stay numbers, timestamps come back as ISO text.

The query is wrapped to be ordered by the key column and cut at MAX_ROWS.
The key must be unique and increasing (an identity or a sequence): rows that
share the last key of a full batch would be skipped. Other `:name` words in
the query are bind parameters too, and have no value: avoid them.

Each row becomes a hub.import row (topic, the row as JSON), and so a
data_imported event. The rows and the new last_key are written in one
transaction, which also holds the source's row lock: a crash before the
commit imports nothing (the next run fetches the same rows again), and two
nodes never run one source at once. Exactly once, in short.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import text

from msghub.errors import HubError
from msghub.hub.db import Pool, Row, redact
from msghub.rules.dispatch_loop import POLL_INTERVAL_S, PollingLoop
from msghub.rules.external_sql import engine_for, json_safe, one_line
from msghub.rules.queries import DISPATCH_QUERIES

log = logging.getLogger(__name__)

MAX_ROWS = 1000
# sources run per pass, so one pass ends even if many are due
MAX_SOURCES_PER_PASS = 20


class ImportQueryError(HubError):
    """The source's query ran but its rows cannot be imported as configured."""


@dataclass(frozen=True)
class ImportOutcome:
    source: str
    rows: int
    last_key: Any
    error: str | None


def fetch_new_rows(url: str, query: str, key_column: str, last_key: Any, limit: int = MAX_ROWS) -> list[dict[str, Any]]:
    """Rows after last_key, ordered by the key, as JSON values (blocking)."""
    engine = engine_for(url)
    key = engine.dialect.identifier_preparer.quote(key_column)
    inner = query.strip().rstrip(";")
    # the administrator's own query, wrapped; the key is quoted by the dialect
    wrapped = text(f"SELECT * FROM ({inner}) AS msghub_source ORDER BY {key} LIMIT {int(limit)}")
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(wrapped, {"last_key": last_key})]
    if rows and key_column not in rows[0]:
        raise ImportQueryError(
            f"the query's rows have no key column {key_column!r} (they have: {', '.join(map(repr, rows[0]))})"
        )
    return [{str(k): json_safe(v) for k, v in row.items()} for row in rows]


async def run_source(conn: psycopg.AsyncConnection[Row], source: Row) -> ImportOutcome:
    """Imports one source's new rows in the caller's transaction: the rows,
    last_key, last_run_at and last_error commit (or roll back) together."""
    name, last_key = source["name"], source["last_key"]
    try:
        rows = await asyncio.to_thread(
            fetch_new_rows, source["database_url"], source["query"], source["key_column"], last_key
        )
        if rows:
            async with conn.transaction():  # a savepoint: a refused row leaves the error to record
                await conn.execute(DISPATCH_QUERIES["import_rows"],
                                   {"topic": source["topic"], "payloads": [Jsonb(r) for r in rows]})
            last_key = rows[-1][source["key_column"]]
        outcome = ImportOutcome(name, len(rows), last_key, None)
    except Exception as exc:
        error = one_line(exc)
        log.warning("import %s from %s failed: %s", name, redact(source["database_url"]), error)
        outcome = ImportOutcome(name, 0, last_key, error)
    await conn.execute(
        DISPATCH_QUERIES["import_record"],
        {"name": name, "error": outcome.error, "last_key": None if last_key is None else Jsonb(last_key)},
    )
    return outcome


class Importer(PollingLoop):
    def __init__(self, pool: Pool, *, poll_interval_s: float = POLL_INTERVAL_S) -> None:
        super().__init__(poll_interval_s)
        self.pool = pool
        self.batch_size = MAX_SOURCES_PER_PASS

    async def process_once(self) -> int:
        """Runs due sources, each in its own transaction; how many ran."""
        ran = 0
        while ran < MAX_SOURCES_PER_PASS and await self.run_one() is not None:
            ran += 1
        return ran

    async def run_one(self) -> ImportOutcome | None:
        """The next due source, run; None when none is due."""
        async with self.pool.connection() as conn, conn.transaction():
            source = await (await conn.execute(DISPATCH_QUERIES["import_claim_due"])).fetchone()
            if source is None:
                return None
            return await run_source(conn, source)
