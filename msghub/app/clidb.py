"""What every command module shares: one database transaction for a command,
its audit, and the parsing of an ISO time argument."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import psycopg

from msghub.app.runtime import open_database
from msghub.hub.config import Config
from msghub.hub.db import Row, connect
from msghub.services import audit as audit_log
from msghub.services.blocking import call
from msghub.services.tx import Actor


def with_db(config: Config, fn: Callable[[psycopg.Connection[Any]], Any]) -> Any:
    """Runs fn in one transaction on the configured database (embedded or
    not), after checking the schema is not newer than this msghub; commits
    when fn returns. Returns what fn returned."""
    with open_database(config) as db:
        from msghub.hub.migrate import check_not_newer

        check_not_newer(db.url)
        with connect(db.url) as conn:
            result = fn(conn)
            conn.commit()
            return result


# services run on the command's connection (for command modules outside msghub.app)
run_service = call


def audit(conn: psycopg.Connection[Row], actor: str, action: str, target: str | None = None,
          detail: Mapping[str, Any] | None = None) -> None:
    """Records what a CLI command did (services.audit, through the sync wrapper)."""
    call(conn, audit_log.record, Actor(actor), action, target, detail)


def iso_time(text: str) -> datetime:
    """An argparse type: an ISO time, in this machine's zone when it names none."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r} (e.g. 2026-12-01T09:00+01:00)") from None
    return value if value.tzinfo else value.astimezone()
