"""PostgreSQL restarted under load: a hub on an external Debian
PostgreSQL 15 (tests/pgcluster.py) while outbox rows are inserted at a
steady rate and inbound messages arrive from the SMSC simulator; the server
is restarted with `pg_ctl restart -m fast`, then `-m immediate` (a crash and
WAL recovery). The hub process is never restarted: it reconnects by itself.
Afterwards the same assertions as tests/test_chaos.py: every queued message
sent exactly once or flagged possible_duplicate, every acknowledged inbound
message stored once (msghub/devtools/chaos.py run_db_restarts). The
embedded server (pgserver, msghub/hub/embedded.py) is restarted the same
way with its own pg_ctl."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from msghub.devtools.chaos import run_db_restarts
from msghub.hub.embedded import start_embedded
from tests import pgcluster

ASSERT_RESTARTS = 2


def test_the_hub_survives_postgresql_restarts_under_load(tmp_path, capsys):
    with pgcluster.single() as cluster:
        summary = run_db_restarts(cluster.url("msghub"), lambda mode, _refused: cluster.restart(mode),
                                  modes=("fast", "immediate"), log=tmp_path / "hub.log")
    _assert_nothing_lost(summary, capsys, "pg restarts", tmp_path / "hub.log")


@pytest.mark.skipif(sys.platform != "linux", reason="pgserver's server is restarted with its pg_ctl on Linux")
def test_the_hub_survives_restarts_of_the_embedded_server(tmp_path, capsys):
    url, server = start_embedded(tmp_path / "var")
    try:
        def restart(mode: str, _refused: Callable[[], int]) -> None:
            _embedded_pg_ctl(server, "-m", mode, "-w", "-t", "60", "-l", str(Path(server.pgdata) / "log"), "restart")
        summary = run_db_restarts(url, restart, modes=("fast", "immediate"), log=tmp_path / "hub.log")
    finally:
        server.cleanup()  # pgserver knows the first postmaster only: the restarted one is stopped here
        with contextlib.suppress(subprocess.CalledProcessError):
            _embedded_pg_ctl(server, "-m", "immediate", "-w", "stop")
    _assert_nothing_lost(summary, capsys, "embedded pg restarts", tmp_path / "hub.log")


def _embedded_pg_ctl(server: Any, *args: str) -> None:
    """pg_ctl on pgserver's data directory, as the user it runs the server
    as (root runs it as a system user of its own); a restarted server keeps
    the options it was started with (postmaster.opts)."""
    from pgserver._commands import pg_ctl

    pg_ctl(list(args), pgdata=Path(server.pgdata), user=server.system_user, timeout=120)


def _assert_nothing_lost(summary: dict[str, Any], capsys: Any, what: str, log: Path) -> None:
    with capsys.disabled():
        print(f"\n{what}:", json.dumps(summary))
    assert summary["restarts"] == ASSERT_RESTARTS
    assert summary["recovered"] == ASSERT_RESTARTS, "the hub held its connection again after each restart"
    assert summary["hub_alive"], f"the same hub process went on; its log ends:\n{log.read_text()[-4000:]}"
    assert summary["insert_errors"] > 0, "the restarts were felt by the inserting client"
    assert summary["queued"] > 0 and summary["inbound_acknowledged"] > 0
    assert summary["lost"] == 0
    assert summary["failed"] == 0
    assert summary["sent"] == summary["queued"]
    assert summary["unflagged_duplicates"] == 0
    assert summary["flagged_possible_duplicate"] == summary["duplicates"]
    assert summary["inbound_lost"] == 0
    assert summary["inbound_stored"] == summary["inbound_acknowledged"]
    assert summary["inbound_duplicates"] == 0
