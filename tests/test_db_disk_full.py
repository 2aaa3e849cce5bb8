"""The disk full for the database: a hub on an external Debian
PostgreSQL 15 whose whole data directory is on a small tmpfs
(tests/pgcluster.py single(disk_mb=...)), under the load of
tests/test_pg_restart.py. A file fills the tmpfs until writes fail
(PostgreSQL answers DiskFull, "could not extend file": it stays up, the
WAL has its segment already); the hub says why while it lasts (its
process remembers the DiskFull its connectors and worker got, /readyz
answers 503 naming it while writes keep failing, the log says it); then
the file is removed and the hub, never restarted, sends everything:
nothing queued is lost, every acknowledged inbound message is stored once."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import psycopg

from msghub.devtools.chaos import run_db_restarts
from tests import pgcluster
from tests.hubproc import START_TIMEOUT_S

DISK_MB = 96  # initdb takes about 40 MB of it
# The fill leaves the WAL its current segment (pre-allocated): the load is far
# too small to need a new one while the disk is full, which would stop the server.


def _readyz(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


def test_a_full_disk_stops_the_work_and_loses_nothing(tmp_path, capsys):
    port = pgcluster.free_port()
    log = tmp_path / "hub.log"
    seen: dict[str, Any] = {}
    with pgcluster.single(disk_mb=DISK_MB) as cluster:
        url = cluster.url("msghub")
        filler = cluster.root / "filler"

        def disk_full(_mode: str, refused: Callable[[], int]) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS public.fill_probe (x text)")
                subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M"], capture_output=True, timeout=120)
                deadline = time.monotonic() + START_TIMEOUT_S
                while time.monotonic() < deadline:  # until PostgreSQL cannot extend a file any more
                    try:
                        conn.execute("INSERT INTO public.fill_probe SELECT md5(random()::text) "
                                     "FROM generate_series(1, 10000)")
                    except psycopg.errors.DiskFull as exc:
                        seen["probe"] = str(exc)
                        break
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                status, body = _readyz(port)
                said = log.read_text(errors="replace")
                # the hub says it, and the load has felt it (rows refused, to be inserted again)
                if "No space left on device" in said and status == 503 and refused() > 0:
                    break
                time.sleep(0.5)
            seen["readyz"], seen["readyz_body"] = status, body
            seen["log_says_no_space"] = "No space left on device" in said
            seen["log_tail"] = said[-3000:]
            filler.unlink()

        summary = run_db_restarts(url, disk_full, modes=("disk-full",), roles="connectors,scheduler,web",
                                  log=log, MSGHUB_HTTP_PORT=str(port), MSGHUB_LOG_LEVEL="WARNING")
    with capsys.disabled():
        print("\ndisk full:", json.dumps(summary))
    assert "No space left on device" in seen["probe"]
    # what the hub said while the disk was full: its connection down for that reason, not ready
    assert seen["readyz"] == 503 and seen["readyz_body"]["ready"] is False
    assert any("No space left on device" in p for p in seen["readyz_body"]["problems"]), seen["readyz_body"]
    assert seen["log_says_no_space"], seen["log_tail"]
    assert summary["recovered"] == 1 and summary["hub_alive"]
    assert summary["insert_errors"] > 0
    assert summary["queued"] > 0 and summary["inbound_acknowledged"] > 0
    assert summary["lost"] == 0
    assert summary["failed"] == 0
    assert summary["sent"] == summary["queued"]
    assert summary["unflagged_duplicates"] == 0
    assert summary["flagged_possible_duplicate"] == summary["duplicates"]
    assert summary["inbound_lost"] == 0
    assert summary["inbound_stored"] == summary["inbound_acknowledged"]
    assert summary["inbound_duplicates"] == 0


