"""Test fixtures: a real PostgreSQL for every database test.

By default the suite starts its own server with pgserver (which, as root,
runs PostgreSQL as a system user of its own) in a temporary directory. Set
MSGHUB_TEST_DATABASE_URL to a superuser URL of another server (13 or newer)
to test against it instead. A template database is migrated once per run;
each test gets a fresh copy through pytest-postgresql's DatabaseJanitor.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from pytest_postgresql.janitor import DatabaseJanitor

from msghub.hub.migrate import migrate

TEMPLATE_DB = "msghub_test_template"
_counter = itertools.count()


@dataclass(frozen=True)
class Server:
    admin_url: str
    user: str
    host: str
    port: int
    password: str | None

    def url(self, dbname: str) -> str:
        parts = urlsplit(self.admin_url)
        return parts._replace(path=f"/{dbname}").geturl()


def _server_from_url(url: str) -> Server:
    parts = urlsplit(url)
    host = parts.hostname or parse_qs(parts.query).get("host", ["localhost"])[0]
    return Server(url, parts.username or "postgres", host, parts.port or 5432, parts.password)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    external = os.environ.get("MSGHUB_TEST_DATABASE_URL")
    if external:
        yield _server_from_url(external)
        return
    tmp = Path(tempfile.mkdtemp(prefix="msghub-test-pg-"))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(tmp / "run"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(tmp / "pg", cleanup_mode="stop")
    try:
        yield _server_from_url(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_server: Server) -> str:
    with psycopg.connect(pg_server.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    migrate(pg_server.url(TEMPLATE_DB))
    return TEMPLATE_DB


@pytest.fixture
def db_url(pg_server: Server, template_db: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = f"msghub_test_{os.getpid()}_{next(_counter)}"
    janitor = DatabaseJanitor(user=pg_server.user, host=pg_server.host, port=pg_server.port,
                              password=pg_server.password, dbname=name, template_dbname=template_db)
    janitor.init()
    try:
        yield pg_server.url(name)
    finally:
        janitor.drop()


@pytest.fixture
def db(db_url: str) -> Iterator[psycopg.Connection[dict[str, object]]]:
    """An autocommit connection (dict rows) to a fresh database."""
    from psycopg.rows import dict_row

    # as the database owner, asking to see every row through the views
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row, options="-c msghub.system=on") as conn:
        yield conn
