"""sql.insert(name, row) of rules: rows written to tables an administrator
allowed (hub.export_tables).

- In msghub's own database (database_url NULL): insert_local, inside the
  rule runner's transaction, so the row exists exactly when the rule's other
  actions do.
- In an external database: the runner writes hub.export_writes; ExportWriter
  inserts each row after that commit, one row per transaction, retrying with
  backoff up to MAX_ATTEMPTS. A row is written at least once: a node that
  dies between the external commit and its own leaves it to be written again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Collection, Mapping
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Column

from msghub.errors import HubError
from msghub.hub.db import Pool, Row, Tx
from msghub.rules.dispatch_loop import POLL_INTERVAL_S, PollingLoop
from msghub.rules.external_sql import engine_for, forget_table, one_line, reflected_table, split_table_name
from msghub.rules.queries import DISPATCH_QUERIES

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# the n-th retry is due BACKOFF_S * (2^n - 1) seconds after the row was written
BACKOFF_S = 2.0


class ExportRefused(HubError, ValueError):
    """The row can never be written as asked (a column not allowed, or not in
    the table): not retried."""


def check_columns(
    export_name: str,
    table_name: str,
    row: Mapping[str, Any],
    allowed: Collection[str] | None,
    table_columns: Collection[str],
) -> None:
    """Raises ExportRefused naming every column the row may not fill."""
    if not row:
        raise ExportRefused(f"export {export_name!r}: the row has no columns")
    if allowed is not None:
        refused = sorted(set(row) - set(allowed))
        if refused:
            raise ExportRefused(
                f"export {export_name!r}: column(s) {_names(refused)} not allowed (allowed: {_names(sorted(allowed))})"
            )
    unknown = sorted(set(row) - set(table_columns))
    if unknown:
        raise ExportRefused(f"export {export_name!r}: table {table_name} has no column(s) {_names(unknown)}")


def _names(names: Collection[str]) -> str:
    return ", ".join(repr(n) for n in names) or "none"


# --- msghub's own database -------------------------------------------------


async def insert_local(conn: Tx, export: Mapping[str, Any], row: Mapping[str, Any]) -> None:
    """Inserts `row` into the export's table in the caller's transaction.
    export: a hub.export_tables row (name, table_name, columns). Raises
    ExportRefused (a ValueError) before touching the table when a column is
    not allowed or not in the table, so the transaction stays usable."""
    schema, table = split_table_name(export["table_name"])
    cursor = await conn.execute(DISPATCH_QUERIES["local_table_columns"], {"schema": schema, "table": table})
    columns = [r["name"] if isinstance(r, Mapping) else r[0] for r in await cursor.fetchall()]
    statement, values = _local_insert(export, row, columns)
    await conn.execute(statement, values)


def _local_insert(
    export: Mapping[str, Any], row: Mapping[str, Any], table_columns: list[str]
) -> tuple[sql.Composed, list[Any]]:
    if not table_columns:
        raise ExportRefused(f"export {export['name']!r}: table {export['table_name']} does not exist")
    check_columns(export["name"], export["table_name"], row, export.get("columns"), table_columns)
    schema, table = split_table_name(export["table_name"])
    target = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    names = list(row)
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        target, sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(", ").join(sql.Placeholder() * len(names))
    )
    return statement, [Jsonb(v) if isinstance(v, dict | list) else v for v in row.values()]


# --- external databases ----------------------------------------------------


def write_external(
    export_name: str, url: str, table_name: str, allowed: Collection[str] | None, row: Mapping[str, Any]
) -> None:
    """One row into an external table, in its own transaction (blocking)."""
    table = reflected_table(url, table_name)
    try:
        check_columns(export_name, table_name, row, allowed, table.c.keys())
    except ExportRefused:
        forget_table(url, table_name)  # perhaps the table gained the column since
        table = reflected_table(url, table_name)
        check_columns(export_name, table_name, row, allowed, table.c.keys())
    values = {name: _bindable(table.c[name], value) for name, value in row.items()}
    try:
        with engine_for(url).begin() as conn:
            conn.execute(table.insert(), [values])
    except Exception:
        forget_table(url, table_name)
        raise


def _bindable(column: Column[Any], value: Any) -> Any:
    """JSON values in the shape the column's type binds: nested values as JSON
    text unless the column is JSON, ISO text as dates for date columns."""
    if isinstance(column.type, JSON):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, str):
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            return value
        if python_type is dt.datetime:
            return dt.datetime.fromisoformat(value)
        if python_type is dt.date:
            return dt.date.fromisoformat(value)
        if python_type is dt.time:
            return dt.time.fromisoformat(value)
    return value


class ExportWriter(PollingLoop):
    def __init__(
        self,
        pool: Pool,
        *,
        backoff_s: float = BACKOFF_S,
        max_attempts: int = MAX_ATTEMPTS,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        super().__init__(poll_interval_s)
        self.pool = pool
        self.backoff_s = backoff_s
        self.max_attempts = max_attempts

    async def process_once(self) -> int:
        """Writes due rows, one transaction each; how many were attempted."""
        attempted, last_id = 0, 0
        while attempted < self.batch_size:
            last_id = await self._write_one(after_id=last_id)
            if not last_id:
                break
            attempted += 1
        return attempted

    async def _write_one(self, after_id: int) -> int:
        """Writes the next due row after after_id; its id, or 0 when none is due."""
        async with self.pool.connection() as conn, conn.transaction():
            claim = {"backoff_s": self.backoff_s, "after_id": after_id}
            write = await (await conn.execute(DISPATCH_QUERIES["export_claim"], claim)).fetchone()
            if write is None:
                return 0
            status, error = await self._attempt(write)
            await conn.execute(DISPATCH_QUERIES["export_attempted"],
                               {"id": write["id"], "status": status, "error": error})
            return int(write["id"])

    async def _attempt(self, write: Row) -> tuple[str, str | None]:
        """The row's new status and error."""
        row = write["row_data"]
        try:
            if not isinstance(row, dict):
                raise ExportRefused(f"export {write['export_name']!r}: the row is not a JSON object")
            await asyncio.to_thread(
                write_external, write["export_name"], write["database_url"], write["table_name"], write["columns"], row
            )
        except ExportRefused as exc:
            log.warning("export write %s refused: %s", write["id"], exc)
            return "failed", str(exc)
        except Exception as exc:
            error = one_line(exc)
            attempts = write["attempts"] + 1
            final = attempts >= self.max_attempts
            log.warning(
                "export write %s to %s failed (attempt %s of %s): %s",
                write["id"],
                write["export_name"],
                attempts,
                self.max_attempts,
                error,
            )
            return ("failed" if final else "pending"), error
        return "done", None
