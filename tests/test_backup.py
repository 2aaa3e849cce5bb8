"""Backup and restore as docs/OPERATIONS.md describes them: pg_dump of a
live msghub database, pg_restore into an empty database, and a hub on the
restored copy serves the same messages (the received ones are there, the
queued ones are sent)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.hubproc import start_hub, stop_hub, wait_for

TOOL_TIMEOUT_S = 300
SNAPSHOT = ("SELECT id, direction, status, sender, recipients, body, connection_id FROM hub.messages ORDER BY id")


def _tool(name: str, server_version: int) -> str:
    """A pg_dump/pg_restore at least as new as the server: the embedded
    server's own first (pgserver ships them), else the one on PATH."""
    candidates = []
    try:
        import pgserver

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin" / name)
    except ImportError:
        pass
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for path in candidates:
        if path.exists():
            out = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True).stdout
            major = int(out.split()[2].split(".")[0])  # "pg_dump (PostgreSQL) 16.2 ..."
            if major >= server_version // 10000:
                return str(path)
    pytest.skip(f"no {name} for PostgreSQL {server_version // 10000}")


def test_a_restored_dump_serves_the_same_messages(db_url, db, pg_server, tmp_path):
    settings = {"delay_ms": 50, "echo": False, "delivery_reports": True, "reply_prefix": "",
                "own_number": "hub", "fail_prefix": "", "window": 10}
    db.execute("INSERT INTO hub.connections (name, kind, channels, config, enabled) "
               "VALUES ('loop', 'loopback', '{sms}', %s, false)", (json.dumps(settings),))
    db.execute("INSERT INTO hub.outbox (recipient, text, connection, delivery_report) "
               "SELECT '+4470' || g, 'queued before the backup ' || g, 'loop', true FROM generate_series(1, 5) g")
    for n in range(3):
        db.execute("SELECT hub.receive_message_v1(c.id, 'sms', %s, '{+15550001}', NULL, %s) "
                   "FROM hub.connections c WHERE c.name = 'loop'", (f"+44771{n}", f"received {n} ✓"))
    before = db.execute(SNAPSHOT).fetchall()
    assert len(before) == 8
    version = db.execute("SHOW server_version_num").fetchone()["server_version_num"]

    dump = tmp_path / "msghub.dump"
    subprocess.run([_tool("pg_dump", int(version)), "--format=custom", "--file", str(dump), db_url],
                   check=True, timeout=TOOL_TIMEOUT_S, capture_output=True)
    restored = f"msghub_restored_{os.getpid()}"
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        admin.execute(f'CREATE DATABASE "{restored}"')
    restored_url = pg_server.url(restored)
    try:
        subprocess.run([_tool("pg_restore", int(version)), "--exit-on-error", "--dbname", restored_url, str(dump)],
                       check=True, timeout=TOOL_TIMEOUT_S, capture_output=True)
        with psycopg.connect(restored_url, autocommit=True, row_factory=dict_row,
                             options="-c msghub.system=on") as copy:
            assert copy.execute(SNAPSHOT).fetchall() == before
            copy.execute("UPDATE hub.connections SET enabled = true WHERE name = 'loop'")
            hub = start_hub(restored_url, node="restored-node")
            try:
                delivered = wait_for(lambda: copy.execute(
                    "SELECT count(*) AS n FROM hub.messages WHERE direction = 'out' AND status = 'delivered'"
                ).fetchone()["n"] == 5, timeout=60, what="the restored queue to be delivered")
                assert delivered
                # the same message ids, none twice, and the inbound ones untouched
                after: list[dict[str, Any]] = copy.execute(SNAPSHOT).fetchall()
                assert [m["id"] for m in after] == [m["id"] for m in before]
                assert [m for m in after if m["direction"] == "in"] == [m for m in before if m["direction"] == "in"]
                assert copy.execute("SELECT count(*) AS n FROM hub.sms_segments").fetchone()["n"] == 5
                # new work continues after the restored rows (sequences restored too)
                copy.execute("INSERT INTO hub.outbox (recipient, text, connection) VALUES ('+4479', 'new', 'loop')")
                new = copy.execute("SELECT max(id) AS id FROM hub.messages").fetchone()["id"]
                assert new > max(m["id"] for m in before)
            finally:
                assert stop_hub(hub) == 0
    finally:
        with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
