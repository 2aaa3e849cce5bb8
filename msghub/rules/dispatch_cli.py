"""Command line of imports, exports and schedules (wired into msghub.app.cli
through add_parsers):

    msghub import add NAME --url URL --query SQL --key COLUMN --topic TOPIC [--every SECONDS]
    msghub import test NAME | list | remove NAME | enable NAME | disable NAME | reset NAME
    msghub export allow NAME --table [SCHEMA.]TABLE [--url URL] [--columns a,b]
    msghub export list | remove NAME
    msghub schedule add NAME --every SECONDS [--first ISO-TIME]
    msghub schedule list | remove NAME | enable NAME | disable NAME
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any

import psycopg

from msghub.app.clidb import audit, iso_time, run_service, with_db
from msghub.errors import ConfigError
from msghub.hub.config import Config
from msghub.hub.db import redact
from msghub.rules import integrations
from msghub.rules.integrations import PREVIEW_ROWS, ExportTable, ImportSource

Handler = Callable[[argparse.Namespace, Config], int]



def add_parsers(sub: Any) -> None:
    """Adds the import, export and schedule commands to msghub's subparsers."""
    imp = sub.add_parser("import", help="poll external databases for new rows (hub.import)").add_subparsers(
        dest="action", required=True
    )
    i_add = imp.add_parser("add", help="add (or replace) a source; its query gets :last_key, NULL on the first run")
    i_add.add_argument("name")
    i_add.add_argument("--url", required=True, help="SQLAlchemy URL, e.g. postgresql://u:p@host/db, sqlite:///f.db")
    i_add.add_argument(
        "--query",
        required=True,
        help="e.g. SELECT * FROM orders WHERE id > coalesce(:last_key, -1); '-' reads standard input",
    )
    i_add.add_argument("--key", required=True, help="the unique, increasing column remembered as :last_key")
    i_add.add_argument("--topic", required=True, help="topic of the hub.import rows")
    i_add.add_argument("--every", type=_seconds, default=60, metavar="SECONDS", help="poll interval (default 60)")
    i_add.set_defaults(handler=cmd_import_add)
    for action, helptext in (
        ("test", f"show the next {PREVIEW_ROWS} rows the source would import (imports nothing)"),
        ("remove", "remove a source"),
        ("enable", "resume polling a source"),
        ("disable", "stop polling a source"),
        ("reset", "forget the last key: the next run starts from the beginning"),
    ):
        p = imp.add_parser(action, help=helptext)
        p.add_argument("name")
        p.set_defaults(handler=cmd_import_simple)
    imp.add_parser("list", help="list sources with their last run").set_defaults(handler=cmd_import_list)

    exp = sub.add_parser("export", help="tables rules may write with sql.insert()").add_subparsers(
        dest="action", required=True
    )
    e_allow = exp.add_parser("allow", help="let rules write NAME: a table here, or in another database (--url)")
    e_allow.add_argument("name")
    e_allow.add_argument("--table", required=True, help="[SCHEMA.]TABLE")
    e_allow.add_argument("--url", help="SQLAlchemy URL of an external database (default: msghub's own)")
    e_allow.add_argument("--columns", type=_column_list, help="comma-separated columns rules may fill (default: any)")
    e_allow.set_defaults(handler=cmd_export_allow)
    e_rm = exp.add_parser("remove", help="stop rules writing NAME (its pending writes are dropped)")
    e_rm.add_argument("name")
    e_rm.set_defaults(handler=cmd_export_remove)
    exp.add_parser("list", help="list writable tables with pending and failed writes").set_defaults(
        handler=cmd_export_list
    )

    sch = sub.add_parser("schedule", help="timed 'schedule' events for rules").add_subparsers(
        dest="action", required=True
    )
    s_add = sch.add_parser("add", help="add (or replace) a schedule firing every SECONDS")
    s_add.add_argument("name")
    s_add.add_argument("--every", type=_seconds, required=True, metavar="SECONDS")
    s_add.add_argument("--first", type=iso_time, help="first time it fires (ISO, default now)")
    s_add.set_defaults(handler=cmd_schedule_add)
    for action in ("remove", "enable", "disable"):
        p = sch.add_parser(action, help=f"{action} a schedule")
        p.add_argument("name")
        p.set_defaults(handler=cmd_schedule_simple)
    sch.add_parser("list", help="list schedules").set_defaults(handler=cmd_schedule_list)


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, not {value}")
    return value


def _column_list(text: str) -> list[str]:
    columns = [c.strip() for c in text.split(",") if c.strip()]
    if not columns:
        raise argparse.ArgumentTypeError("name at least one column")
    return columns


def _with_db(config: Config, fn: Callable[[psycopg.Connection[Any]], None]) -> int:
    with_db(config, fn)
    return 0


# --- imports ---------------------------------------------------------------


def cmd_import_add(args: argparse.Namespace, config: Config) -> int:
    query = sys.stdin.read() if args.query == "-" else args.query
    source = ImportSource(args.name, args.url, query, args.key, args.topic, args.every)

    def add(conn: psycopg.Connection[Any]) -> None:
        run_service(conn, integrations.save_import, source)
        audit(conn, getpass.getuser(), "import.add", args.name, {"url": redact(args.url), "topic": args.topic})
        print(f"import {args.name}: every {args.every} s from {redact(args.url)} as topic {args.topic!r}")

    return _with_db(config, add)


def cmd_import_simple(args: argparse.Namespace, config: Config) -> int:
    def act(conn: psycopg.Connection[Any]) -> None:
        if args.action == "test":
            _preview(conn, args.name)
            return
        run_service(conn, integrations.change_import, args.name, args.action)
        audit(conn, getpass.getuser(), f"import.{args.action}", args.name)
        print(f"import {args.name}: {args.action} done")

    return _with_db(config, act)


def _preview(conn: psycopg.Connection[Any], name: str) -> None:
    source = run_service(conn, integrations.import_source, name)
    if source is None:
        raise ConfigError(f"no import source named {name!r}")
    rows = integrations.preview_import(source)
    print(
        f"import {name}: after last key {json.dumps(source['last_key'])}, {len(rows)} row(s)"
        f"{' (first ' + str(PREVIEW_ROWS) + ')' if len(rows) == PREVIEW_ROWS else ''}"
    )
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


def cmd_import_list(args: argparse.Namespace, config: Config) -> int:
    def show(conn: psycopg.Connection[Any]) -> None:
        rows = run_service(conn, integrations.import_sources)
        if not rows:
            print("no import sources (add one: msghub import add NAME --url URL --query SQL --key ID --topic T)")
        for r in rows:
            state = "enabled" if r["enabled"] else "disabled"
            last = r["last_run_at"].isoformat(timespec="seconds") if r["last_run_at"] else "never"
            print(
                f"{r['name']:<20} {state:<8} every {r['interval_s']} s, topic {r['topic']}, key {r['key_column']}"
                f" = {json.dumps(r['last_key'])}, last run {last}, {redact(r['database_url'])}"
            )
            if r["last_error"]:
                print(f"{'':<20} last error: {r['last_error']}")

    return _with_db(config, show)


# --- exports ---------------------------------------------------------------


def cmd_export_allow(args: argparse.Namespace, config: Config) -> int:
    export = ExportTable(args.name, args.table, args.url, args.columns)
    integrations.check_export(export)
    if args.url:
        warning = integrations.check_external_table(export)
        if warning:
            print(f"warning: {warning}")

    def allow(conn: psycopg.Connection[Any]) -> None:
        note = run_service(conn, integrations.allow_export, export)
        if note:
            print(f"note: {note}")
        audit(
            conn,
            getpass.getuser(),
            "export.allow",
            args.name,
            {"table": args.table, "url": redact(args.url) if args.url else None, "columns": args.columns},
        )
        where = redact(args.url) if args.url else "msghub's database"
        print(
            f"export {args.name}: rules may insert into {args.table} in {where}"
            f" ({'columns ' + ', '.join(args.columns) if args.columns else 'any column'})"
        )

    return _with_db(config, allow)


def cmd_export_remove(args: argparse.Namespace, config: Config) -> int:
    def rm(conn: psycopg.Connection[Any]) -> None:
        run_service(conn, integrations.remove_export, args.name)
        audit(conn, getpass.getuser(), "export.remove", args.name)
        print(f"export {args.name} removed")

    return _with_db(config, rm)


def cmd_export_list(args: argparse.Namespace, config: Config) -> int:
    def show(conn: psycopg.Connection[Any]) -> None:
        rows = run_service(conn, integrations.export_tables)
        if not rows:
            print("no exports (allow one: msghub export allow NAME --table TABLE [--url URL])")
        for r in rows:
            where = redact(r["database_url"]) if r["database_url"] else "msghub"
            columns = ", ".join(r["columns"]) if r["columns"] else "any column"
            print(
                f"{r['name']:<20} {r['table_name']} in {where} ({columns});"
                f" pending {r['pending']}, failed {r['failed']}"
            )

    return _with_db(config, show)


# --- schedules -------------------------------------------------------------


def cmd_schedule_add(args: argparse.Namespace, config: Config) -> int:
    def add(conn: psycopg.Connection[Any]) -> None:
        run_service(conn, integrations.save_schedule, args.name, args.every, args.first)
        audit(conn, getpass.getuser(), "schedule.add", args.name, {"every": args.every})
        print(f"schedule {args.name}: every {args.every} s")

    return _with_db(config, add)


def cmd_schedule_simple(args: argparse.Namespace, config: Config) -> int:
    def act(conn: psycopg.Connection[Any]) -> None:
        run_service(conn, integrations.change_schedule, args.name, args.action)
        audit(conn, getpass.getuser(), f"schedule.{args.action}", args.name)
        print(f"schedule {args.name}: {args.action} done")

    return _with_db(config, act)


def cmd_schedule_list(args: argparse.Namespace, config: Config) -> int:
    def show(conn: psycopg.Connection[Any]) -> None:
        rows = run_service(conn, integrations.schedules)
        if not rows:
            print("no schedules (add one: msghub schedule add NAME --every SECONDS)")
        for r in rows:
            state = "enabled" if r["enabled"] else "disabled"
            print(f"{r['name']:<20} {state:<8} every {r['interval_s']} s, next {r['next_at'].isoformat()}")

    return _with_db(config, show)
