"""Database access: which PostgreSQL, and connections to it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, LiteralString, Protocol, TypeAlias
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from msghub.errors import HubError

Row = dict[str, Any]
# the hub's pools hand out autocommit connections with dict rows
Pool = AsyncConnectionPool[psycopg.AsyncConnection[Row]]


# SQLSTATE classes of a database short of something (53: disk full, memory,
# connections; 58: system errors such as I/O) and how long /readyz reports one
RESOURCE_SQLSTATE_CLASSES = ("53", "58")
RESOURCE_ERROR_WINDOW_S = 30.0


class ResourceErrors:
    """The last resource error this process got from the database. A full
    disk refuses writes while reads still work, so a read probe alone would
    call such a node ready; /readyz asks this too."""

    def __init__(self) -> None:
        self._at: float | None = None
        self._error = ""

    def clear(self) -> None:
        self._at, self._error = None, ""

    def note(self, exc: BaseException) -> None:
        sqlstate = getattr(exc, "sqlstate", None) or ""
        if sqlstate[:2] in RESOURCE_SQLSTATE_CLASSES:
            self._at, self._error = time.monotonic(), f"{type(exc).__name__}: {str(exc).strip()}"

    def recent(self, window_s: float = RESOURCE_ERROR_WINDOW_S) -> tuple[float, str] | None:
        """(seconds ago, error) when one came within the window."""
        if self._at is None:
            return None
        age = time.monotonic() - self._at
        return (age, self._error) if age <= window_s else None


RESOURCE_ERRORS = ResourceErrors()


class HubPool(AsyncConnectionPool[psycopg.AsyncConnection[Row]]):
    """The hub's pool: notes every resource error that leaves a pooled
    connection's block, whoever caught it afterwards (a connector nacks an
    inbound message it could not store and goes on)."""

    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        try:
            async with super().connection(timeout) as conn:
                yield conn
        except psycopg.Error as exc:
            RESOURCE_ERRORS.note(exc)
            raise


# what both psycopg connection classes accept as a statement
Query: TypeAlias = LiteralString | bytes | sql.SQL | sql.Composed


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    async def fetchone(self) -> Row | None: ...

    async def fetchall(self) -> list[Row]: ...


class Tx(Protocol):
    """One transaction, as code that serves both the async hub and the sync
    CLI takes it: the part of psycopg.AsyncConnection[Row] it uses. A sync
    connection becomes one through msghub.services.blocking."""

    async def execute(self, query: Query, params: Mapping[str, Any] | Sequence[Any] | None = None) -> Cursor: ...


class DatabaseError(HubError):
    """The database could not be reached or refused what was asked."""


def sqlalchemy_url(url: str) -> str:
    """The same database as an SQLAlchemy URL using the psycopg 3 driver."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise DatabaseError(f"not a PostgreSQL URL: {redact(url)}")
    netloc, _, tail = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if "," not in hosts:
        return f"postgresql+psycopg://{rest}"
    # libpq's multi-host form (h1:p1,h2:p2, for failover) is one host=
    # parameter per host in SQLAlchemy's
    path, _, query = tail.partition("?")
    params = "&".join(f"host={h}" for h in hosts.split(","))
    return f"postgresql+psycopg://{userinfo}{at}/{path}?{params}{'&' + query if query else ''}"


def redact(url: str) -> str:
    """A URL safe to print: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


# The CLI and the benchmarks act for the hub as a whole: the views show
# them every row (see schema/15_identity.sql).
SYSTEM_OPTIONS = "-c msghub.system=on"


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[Row]:
    try:
        return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row, options=SYSTEM_OPTIONS)
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to {redact(url)}: {str(exc).strip()}") from None


async def connect_async(url: str, *, autocommit: bool = False) -> psycopg.AsyncConnection[Row]:
    try:
        return await psycopg.AsyncConnection.connect(url, autocommit=autocommit, row_factory=dict_row,
                                                     options=SYSTEM_OPTIONS)
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to {redact(url)}: {str(exc).strip()}") from None
