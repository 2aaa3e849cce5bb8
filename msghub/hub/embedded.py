"""The embedded PostgreSQL: msghub's own server under the data directory.

pgserver ships the server binaries as a wheel, so pip alone is enough. When
started as root it runs the server as a system user of its own, because
PostgreSQL refuses to run as root. It reuses a running server on the same
data directory, clears a stale pid file left by a crash, and stops the server
when the last process that started it exits.

Every connection authenticates with scram-sha-256, the hub's own too: the
superuser's password is a secret generated on first start in the data
directory (SECRET_FILE, mode 0600). pgserver creates a server that trusts
every local connection; a data directory from before (or a fresh one) is
switched over on start.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psutil
import psycopg
from psycopg import sql

from msghub.errors import HubError
from msghub.hub.queries import QUERIES

log = logging.getLogger(__name__)

DATABASE_NAME = "msghub"
SUPERUSER = "postgres"
SECRET_FILE = "pg-secret"  # under the data directory: the superuser's password
HANDLES_FILE = ".handle_pids.json"  # pgserver's list of the processes using the server

# TCP lines too, for whoever turns listen_addresses on: nothing is trusted
HBA = """\
# Written by msghub (msghub/hub/embedded.py): every connection authenticates.
# The hub's own password (user postgres) is in the data directory's pg-secret.
local   all          all                    scram-sha-256
host    all          all    127.0.0.1/32    scram-sha-256
host    all          all    ::1/128         scram-sha-256
local   replication  all                    scram-sha-256
host    replication  all    127.0.0.1/32    scram-sha-256
host    replication  all    ::1/128         scram-sha-256
"""


class EmbeddedDatabaseError(HubError):
    """The embedded PostgreSQL could not be started."""


def start_embedded(data_dir: Path, *, keep_running: bool = False) -> tuple[str, Any]:
    """Starts (or joins) the embedded server; returns its URL (with the
    hub's password) and a handle.

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

            with postgres_server.PostgresServer._lock:  # pgserver's own lock on its bookkeeping
                _prune_dead_handles(pgdata)
            server = postgres_server.get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    except Exception as exc:  # pgserver raises bare exceptions with the log tail
        raise EmbeddedDatabaseError(
            f"cannot start the embedded PostgreSQL in {pgdata}: {exc}; "
            f"see {pgdata / 'log'} or set MSGHUB_DATABASE_URL to use another server") from None
    hba = (pgdata / "pg_hba.conf").read_text()
    if not (data_dir / SECRET_FILE).exists() and not _trusting(hba):
        server.cleanup()
        raise EmbeddedDatabaseError(
            f"{data_dir / SECRET_FILE} is missing, and the embedded database asks msghub for the password it held: "
            "restore the file from a backup of the data directory")
    password = _secret(data_dir)
    admin_url = with_password(server.get_uri(), password)
    _require_passwords(pgdata, admin_url, password, data_dir / SECRET_FILE)
    _ensure_database(admin_url, DATABASE_NAME)
    return with_password(server.get_uri(DATABASE_NAME), password), server


def with_password(url: str, password: str) -> str:
    """pgserver's URL (``postgresql://postgres:@/db?host=...``) with a password."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{quote(parts.username or SUPERUSER, safe='')}:"
                                 f"{quote(password, safe='')}@{host}").geturl()


def _trusting(hba: str) -> bool:
    """Whether a pg_hba.conf lets connections in without a password (as
    pgserver's initdb writes it): then the hub may still set its own."""
    rules = [line.split("#", 1)[0].split() for line in hba.splitlines()]
    return any(rule and rule[-1] == "trust" for rule in rules)


def _secret(data_dir: Path) -> str:
    """The superuser's password: read, or generated once (mode 0600).

    Written to a temporary file and linked into place, so a process starting
    at the same moment reads the whole secret or makes the link fail."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(tmp, path)
            log.info("generated the embedded database's password in %s", path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    value = path.read_text().strip()
    if not value:
        raise EmbeddedDatabaseError(f"{path} is empty: remove it to have a new password generated")
    return value


def _require_passwords(pgdata: Path, admin_url: str, password: str, secret_path: Path) -> None:
    """Gives the superuser the secret as its password, then makes the server
    ask every connection for a password (scram-sha-256). Idempotent; while
    the old pg_hba.conf (trust) is in force the password is not yet asked."""
    hba = pgdata / "pg_hba.conf"
    if hba.read_text() != HBA:
        try:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                verifier = conn.pgconn.encrypt_password(password.encode(), SUPERUSER.encode(), b"scram-sha-256")
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(SUPERUSER), sql.Literal(verifier.decode())))
                _write_like(hba, HBA)
                conn.execute("SELECT pg_reload_conf()")
        except psycopg.OperationalError as exc:
            raise EmbeddedDatabaseError(f"cannot set the embedded database's password: {exc}") from None
        log.info("the embedded database now asks every connection for a password (scram-sha-256)")
    try:
        psycopg.connect(admin_url).close()
    except psycopg.OperationalError as exc:
        raise EmbeddedDatabaseError(
            f"the embedded database refused msghub's password from {secret_path} ({str(exc).strip()}); "
            "restore that file from a backup") from None


def _write_like(path: Path, text: str) -> None:
    """Replaces a server file at once, keeping its owner (as root, the
    server runs as a user of its own that must still read it)."""
    st = path.stat()
    tmp = path.with_name(f".{path.name}.msghub")
    tmp.write_text(text)
    os.chown(tmp, st.st_uid, st.st_gid)
    tmp.chmod(0o600)
    os.replace(tmp, path)


def _prune_dead_handles(pgdata: Path) -> None:
    """Drops processes that are gone from pgserver's list of users.

    pgserver stops the server when the last process on that list exits. A
    killed hub never takes itself off, so without this a later clean stop
    would leave the server running for ever."""
    path = pgdata / HANDLES_FILE
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return
    alive = [p for p in pids if _running(p)]
    if alive != pids:
        log.info("forgetting embedded database users that are gone: %s", sorted(set(pids) - set(alive)))
        path.write_text(json.dumps(alive))


def _running(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


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
    if not _running(pid):
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
