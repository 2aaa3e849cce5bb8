"""Groups, memberships, integrator logins, connection grants, assignment.

Who sees what is decided in the database (schema/15_identity.sql and
80_access_control.sql); this module manages the rows those rules read.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from msghub.errors import HubError
from msghub.hub.queries import QUERIES

Conn = psycopg.Connection[Any]


class AccessError(HubError):
    pass


def _one(conn: Conn, query: str, params: dict[str, Any], missing: str) -> dict[str, Any]:
    row = conn.execute(QUERIES[query], params).fetchone()
    if row is None:
        raise AccessError(missing)
    return dict(row)


def group_id(conn: Conn, name: str) -> int:
    return int(_one(conn, "group_by_name", {"name": name}, f"no group named {name!r}")["id"])


def user_id(conn: Conn, username: str) -> int:
    return int(_one(conn, "user_by_name", {"username": username}, f"no user {username!r}")["id"])


def add_group(conn: Conn, name: str, description: str = "") -> int:
    try:
        row = conn.execute(QUERIES["insert_group"], {"name": name, "description": description}).fetchone()
    except psycopg.errors.UniqueViolation:
        raise AccessError(f"a group named {name!r} already exists") from None
    except psycopg.errors.CheckViolation:
        raise AccessError("a group needs a name") from None
    assert row is not None
    return int(row["id"])


def remove_group(conn: Conn, name: str) -> None:
    conn.execute(QUERIES["delete_group"], {"id": group_id(conn, name)})


def add_integrator(conn: Conn, login: str, password: str, *, username: str | None, group: str | None) -> None:
    """Creates a database login that sees what the hub user (or group) sees."""
    if (username is None) == (group is None):
        raise AccessError("map the integrator login to a user (--user) or a group (--group)")
    if conn.execute(QUERIES["role_exists"], {"name": login}).fetchone():
        raise AccessError(f"a database role named {login!r} already exists")
    mapped_user = user_id(conn, username) if username else None
    mapped_group = group_id(conn, group) if group else None
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE msghub_integrator").format(
        sql.Identifier(login), sql.Literal(password)))
    conn.execute(QUERIES["insert_integrator_login"],
                 {"role_name": login, "user_id": mapped_user, "group_id": mapped_group})


def remove_integrator(conn: Conn, login: str) -> None:
    deleted = conn.execute(QUERIES["delete_integrator_login"], {"role_name": login}).rowcount
    if not deleted:
        raise AccessError(f"no integrator login {login!r}")
    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


def grant_connection(conn: Conn, connection_id: int, *, username: str | None, group: str | None,
                     allow: bool) -> None:
    if (username is None) == (group is None):
        raise AccessError("name a user (--user) or a group (--group)")
    params = {"connection_id": connection_id,
              "user_id": user_id(conn, username) if username else None,
              "group_id": group_id(conn, group) if group else None}
    conn.execute(QUERIES["grant_connection" if allow else "revoke_connection"], params)


def assign(conn: Conn, message_id: int, *, username: str | None, group: str | None, actor: str) -> None:
    if username is not None and group is not None:
        raise AccessError("assign to a user (--user) or a group (--group), not both")
    row = conn.execute(QUERIES["assign_message"], {
        "message_id": message_id, "actor": actor,
        "user_id": user_id(conn, username) if username else None,
        "group_id": group_id(conn, group) if group else None}).fetchone()
    if not row or not row["assigned"]:
        raise AccessError(f"no message {message_id}")
