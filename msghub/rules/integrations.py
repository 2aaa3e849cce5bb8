"""The administration of imports, exports and schedules, shared by the CLI
(msghub/rules/dispatch_cli.py, through the sync wrapper) and the admin pages.

- imports: external databases polled for new rows (hub.import_sources,
  run by msghub/rules/importer.py);
- exports: tables rules may write with sql.insert() (hub.export_tables,
  msghub/rules/exports.py);
- schedules: timed 'schedule' events (hub.schedules, schedules.py).

Database functions take a Tx and never commit; the checks that reach an
external database block, so async callers run them in a thread. Callers
record the audit. A wrong value raises ConfigError saying what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from msghub.errors import ConfigError
from msghub.hub.db import Row, Tx, redact
from msghub.rules.external_sql import dispose_all, driver_url, forget_table, reflected_table, split_table_name
from msghub.rules.importer import fetch_new_rows
from msghub.rules.queries import DISPATCH_QUERIES

# the same patterns as the schema's CHECK constraints, to say what is wrong first
EXPORT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
PREVIEW_ROWS = 5
MAX_NAME = 200
MAX_INTERVAL_S = 366 * 24 * 3600


def check_url(url: str) -> None:
    try:
        make_url(driver_url(url))
    except ArgumentError:
        raise ConfigError(
            f"not an SQLAlchemy database URL: {redact(url)!r}"
            " (e.g. postgresql://user:password@host/db or sqlite:////path/to/file.db)"
        ) from None


def check_interval(seconds: int) -> int:
    if not 1 <= seconds <= MAX_INTERVAL_S:
        raise ConfigError(f"the interval must be between 1 and {MAX_INTERVAL_S} seconds, not {seconds}")
    return seconds


def _check_name(what: str, name: str) -> None:
    if not name.strip() or len(name) > MAX_NAME or "\x00" in name:
        raise ConfigError(f"give the {what} a name (at most {MAX_NAME} characters)")


def _changed(row: Any, what: str, name: str) -> None:
    if row is None:
        raise ConfigError(f"no {what} named {name!r}")


# --- imports ---------------------------------------------------------------


@dataclass(frozen=True)
class ImportSource:
    name: str
    url: str
    query: str
    key_column: str
    topic: str
    interval_s: int


async def save_import(tx: Tx, source: ImportSource) -> None:
    """Adds the source, or replaces the one of that name (its last key stays)."""
    _check_name("import source", source.name)
    check_url(source.url)
    check_interval(source.interval_s)
    if not source.query.strip():
        raise ConfigError("the query is empty")
    if not source.key_column.strip():
        raise ConfigError("name the key column (unique and increasing, remembered as :last_key)")
    if not source.topic.strip():
        raise ConfigError("give the imported rows a topic (rules see it as event.topic)")
    await tx.execute(
        DISPATCH_QUERIES["import_source_upsert"],
        {
            "name": source.name,
            "database_url": source.url,
            "query": source.query,
            "key_column": source.key_column,
            "topic": source.topic,
            "interval_s": source.interval_s,
        },
    )


IMPORT_ACTIONS = {"remove": "import_source_remove", "reset": "import_source_reset",
                  "enable": "import_source_enable", "disable": "import_source_enable"}


async def change_import(tx: Tx, name: str, action: str) -> None:
    """remove, reset (forget the last key), enable or disable a source."""
    if action not in IMPORT_ACTIONS:
        raise ConfigError(f"unknown action {action!r}: use {', '.join(IMPORT_ACTIONS)}")
    row = await (await tx.execute(DISPATCH_QUERIES[IMPORT_ACTIONS[action]],
                                  {"name": name, "enabled": action == "enable"})).fetchone()
    _changed(row, "import source", name)


async def import_sources(tx: Tx) -> list[Row]:
    return await (await tx.execute(DISPATCH_QUERIES["import_sources_list"])).fetchall()


async def import_source(tx: Tx, name: str) -> Row | None:
    """One source with its URL (secret included: never show it as is) and query."""
    return await (await tx.execute(DISPATCH_QUERIES["import_source_get"], {"name": name})).fetchone()


def preview_import(source: Row, limit: int = PREVIEW_ROWS) -> list[dict[str, Any]]:
    """The next rows the source would import, importing nothing (blocking)."""
    try:
        return fetch_new_rows(source["database_url"], source["query"], source["key_column"], source["last_key"],
                              limit)
    except Exception as exc:
        raise ConfigError(f"import {source['name']}: the query failed: {str(exc).strip().splitlines()[0]}") from None
    finally:
        dispose_all()


# --- exports ---------------------------------------------------------------


@dataclass(frozen=True)
class ExportTable:
    name: str
    table: str
    url: str | None  # None: msghub's own database
    columns: list[str] | None  # None: any column


def check_export(export: ExportTable) -> None:
    if not EXPORT_NAME.match(export.name):
        raise ConfigError(f"export name {export.name!r}: letters, digits and _ only, not starting with a digit")
    if not TABLE_NAME.match(export.table):
        raise ConfigError(f"table {export.table!r}: write TABLE or SCHEMA.TABLE (letters, digits and _)")
    if export.url:
        check_url(export.url)
    if export.columns is not None and not export.columns:
        raise ConfigError("name at least one column, or allow any")


def check_external_table(export: ExportTable) -> str | None:
    """Asks the external database (blocking); a warning rather than a refusal
    when it cannot be reached: it may be down now and up when rules write."""
    assert export.url is not None
    try:
        forget_table(export.url, export.table)
        present = set(reflected_table(export.url, export.table).c.keys())
    except Exception as exc:
        return f"could not look at {export.table} in {redact(export.url)}: {str(exc).strip().splitlines()[0]}"
    finally:
        dispose_all()
    _check_present(export, present)
    return None


def _check_present(export: ExportTable, present: set[str]) -> None:
    missing = [c for c in export.columns or () if c not in present]
    if missing:
        raise ConfigError(f"table {export.table} has no column(s) {', '.join(map(repr, missing))}")


async def allow_export(tx: Tx, export: ExportTable) -> str | None:
    """Lets rules write the table (replacing an export of that name). For a
    table in msghub's own database, checks it here; returns a note when the
    hub's role may not insert into it yet. check_export() and, for an
    external table, check_external_table() come first."""
    check_export(export)
    note = None
    if not export.url:
        schema, table = split_table_name(export.table)
        access = await (await tx.execute(DISPATCH_QUERIES["local_table_access"],
                                         {"schema": schema, "table": table})).fetchone()
        if not access or not access["exists"]:
            raise ConfigError(f"no table {export.table} in msghub's database (create it first, or give a URL)")
        columns = await (await tx.execute(DISPATCH_QUERIES["local_table_columns"],
                                          {"schema": schema, "table": table})).fetchall()
        _check_present(export, {r["name"] for r in columns})
        if not access["insertable"]:
            note = (f"the hub's role may not insert into {export.table} yet; as its owner run "
                    f"GRANT INSERT ON {export.table} TO msghub_app; (and USAGE on any sequence it uses)")
    await tx.execute(
        DISPATCH_QUERIES["export_table_upsert"],
        {"name": export.name, "table_name": export.table, "database_url": export.url or None,
         "columns": export.columns},
    )
    return note


async def remove_export(tx: Tx, name: str) -> None:
    """Rules may no longer write it; its pending writes are dropped."""
    _changed(await (await tx.execute(DISPATCH_QUERIES["export_table_remove"], {"name": name})).fetchone(),
             "export", name)


async def export_tables(tx: Tx) -> list[Row]:
    """Every export with its pending and failed writes."""
    return await (await tx.execute(DISPATCH_QUERIES["export_tables_list"])).fetchall()


# --- schedules -------------------------------------------------------------


async def save_schedule(tx: Tx, name: str, interval_s: int, first_at: Any = None) -> None:
    """Adds the schedule, or replaces the one of that name; first_at (a
    datetime) is when it fires first (None: now)."""
    _check_name("schedule", name)
    check_interval(interval_s)
    await tx.execute(DISPATCH_QUERIES["schedule_upsert"],
                     {"name": name, "interval_s": interval_s, "first_at": first_at})


SCHEDULE_ACTIONS = {"remove": "schedule_remove", "enable": "schedule_enable", "disable": "schedule_enable"}


async def change_schedule(tx: Tx, name: str, action: str) -> None:
    if action not in SCHEDULE_ACTIONS:
        raise ConfigError(f"unknown action {action!r}: use {', '.join(SCHEDULE_ACTIONS)}")
    row = await (await tx.execute(DISPATCH_QUERIES[SCHEDULE_ACTIONS[action]],
                                  {"name": name, "enabled": action == "enable"})).fetchone()
    _changed(row, "schedule", name)


async def schedules(tx: Tx) -> list[Row]:
    return await (await tx.execute(DISPATCH_QUERIES["schedules_list"])).fetchall()
