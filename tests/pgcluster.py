"""Debian's PostgreSQL 15 clusters for the failover tests: a primary and a
streaming replica, run as the system user `postgres` on loopback ports in
throwaway directories (scripts/install-test-deps installs postgresql-15)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

BIN = Path("/usr/lib/postgresql/15/bin")
RUN_USER = "postgres"
TOOL_TIMEOUT_S = 120


def available() -> str | None:
    """Why the clusters cannot run here, or None."""
    if not (BIN / "initdb").exists():
        return "Debian's postgresql-15 is not installed"
    try:
        pwd.getpwnam(RUN_USER)
    except KeyError:
        return f"no system user {RUN_USER}"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != RUN_USER:
        return f"needs root (to run as {RUN_USER}) or {RUN_USER} itself"
    return None


def _as_user(*args: str | Path) -> list[str]:
    command = [str(a) for a in args]
    return ["runuser", "-u", RUN_USER, "--", *command] if os.geteuid() == 0 else command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.dir = root / name
        self.port = free_port()
        self.log = root / f"{name}.log"

    def _run(self, *args: str | Path) -> None:
        subprocess.run(_as_user(*args), check=True, capture_output=True, timeout=TOOL_TIMEOUT_S)

    def _configure(self) -> None:
        with (self.dir / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.dir}'\nfsync = off\n")

    def init_primary(self) -> None:
        self._run(BIN / "initdb", "-D", self.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (self.dir / "postgresql.conf").open("a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nwal_keep_size = '256MB'\n")
        with (self.dir / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._configure()

    def init_replica(self, primary: Cluster) -> None:
        self._run(BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                  "-D", self.dir, "-R", "-X", "stream")
        self._configure()

    def start(self) -> None:
        self._run(BIN / "pg_ctl", "-D", self.dir, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(_as_user(BIN / "pg_ctl", "-D", self.dir, "-m", mode, "-w", "stop"),
                       capture_output=True, timeout=TOOL_TIMEOUT_S)

    def restart(self, mode: str = "fast") -> None:
        """pg_ctl restart -m mode: fast ends the sessions cleanly, immediate
        aborts the server (crash recovery from the WAL at the start)."""
        self._run(BIN / "pg_ctl", "-D", self.dir, "-l", self.log, "-m", mode, "-w", "-t", "60", "restart")

    def promote(self) -> None:
        self._run(BIN / "pg_ctl", "-D", self.dir, "-w", "-t", "60", "promote")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"


@contextlib.contextmanager
def single(disk_mb: int | None = None) -> Iterator[Cluster]:
    """One primary with a database `msghub`, removed afterwards; skips the
    test where Debian's PostgreSQL cannot run. With disk_mb its whole data
    directory lives on a tmpfs of that size (mounted as root; skips if the
    mount is refused), so that a test can fill it: `cluster.root` is the
    mount point."""
    reason = available()
    if reason:
        pytest.skip(reason)
    root = make_root()
    disk = root / "disk"
    mounted = False
    try:
        if disk_mb is not None:
            disk.mkdir()
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={disk_mb}m,mode=0755", "tmpfs", str(disk)],
                                  capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
            if done.returncode != 0:
                pytest.skip(f"cannot mount a tmpfs for the data directory: {done.stderr.strip()}")
            mounted = True
            shutil.chown(disk, RUN_USER, RUN_USER) if os.geteuid() == 0 else None
        cluster = Cluster(disk if mounted else root, "single")
        try:
            cluster.init_primary()
            cluster.start()
            with psycopg.connect(cluster.url(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE msghub")
            yield cluster
        finally:
            cluster.stop("immediate")
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], capture_output=True, timeout=TOOL_TIMEOUT_S)
        shutil.rmtree(root, ignore_errors=True)


def make_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="msghub-pgcluster-"))
    shutil.chown(root, RUN_USER, RUN_USER) if os.geteuid() == 0 else None
    return root
