"""The optional Gammu SMSD tables (schema/optional/gammu.sql, docs/GAMMU.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.hub.paths import schema_dir

# the schema version Gammu's current tables carry (docs/sql/pgsql.sql)
CURRENT_VERSION = 18
# Debian bookworm's Gammu 1.42 checks for 17: the tables of 18 are a superset
# (outbox.SendDays, inbox.InsertIntoDB), so it works against them
OLDEST_VERSION = 17


def schema_file() -> Path:
    return schema_dir() / "optional" / "gammu.sql"


def enabled(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(GATEWAY_QUERIES["gammu_enabled"]).fetchone()
    return bool(row and row["enabled"])


def enable(conn: psycopg.Connection[Any], version: int = CURRENT_VERSION) -> None:
    """Creates schema gammu in the caller's transaction; ValueError when it exists
    or the version is not one these tables serve."""
    if not OLDEST_VERSION <= version <= CURRENT_VERSION:
        raise ValueError(f"Gammu schema version {version}: these tables serve {OLDEST_VERSION} to {CURRENT_VERSION}")
    if enabled(conn):
        raise ValueError("the Gammu tables exist already (schema gammu)")
    # a trusted file shipped with the code, several statements: the simple protocol
    conn.execute(schema_file().read_text(encoding="utf-8"))
    conn.execute(GATEWAY_QUERIES["gammu_set_version"], {"version": version})


def disable(conn: psycopg.Connection[Any]) -> None:
    conn.execute(GATEWAY_QUERIES["gammu_drop"])
