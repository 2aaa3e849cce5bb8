"""The thin sync wrapper: runs an async service on a synchronous psycopg
connection, for the CLI and other synchronous callers.

The service's awaits on the database complete at once (the connection is
synchronous), so the coroutine is driven to its end by hand, without an
event loop: call() also works where a loop is already running. A service
that waits on anything else (a network probe) is refused: run it with
asyncio instead.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg

from msghub.hub.db import Row
from msghub.services.tx import Query, Tx

P = ParamSpec("P")
T = TypeVar("T")


class _Cursor:
    def __init__(self, cursor: psycopg.Cursor[Row]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def fetchone(self) -> Row | None:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()


class SyncTx:
    """A Tx over a synchronous connection."""

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self._conn = conn

    async def execute(self, query: Query, params: Mapping[str, Any] | Sequence[Any] | None = None) -> _Cursor:
        return _Cursor(self._conn.execute(query, params))


def call(conn: psycopg.Connection[Row], service: Callable[Concatenate[Tx, P], Coroutine[Any, Any, T]],
         *args: P.args, **kwargs: P.kwargs) -> T:
    """service(tx, *args, **kwargs) on conn, in conn's transaction."""
    coro = service(SyncTx(conn), *args, **kwargs)
    try:
        coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coro.close()
    raise RuntimeError(f"{getattr(service, '__name__', service)} waits on more than the database: "
                       "run it with asyncio")
