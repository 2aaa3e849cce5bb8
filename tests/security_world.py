"""A small world for the access tests of the SQL surface: users, groups,
integrator logins, and connections as each kind of session makes them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row

from msghub.hub.db import connect
from msghub.services import access
from msghub.services.blocking import call
from msghub.services.groups import set_membership_by_name
from msghub.services.tx import SYSTEM
from msghub.services.users import add_user

PASSWORD = "correct horse battery"
INTEGRATOR_PASSWORD = "s3cret-pass-for-crm"

Conn = psycopg.Connection[dict[str, Any]]


def make_world(db_url: str) -> dict[str, int]:
    """alice in helpdesk, bob in sales, carol an operator in helpdesk, root an admin."""
    ids: dict[str, int] = {}
    with connect(db_url) as conn:
        for name, role in (("alice", "user"), ("bob", "user"), ("carol", "operator"), ("root", "admin")):
            ids[name] = call(conn, add_user, name, PASSWORD, role=role)
        ids["helpdesk"] = access.add_group(conn, "helpdesk")
        ids["sales"] = access.add_group(conn, "sales")
        call(conn, set_membership_by_name, SYSTEM, "alice", "helpdesk", member=True)
        call(conn, set_membership_by_name, SYSTEM, "carol", "helpdesk", member=True)
        call(conn, set_membership_by_name, SYSTEM, "bob", "sales", member=True)
        conn.commit()
    return ids


@contextlib.contextmanager
def as_hub_user(db_url: str, user_id: int) -> Iterator[Conn]:
    """A connection as the web app makes one: role msghub_app, one user."""
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SET ROLE msghub_app")
        conn.execute("SELECT set_config('msghub.user_id', %s, false)", (str(user_id),))
        yield conn


@contextlib.contextmanager
def as_system(db_url: str) -> Iterator[Conn]:
    """A connection as the hub's workers make one: role msghub_app, system mode."""
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SET ROLE msghub_app")
        conn.execute("SET msghub.system = 'on'")
        yield conn


@contextlib.contextmanager
def as_owner(db_url: str) -> Iterator[Conn]:
    """The database owner without any hub identity (msghub.system not set)."""
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@contextlib.contextmanager
def as_integrator(db_url: str, *, username: str | None = None, group: str | None = None) -> Iterator[Conn]:
    """A real integrator login (msghub integrator add), mapped to a user or a group."""
    login = f"crm_{uuid.uuid4().hex[:10]}"  # roles are shared by every database of the server
    with connect(db_url) as conn:
        access.add_integrator(conn, login, INTEGRATOR_PASSWORD, username=username, group=group)
        conn.commit()
    parts = urlsplit(db_url)
    url = parts._replace(netloc=f"{login}:{INTEGRATOR_PASSWORD}@{parts.netloc.rpartition('@')[2]}").geturl()
    try:
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as crm:
            yield crm
    finally:
        with connect(db_url) as conn:
            access.remove_integrator(conn, login)
            conn.commit()
