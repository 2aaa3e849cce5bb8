"""Groups, memberships, integrator logins, connection grants, assignment.

Who sees what is decided in the database (schema/15_identity.sql and
80_access_control.sql); this module manages the rows those rules read.
"""

from __future__ import annotations

import logging
import re
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from msghub.errors import HubError
from msghub.hub.db import Row
from msghub.hub.queries import QUERIES
from msghub.services.blocking import call
from msghub.services.tx import Tx

Conn = psycopg.Connection[Any]

log = logging.getLogger(__name__)

# a PostgreSQL role name the hub creates: no quoting surprises in psql or pg_hba
INTEGRATOR_LOGIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
NO_CREATEROLE = ("the hub's database login may not create or drop roles: give it CREATEROLE, or run "
                 "msghub integrator as the database's owner")


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


def password_verifier(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], login: str,
                      password: str) -> str:
    """The SCRAM verifier of the password, as pg_hba asks for: hashed here by
    libpq, so the password itself never reaches the server and no statement
    log can show it."""
    return conn.pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256").decode()


async def _mapped_id(tx: Tx, query: LiteralString, params: dict[str, Any], missing: str) -> int:
    row = await (await tx.execute(QUERIES[query], params)).fetchone()
    if row is None:
        raise AccessError(missing)
    return int(row["id"])


async def _as_login(tx: Tx) -> str:
    """Leaves the hub's role (msghub_app) for the rest of the transaction:
    roles are created and dropped by the database login itself, which needs
    CREATEROLE (or is a superuser). Returns the role to go back to."""
    row = await (await tx.execute(QUERIES["current_role"])).fetchone()
    assert row is not None
    await tx.execute(QUERIES["reset_role_local"])
    return str(row["role"])


async def _back_to(tx: Tx, role: str) -> None:
    await tx.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))


async def create_integrator(tx: Tx, login: str, verifier: str, *, username: str | None,
                            group: str | None) -> None:
    """Creates a database login that sees what the hub user (or group) sees.
    verifier: password_verifier() of its password."""
    if (username is None) == (group is None):
        raise AccessError("map the integrator login to a user (--user) or a group (--group)")
    if not INTEGRATOR_LOGIN.fullmatch(login):
        raise AccessError(f"login {login!r}: 1 to 63 letters, digits and _, starting with a letter or _")
    if await (await tx.execute(QUERIES["role_exists"], {"name": login})).fetchone():
        raise AccessError(f"a database role named {login!r} already exists")
    mapped_user = await _mapped_id(tx, "user_by_name", {"username": username}, f"no user {username!r}") \
        if username else None
    mapped_group = await _mapped_id(tx, "group_by_name", {"name": group}, f"no group named {group!r}") \
        if group else None
    role = await _as_login(tx)
    try:
        await tx.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE msghub_integrator").format(
            sql.Identifier(login), sql.Literal(verifier)))
    except psycopg.errors.InsufficientPrivilege:
        raise AccessError(NO_CREATEROLE) from None
    await _back_to(tx, role)
    await tx.execute(QUERIES["insert_integrator_login"],
                     {"role_name": login, "user_id": mapped_user, "group_id": mapped_group})


async def drop_integrator(tx: Tx, login: str) -> None:
    """Drops the login and closes its open connections (a dropped role's
    sessions would otherwise go on, merely without privileges)."""
    deleted = (await tx.execute(QUERIES["delete_integrator_login"], {"role_name": login})).rowcount
    if not deleted:
        raise AccessError(f"no integrator login {login!r}")
    found = await (await tx.execute(QUERIES["role_oid"], {"name": login})).fetchone()
    role = await _as_login(tx)
    try:
        await tx.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))
    except psycopg.errors.InsufficientPrivilege:
        raise AccessError(NO_CREATEROLE) from None
    if found is not None:
        # by oid: once dropped, the role has no name in pg_stat_activity
        ended = await (await tx.execute(QUERIES["end_role_connections"], {"oid": found["oid"]})).fetchone()
        if ended is not None and not ended["signalled"]:
            log.warning("integrator login %s removed; its open connections stay until they close (closing them "
                        "needs a superuser or pg_signal_backend)", login)
    await _back_to(tx, role)


async def integrator_logins(tx: Tx) -> list[Row]:
    """Every integrator login with the user or group it acts as."""
    return await (await tx.execute(QUERIES["list_integrator_logins"])).fetchall()


def add_integrator(conn: Conn, login: str, password: str, *, username: str | None, group: str | None) -> None:
    """create_integrator() on a synchronous connection."""
    call(conn, create_integrator, login, password_verifier(conn, login, password), username=username, group=group)


def remove_integrator(conn: Conn, login: str) -> None:
    """drop_integrator() on a synchronous connection."""
    call(conn, drop_integrator, login)


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
