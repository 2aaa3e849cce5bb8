"""Managing connections: add, edit, enable, disable, remove.

Settings are checked against the kind's declarations (connectors.settings)
before anything is written, so the database only ever holds valid configs.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from msghub.connectors.registry import kind_class
from msghub.connectors.settings import validate_config
from msghub.errors import HubError
from msghub.hub.queries import QUERIES


class ConnectionError_(HubError):
    """A connection could not be added, changed or removed."""


def get_connection(conn: psycopg.Connection[Any], name: str) -> dict[str, Any]:
    row = conn.execute(QUERIES["connection_by_name"], {"name": name}).fetchone()
    if row is None:
        raise ConnectionError_(f"no connection named {name!r} (see: msghub connection list)")
    return dict(row)


def add_connection(conn: psycopg.Connection[Any], name: str, kind: str, settings: dict[str, Any], *,
                   enabled: bool = True, is_default: bool = False, max_attempts: int = 5) -> int:
    cls = kind_class(kind)
    config = validate_config(cls.settings, settings)
    try:
        row = conn.execute(QUERIES["insert_connection"], {
            "name": name, "kind": kind, "channels": list(cls.channels), "config": Jsonb(config),
            "enabled": enabled, "is_default": is_default, "max_attempts": max_attempts,
        }).fetchone()
    except psycopg.errors.UniqueViolation:
        raise ConnectionError_(f"a connection named {name!r} already exists") from None
    except psycopg.errors.CheckViolation as exc:
        raise ConnectionError_(_check_message(exc, name, max_attempts)) from None
    assert row is not None
    return int(row["id"])


def edit_connection(conn: psycopg.Connection[Any], name: str, settings: dict[str, Any], *,
                    enabled: bool | None = None, is_default: bool | None = None,
                    max_attempts: int | None = None) -> dict[str, Any]:
    row = get_connection(conn, name)
    cls = kind_class(row["kind"])
    config = validate_config(cls.settings, settings, base=row["config"])
    new_attempts = row["max_attempts"] if max_attempts is None else max_attempts
    try:
        conn.execute(QUERIES["update_connection"], {
            "id": row["id"], "config": Jsonb(config),
            "enabled": row["enabled"] if enabled is None else enabled,
            "is_default": row["is_default"] if is_default is None else is_default,
            "max_attempts": new_attempts,
        })
    except psycopg.errors.CheckViolation as exc:
        raise ConnectionError_(_check_message(exc, name, new_attempts)) from None
    return get_connection(conn, name)


def remove_connection(conn: psycopg.Connection[Any], name: str, *, force: bool = False) -> None:
    row = get_connection(conn, name)
    pending = conn.execute(QUERIES["connection_pending"], {"id": row["id"]}).fetchone()
    count = int(pending["pending"]) if pending else 0
    if count and not force:
        raise ConnectionError_(
            f"connection {name!r} still has {count} queued or sending messages: "
            "disable it and wait, or remove with --force (they then fail as unroutable)")
    conn.execute(QUERIES["fail_connection_messages"], {"id": row["id"]})
    conn.execute(QUERIES["delete_connection"], {"id": row["id"]})


def _check_message(exc: psycopg.errors.CheckViolation, name: str, max_attempts: int) -> str:
    constraint = exc.diag.constraint_name or ""
    if constraint == "connections_name_format":
        return f"invalid connection name {name!r}: letters, digits and _.- only, at most 64"
    if constraint == "connections_max_attempts_range":
        return f"max attempts {max_attempts} out of range: 1 to 100"
    return f"connection refused by the database: {exc.diag.message_primary}"
