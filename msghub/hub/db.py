"""Database access: which PostgreSQL, and connections to it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from msghub.errors import HubError

Row = dict[str, Any]
# the hub's pools hand out autocommit connections with dict rows
Pool = AsyncConnectionPool[psycopg.AsyncConnection[Row]]


class DatabaseError(HubError):
    """The database could not be reached or refused what was asked."""


def sqlalchemy_url(url: str) -> str:
    """The same database as an SQLAlchemy URL using the psycopg 3 driver."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise DatabaseError(f"not a PostgreSQL URL: {redact(url)}")
    return f"postgresql+psycopg://{rest}"


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
