"""Managing connections: kinds, add, edit, enable, disable, remove, test.

Settings are checked against the kind's declarations (connectors.settings)
before anything is written, so the database only ever holds valid configs.
The CLI and the web pages both call these; neither imports a connector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import psycopg
from psycopg.types.json import Jsonb

from msghub.connectors.base import ProbeResult
from msghub.connectors.registry import KINDS, kind_class
from msghub.connectors.settings import Setting, validate_config
from msghub.errors import HubError
from msghub.hub.queries import QUERIES
from msghub.services import audit
from msghub.services.tx import Actor, Tx

__all__ = [
    "MAX_ATTEMPTS", "MIN_ATTEMPTS", "ConnectionError_", "ConnectionRow", "Kind", "ProbeResult", "Setting",
    "StillQueued", "add_connection", "edit_connection", "ensure_connection", "find_connection", "get_connection",
    "kind", "kinds", "masked", "max_attempts_problem", "probe", "remove_connection", "set_enabled",
    "test_connection",
]

# hub.connections' CHECK constraint connections_max_attempts_range says the same
MIN_ATTEMPTS, MAX_ATTEMPTS = 1, 100
SECRET_MARK = "••••••"
PROBE_TIMEOUT_S = 30.0  # a kind's probe bounds its own waits; this bounds a probe that does not


class ConnectionError_(HubError):
    """A connection could not be added, changed or removed. field names the
    input at fault (name, max_attempts) and problem says it briefly, for a form."""

    def __init__(self, message: str, *, field: str | None = None, problem: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem or message


class StillQueued(ConnectionError_):
    """Removing a connection that still has messages to send, without force."""

    def __init__(self, name: str, pending: int) -> None:
        super().__init__(f"connection {name!r} still has {pending} queued or sending messages: "
                         "disable it and wait, or remove with --force (they then fail as unroutable)")
        self.pending = pending


class ConnectionRow(TypedDict):
    id: int
    name: str
    kind: str
    channels: list[str]
    config: dict[str, Any]
    enabled: bool
    is_default: bool
    max_attempts: int
    state: str
    state_since: datetime
    last_error: str | None
    last_error_at: datetime | None
    node: str | None
    updated_at: datetime


@dataclass(frozen=True)
class Kind:
    """A connection kind as a form or a listing needs it."""

    name: str
    description: str
    channels: tuple[str, ...]
    settings: tuple[Setting, ...]

    def defaults(self) -> dict[str, Any]:
        return {s.name: s.default for s in self.settings}


def kinds() -> dict[str, Kind]:
    return {name: _kind(name) for name in sorted(KINDS)}


def kind(name: str) -> Kind:
    """The kind of this name; ConfigError naming the known ones otherwise."""
    kind_class(name)
    return _kind(name)


def _kind(name: str) -> Kind:
    cls = KINDS[name]
    return Kind(name, cls.description, cls.channels, cls.settings)


def masked(settings: tuple[Setting, ...], config: Mapping[str, Any], mark: str = SECRET_MARK) -> dict[str, Any]:
    """The config as shown to a person: secrets replaced by a mark."""
    secret = {s.name for s in settings if s.secret}
    return {k: (mark if k in secret and v else v) for k, v in config.items()}


def max_attempts_problem(value: int) -> str | None:
    if not MIN_ATTEMPTS <= value <= MAX_ATTEMPTS:
        return f"a whole number from {MIN_ATTEMPTS} to {MAX_ATTEMPTS}"
    return None


def _check_attempts(value: int) -> None:
    problem = max_attempts_problem(value)
    if problem:
        raise ConnectionError_(f"max attempts {value} out of range: {MIN_ATTEMPTS} to {MAX_ATTEMPTS}",
                               field="max_attempts", problem=problem)


async def get_connection(tx: Tx, name: str) -> ConnectionRow:
    row = await QUERIES.one(tx, "connection_by_name", ConnectionRow, {"name": name})
    if row is None:
        raise ConnectionError_(f"no connection named {name!r} (see: msghub connection list)")
    return row


async def find_connection(tx: Tx, connection_id: int) -> ConnectionRow | None:
    return await QUERIES.one(tx, "connection_by_id", ConnectionRow, {"id": connection_id})


async def add_connection(tx: Tx, actor: Actor, name: str, kind_name: str, settings: Mapping[str, Any], *,
                         enabled: bool = True, is_default: bool = False, max_attempts: int = 5) -> int:
    cls = kind_class(kind_name)
    _check_attempts(max_attempts)
    config = validate_config(cls.settings, settings)
    try:
        row = await (await tx.execute(QUERIES["insert_connection"], {
            "name": name, "kind": kind_name, "channels": list(cls.channels_for(config)), "config": Jsonb(config),
            "enabled": enabled, "is_default": is_default, "max_attempts": max_attempts,
        })).fetchone()
    except psycopg.errors.UniqueViolation:
        raise ConnectionError_(f"a connection named {name!r} already exists", field="name") from None
    except psycopg.errors.CheckViolation as exc:
        raise _check_error(exc, name, max_attempts) from None
    assert row is not None
    await audit.record(tx, actor, "connection.create", name, {"kind": kind_name})
    return int(row["id"])


async def edit_connection(tx: Tx, actor: Actor, row: ConnectionRow, settings: Mapping[str, Any], *,
                          is_default: bool | None = None, max_attempts: int | None = None,
                          enabled: bool | None = None) -> ConnectionRow:
    """Changes what is given, keeps the rest; returns the connection as it now is."""
    cls = kind_class(row["kind"])
    new_attempts = row["max_attempts"] if max_attempts is None else max_attempts
    _check_attempts(new_attempts)
    config = validate_config(cls.settings, settings, base=row["config"])
    await _update(tx, row, config, enabled=row["enabled"] if enabled is None else enabled,
                  is_default=row["is_default"] if is_default is None else is_default, max_attempts=new_attempts)
    changed = sorted(k for k in config if config[k] != row["config"].get(k))
    await audit.record(tx, actor, "connection.edit", row["name"], {"settings": changed})
    return await get_connection(tx, row["name"])


async def ensure_connection(tx: Tx, actor: Actor, name: str, kind_name: str, settings: Mapping[str, Any], *,
                            is_default: bool = False) -> None:
    """Adds the connection, or sets these settings on it and enables it (for
    the demo and the benchmarks, whose far side moves with every run)."""
    row = await QUERIES.one(tx, "connection_by_name", ConnectionRow, {"name": name})
    if row is None:
        await add_connection(tx, actor, name, kind_name, settings, is_default=is_default)
    else:
        await edit_connection(tx, actor, row, settings, enabled=True, is_default=is_default or None)


async def set_enabled(tx: Tx, actor: Actor, row: ConnectionRow, enabled: bool) -> None:
    await _update(tx, row, row["config"], enabled=enabled, is_default=row["is_default"],
                  max_attempts=row["max_attempts"])
    await audit.record(tx, actor, "connection.enable" if enabled else "connection.disable", row["name"])


async def _update(tx: Tx, row: ConnectionRow, config: dict[str, Any], *, enabled: bool, is_default: bool,
                  max_attempts: int) -> None:
    # a kind no longer installed keeps its channels (it can still be disabled or removed)
    cls = KINDS.get(row["kind"])
    channels = list(cls.channels_for(config)) if cls is not None else list(row["channels"])
    try:
        await tx.execute(QUERIES["update_connection"], {
            "id": row["id"], "config": Jsonb(config), "channels": channels, "enabled": enabled,
            "is_default": is_default, "max_attempts": max_attempts,
        })
    except psycopg.errors.CheckViolation as exc:
        raise _check_error(exc, row["name"], max_attempts) from None


async def remove_connection(tx: Tx, actor: Actor, row: ConnectionRow, *, force: bool = False) -> int:
    """Removes it; its queued and sending messages fail (only with force).
    Returns how many failed."""
    pending = await (await tx.execute(QUERIES["connection_pending"], {"id": row["id"]})).fetchone()
    count = int(pending["pending"]) if pending else 0
    if count and not force:
        raise StillQueued(row["name"], count)
    await tx.execute(QUERIES["fail_connection_messages"], {"id": row["id"]})
    await tx.execute(QUERIES["delete_connection"], {"id": row["id"]})
    await audit.record(tx, actor, "connection.remove", row["name"], {"force": force, "failed_messages": count})
    return count


async def probe(kind_name: str, config: dict[str, Any], timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """The kind's "Test connection" with these settings, without a hub; a
    probe that takes longer than timeout_s is stopped and reported failed."""
    try:
        return await asyncio.wait_for(kind_class(kind_name).probe(config), timeout_s)
    except TimeoutError:
        return ProbeResult(False, f"no result within {timeout_s:g} s")


async def test_connection(tx: Tx, actor: Actor, row: ConnectionRow) -> ProbeResult:
    """Tests a stored connection and records the outcome in the audit log.
    Waits on the far side: run it with asyncio (not blocking.call)."""
    result = await probe(row["kind"], row["config"])
    await audit.record(tx, actor, "connection.test", row["name"], {"worked": result.ok, "detail": result.detail})
    return result


def _check_error(exc: psycopg.errors.CheckViolation, name: str, max_attempts: int) -> ConnectionError_:
    constraint = exc.diag.constraint_name or ""
    if constraint == "connections_name_format":
        return ConnectionError_(f"invalid connection name {name!r}: letters, digits and _.- only, at most 64",
                                field="name", problem="1 to 64 letters, digits and _.- only")
    if constraint == "connections_max_attempts_range":
        return ConnectionError_(f"max attempts {max_attempts} out of range: {MIN_ATTEMPTS} to {MAX_ATTEMPTS}",
                                field="max_attempts", problem=max_attempts_problem(max_attempts))
    return ConnectionError_(f"connection refused by the database: {exc.diag.message_primary}")
