"""The embedded PostgreSQL: msghub's own server under the data directory.

pgserver ships the server binaries as a wheel, so pip alone is enough. When
started as root it runs the server as a system user of its own, because
PostgreSQL refuses to run as root. It reuses a running server on the same
data directory, clears a stale pid file left by a crash, and stops the server
when the last process that started it exits.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import psutil
import psycopg

from msghub.errors import HubError
from msghub.hub.queries import QUERIES

log = logging.getLogger(__name__)

DATABASE_NAME = "msghub"


class EmbeddedDatabaseError(HubError):
    """The embedded PostgreSQL could not be started."""


def start_embedded(data_dir: Path, *, keep_running: bool = False) -> tuple[str, Any]:
    """Starts (or joins) the embedded server; returns its URL and a handle.

    The handle must stay referenced while the server is in use. With
    keep_running the server outlives this process (tests share one server).
    """
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir / "run"))
    pgdata = data_dir / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _clear_stale_pid_file(pgdata)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG variables
            from pgserver import postgres_server

            server = postgres_server.get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    except Exception as exc:  # pgserver raises bare exceptions with the log tail
        raise EmbeddedDatabaseError(
            f"cannot start the embedded PostgreSQL in {pgdata}: {exc}; "
            f"see {pgdata / 'log'} or set MSGHUB_DATABASE_URL to use another server") from None
    admin_url = server.get_uri()
    _ensure_database(admin_url, DATABASE_NAME)
    return server.get_uri(DATABASE_NAME), server


def _clear_stale_pid_file(pgdata: Path) -> None:
    """Removes postmaster.pid when its server is gone.

    PostgreSQL clears a stale file itself, but pgserver first asks whether the
    pid still exists, and a crashed server that nobody reaped (a zombie, as in
    containers whose init does not reap) still does: it would then hand out
    the address of a dead server.
    """
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    try:
        running = psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        running = False
    if not running:
        # the socket lock names the same pid and would stop the next start too
        stale = [pid_file, *pgdata.glob(".s.PGSQL.*.lock"), *pgdata.glob(".s.PGSQL.[0-9]*[0-9]")]
        log.warning("removing stale files of stopped server pid %s: %s", pid, ", ".join(p.name for p in stale))
        for path in stale:
            path.unlink(missing_ok=True)


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(QUERIES["database_exists"], {"name": name}).fetchone()
        if not exists:
            log.info("creating database %s", name)
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
