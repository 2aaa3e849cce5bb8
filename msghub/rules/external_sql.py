"""External databases, reached through SQLAlchemy (synchronous: callers run
these in a thread). One engine per URL, tables reflected once, and database
values turned into JSON."""

from __future__ import annotations

import base64
import datetime as dt
import math
import threading
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import MetaData, Table, create_engine
from sqlalchemy.engine import Engine

_engines: dict[str, Engine] = {}
_tables: dict[tuple[str, str], Table] = {}
_lock = threading.Lock()


def driver_url(url: str) -> str:
    """A PostgreSQL URL without a driver gets psycopg 3, the one msghub ships with."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def engine_for(url: str) -> Engine:
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            # pre-ping: an external server restarted since the last run is not an error
            engine = _engines[url] = create_engine(driver_url(url), pool_pre_ping=True)
        return engine


def split_table_name(name: str) -> tuple[str | None, str]:
    """'schema.table' or 'table' (the database's default schema)."""
    schema, dot, table = name.rpartition(".")
    return (schema if dot else None), table


def reflected_table(url: str, table_name: str) -> Table:
    """The table as the external database describes it, asked once and remembered."""
    key = (url, table_name)
    with _lock:
        table = _tables.get(key)
    if table is None:
        schema, name = split_table_name(table_name)
        table = Table(name, MetaData(), schema=schema, autoload_with=engine_for(url))
        with _lock:
            _tables[key] = table
    return table


def forget_table(url: str, table_name: str) -> None:
    """Reflect again next time: the table may have changed."""
    with _lock:
        _tables.pop((url, table_name), None)


def dispose_all() -> None:
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
        _tables.clear()
    for engine in engines:
        engine.dispose()


def one_line(exc: BaseException) -> str:
    """An external driver's error for a log line or a status column."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def json_safe(value: Any) -> Any:
    """A database value as JSON: dates and times as ISO 8601 text, decimals as
    numbers (floats when not whole: rules read numbers as JavaScript doubles
    anyway), bytes as base64, anything else unknown as its text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")  # jsonb cannot hold NUL
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return json_safe(str(value))

