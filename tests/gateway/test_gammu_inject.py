"""Debian's unmodified gammu-smsd-inject, with Gammu's PostgreSQL driver,
queues into msghub's Gammu tables; a real hub process sends through a
loopback connection, and sentitems shows each message with Gammu's Status."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.rows import dict_row

from msghub.gateway import gammu
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web_admin.helpers import user

INJECT = shutil.which("gammu-smsd-inject")
ROLE = "msghub_gammu_test"
pytestmark = pytest.mark.skipif(INJECT is None, reason="gammu-smsd-inject not installed (scripts/install-test-deps)")


def _smsdrc(tmp_path: Path, pg_server, dbname: str) -> Path:
    rc = tmp_path / "smsdrc"
    rc.write_text(
        "[gammu]\ndevice = /dev/null\nconnection = at\n\n"
        "[smsd]\nservice = sql\ndriver = native_pgsql\n"
        f"host = {pg_server.host}{'' if pg_server.host.startswith('/') else f':{pg_server.port}'}\n"
        f"user = {ROLE}\npassword = unused-with-trust\ndatabase = {dbname}\n"
        f"logfile = {tmp_path / 'smsd.log'}\ndebuglevel = 1\n",
        encoding="utf-8")
    return rc


def _inject(rc: Path, *args: str) -> str:
    done = subprocess.run([str(INJECT), "-c", str(rc), *args], capture_output=True, text=True, timeout=60)
    log = rc.parent / "smsd.log"
    assert done.returncode == 0, done.stdout + done.stderr + (log.read_text(errors="replace") if log.exists() else "")
    return done.stdout


def test_inject_text_long_unicode_and_ems(tmp_path, pg_server, db_url, db):
    owner = user(db_url, "gammu-app")
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        gammu.enable(conn, gammu.OLDEST_VERSION)  # Debian 12's Gammu 1.42 checks for 17
        conn.commit()
    db.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN "
               f"CREATE ROLE {ROLE} LOGIN; END IF; END $$")
    db.execute(f"GRANT msghub_integrator TO {ROLE}")
    db.execute(f"ALTER ROLE {ROLE} SET search_path = gammu")
    db.execute("INSERT INTO hub.integrator_logins (role_name, user_id) VALUES (%s, %s)", (ROLE, owner))
    # no reports: sentitems then tells a message that asked for one (SendingOK) from one that did not
    settings = {"delay_ms": 50, "echo": False, "delivery_reports": False, "reply_prefix": "", "own_number": "hub",
                "fail_prefix": "", "window": 10}
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES ('modem1', 'loopback', '{sms}', %s)",
               (json.dumps(settings),))
    dbname = urlsplit(db_url).path.lstrip("/")
    rc = _smsdrc(tmp_path, pg_server, dbname)

    long_text = "".join(f"{n:03d} long text for gammu. " for n in range(20))[:400]
    _inject(rc, "TEXT", "+4917012340", "-text", "Hello from gammu-smsd-inject")
    _inject(rc, "TEXT", "+4917012341", "-len", "400", "-text", long_text)
    _inject(rc, "TEXT", "+4917012342", "-unicode", "-text", "Привет, мир! Grüße")
    _inject(rc, "EMS", "+4917012343", "-text", "An EMS text")
    _inject(rc, "TEXT", "+4917012344", "-report", "-text", "With a report")
    queued = db.execute("SELECT recipients[1] AS r, body, owner_user_id FROM hub.messages ORDER BY id").fetchall()
    assert [q["r"] for q in queued] == ["+4917012340", "+4917012341", "+4917012342", "+4917012343",
                                         "+4917012344"]
    assert queued[0]["body"] == "Hello from gammu-smsd-inject"
    assert queued[1]["body"] == long_text  # joined from Gammu's parts
    assert queued[2]["body"] == "Привет, мир! Grüße"
    assert queued[3]["body"] == "An EMS text"
    assert {q["owner_user_id"] for q in queued} == {owner}

    hub = start_hub(db_url)
    try:
        wait_for(lambda: db.execute("SELECT count(*) AS n FROM gammu.outbox").fetchone()["n"] == 0,
                 timeout=60, what="the outbox to be sent")
        wait_for(lambda: db.execute("SELECT count(DISTINCT \"ID\") AS n FROM gammu.sentitems").fetchone()["n"] == 5,
                 timeout=60, what="sentitems")
    finally:
        assert stop_hub(hub) == 0
    sent = db.execute('SELECT "ID", "DestinationNumber", "SequencePosition", "Status", "CreatorID", "SenderID" '
                      'FROM gammu.sentitems ORDER BY "ID", "SequencePosition"').fetchall()
    by_number: dict[str, list[dict[str, object]]] = {}
    for row in sent:
        by_number.setdefault(str(row["DestinationNumber"]), []).append(row)
    assert len(by_number["+4917012341"]) >= 3  # Gammu split 400 characters into parts; each is a sentitems row
    reported = by_number.pop("+4917012344")
    assert [row["Status"] for row in reported] == ["SendingOK"]
    # inject asks for no report by default
    assert {row["Status"] for rows in by_number.values() for row in rows} == {"SendingOKNoReport"}
    assert {row["SenderID"] for row in sent} == {"modem1"}
    assert all(row["CreatorID"] for row in sent)
