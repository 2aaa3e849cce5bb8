"""Rows the cost tests share: connections, tariffs, users acting through
the hub's role (as the web app does)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.rows import dict_row


def connection(db: psycopg.Connection[Any], name: str, channels: str = "{sms,mms,email}", **extra: Any) -> int:
    cols = ["name", "kind", "channels", *extra]
    values = [name, "loopback", channels, *extra.values()]
    marks = ", ".join(["%s"] * len(values))
    return int(db.execute(f"INSERT INTO hub.connections ({', '.join(cols)}) VALUES ({marks}) RETURNING id",
                          values).fetchone()["id"])


def tariff(db: psycopg.Connection[Any], connection_id: int, price: str, prefix: str = "", channel: str = "sms",
           currency: str = "EUR", **extra: Any) -> int:
    cols = ["connection_id", "price", "prefix", "channel", "currency", *extra]
    values = [connection_id, price, prefix, channel, currency, *extra.values()]
    marks = ", ".join(["%s"] * len(values))
    return int(db.execute(f"INSERT INTO hub.tariffs ({', '.join(cols)}) VALUES ({marks}) RETURNING id",
                          values).fetchone()["id"])


def user(db: psycopg.Connection[Any], name: str, role: str = "user", groups: tuple[str, ...] = ()) -> int:
    user_id = int(db.execute("INSERT INTO hub.users (username, role) VALUES (%s, %s) RETURNING id",
                             (name, role)).fetchone()["id"])
    for group in groups:
        db.execute("INSERT INTO hub.groups (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (group,))
        db.execute("INSERT INTO hub.memberships (user_id, group_id) SELECT %s, id FROM hub.groups WHERE name = %s",
                   (user_id, group))
    return user_id


@contextlib.contextmanager
def as_user(db_url: str, user_id: int, autocommit: bool = True) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the web app makes one: role msghub_app, acting for one user."""
    with psycopg.connect(db_url, autocommit=autocommit, row_factory=dict_row) as conn:
        conn.execute("SET ROLE msghub_app")
        conn.execute("SELECT set_config('msghub.user_id', %s, false)", (str(user_id),))
        if not autocommit:
            conn.commit()
        yield conn


def queue(db: psycopg.Connection[Any], text: str = "hello", **columns: Any) -> list[dict[str, Any]]:
    """Inserts one outbox row; the messages it queued, in order."""
    columns = {"recipient": "+4917012345678", **columns}
    cols = ["text", *columns]
    marks = ", ".join(["%s"] * len(cols))
    row = db.execute(f"INSERT INTO hub.outbox ({', '.join(cols)}) VALUES ({marks}) RETURNING id",
                     [text, *columns.values()]).fetchone()
    return list(db.execute("SELECT m.*, c.name AS connection FROM hub.messages m "
                           "LEFT JOIN hub.connections c ON c.id = m.connection_id "
                           "WHERE outbox_id = %s ORDER BY m.id", (row["id"],)))
