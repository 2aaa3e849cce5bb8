"""PostgreSQL restarted under load: a hub on an external Debian
PostgreSQL 15 (tests/pgcluster.py) while outbox rows are inserted at a
steady rate and inbound messages arrive from the SMSC simulator; the server
is restarted with `pg_ctl restart -m fast`, then `-m immediate` (a crash and
WAL recovery). The hub process is never restarted: it reconnects by itself.
Afterwards the same assertions as tests/test_chaos.py: every queued message
sent exactly once or flagged possible_duplicate, every acknowledged inbound
message stored once (msghub/devtools/chaos.py run_db_restarts)."""

from __future__ import annotations

import json

from msghub.devtools.chaos import run_db_restarts
from tests import pgcluster


def test_the_hub_survives_postgresql_restarts_under_load(capsys):
    with pgcluster.single() as cluster:
        summary = run_db_restarts(cluster.url("msghub"), cluster.restart, modes=("fast", "immediate"))
    with capsys.disabled():
        print("\npg restarts:", json.dumps(summary))
    assert summary["restarts"] == 2
    assert summary["recovered"] == 2, "the hub held its connection again after each restart"
    assert summary["hub_alive"], "the same hub process went on"
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
