"""The embedded PostgreSQL: started under the data directory, reused across
runs, stopped on exit, and recovered after a crash of the hub and of the
server itself (a stale postmaster.pid)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

SCRIPT = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from msghub.hub.embedded import start_embedded
    import psycopg
    url, handle = start_embedded(Path(sys.argv[1]))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (n int)")
        if sys.argv[2] == "write":
            conn.execute("INSERT INTO t VALUES (42)")
        print(conn.execute("SELECT coalesce(sum(n), 0) FROM t").fetchone()[0], handle.get_pid(), flush=True)
    if sys.argv[3] == "crash":
        os._exit(0)  # no clean-up: as if the hub was killed
""")


def _run(data_dir: Path, mode: str, ending: str) -> tuple[int, int]:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(data_dir), mode, ending],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    total, pid = proc.stdout.split()
    return int(total), int(pid)


def _alive(pid: int) -> bool:
    # a stopped server whose parent is gone may linger as a zombie until
    # the machine's init reaps it: that is not a running server
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _dead_within(pid: int, seconds: float) -> bool:
    """Waits for the process to end: a stopping server takes as long as the machine lets it."""
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.skipif(sys.platform != "linux", reason="pgserver data directory layout is tested on Linux")
def test_embedded_server_survives_crashes_and_keeps_data(tmp_path):
    data_dir = tmp_path / "var"
    total, pid = _run(data_dir, "write", "clean")
    assert total == 42
    assert (data_dir / "pg" / "PG_VERSION").exists()
    assert _dead_within(pid, 60), "the server stops when the last msghub process exits"

    total, pid = _run(data_dir, "read", "crash")
    assert total == 42 and _alive(pid), "a killed hub leaves its server running"
    total, same_pid = _run(data_dir, "read", "clean")
    assert (total, same_pid) == (42, pid), "the next run reuses the running server"

    total, pid = _run(data_dir, "read", "crash")
    os.kill(pid, signal.SIGKILL)  # the server itself crashes: postmaster.pid is left behind
    assert _dead_within(pid, 60)
    assert (data_dir / "pg" / "postmaster.pid").exists()
    total, new_pid = _run(data_dir, "write", "clean")
    assert total == 84 and new_pid != pid


@pytest.mark.skipif(sys.platform != "linux", reason="pgserver data directory layout is tested on Linux")
def test_a_clean_stop_after_a_killed_hub_stops_the_server(tmp_path):
    data_dir = tmp_path / "var"
    total, pid = _run(data_dir, "write", "crash")
    assert total == 42 and _alive(pid), "a killed hub leaves its server running"
    total, same_pid = _run(data_dir, "read", "clean")
    assert (total, same_pid) == (42, pid)
    for _ in range(200):  # pg_ctl stop waits for the server; bounded anyway
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid), "the killed hub's pid is forgotten: the clean stop is the last one and stops the server"
