"""The services: the same use case from the CLI (through the sync wrapper)
and from async code, the test button's probe, and the wrapper's limits."""

from __future__ import annotations

import asyncio
import socket

import pytest

from msghub.hub.db import Tx, connect, connect_async
from msghub.services import connections
from msghub.services.accounts import change_password, find_user
from msghub.services.blocking import call
from msghub.services.tx import SYSTEM, Actor
from msghub.services.users import UserError, add_user
from tests import test_cli

cli = test_cli.cli  # the fixture that runs `msghub ...` in-process


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_test_runs_the_kinds_probe_and_is_audited(cli, db):
    assert cli("connection", "add", "loop", "--kind", "loopback")[0] == 0
    code, out, _ = cli("connection", "test", "loop")
    assert code == 0 and out.startswith("worked: loopback has no link to test")
    port = _closed_port()
    assert cli("connection", "add", "smsc", "--kind", "emi", "--host", "127.0.0.1", "--port", str(port))[0] == 0
    code, out, _ = cli("connection", "test", "smsc")
    assert code == 1 and f"failed: could not open a TCP connection to 127.0.0.1:{port}" in out
    rows = db.execute("SELECT target, detail FROM hub.audit_log WHERE action = 'connection.test' ORDER BY id")
    assert [(r["target"], r["detail"]["worked"]) for r in rows] == [("loop", True), ("smsc", False)]


def test_the_same_service_async_and_through_the_sync_wrapper(db_url, db):
    async def add_async() -> int:
        conn = await connect_async(db_url)
        async with conn, conn.transaction():
            return await connections.add_connection(conn, Actor("tester", source="test"), "a", "loopback",
                                                    {"delay_ms": "7"})

    first = asyncio.run(add_async())
    with connect(db_url) as conn:
        second = call(conn, connections.add_connection, SYSTEM, "b", "loopback", {"delay_ms": "7"})
        conn.commit()
    rows = db.execute("SELECT id, config->>'delay_ms' AS delay FROM hub.connections ORDER BY name").fetchall()
    assert rows == [{"id": first, "delay": "7"}, {"id": second, "delay": "7"}]
    audit = db.execute("SELECT actor, action, target, source FROM hub.audit_log ORDER BY id").fetchall()
    assert audit == [{"actor": "tester", "action": "connection.create", "target": "a", "source": "test"},
                     {"actor": "msghub", "action": "connection.create", "target": "b", "source": "cli"}]


def test_bounds_and_refusals_name_the_field(db):
    with pytest.raises(connections.ConnectionError_) as raised:
        call(db, connections.add_connection, SYSTEM, "x", "loopback", {}, max_attempts=101)
    assert raised.value.field == "max_attempts" and raised.value.problem == "a whole number from 1 to 100"
    assert "max attempts 101 out of range: 1 to 100" in str(raised.value)
    db.rollback()
    with pytest.raises(connections.ConnectionError_) as raised:
        call(db, connections.add_connection, SYSTEM, "bad name", "loopback", {})
    assert raised.value.field == "name" and "letters, digits" in raised.value.problem


def test_a_password_change_ends_the_sessions_and_refuses_external_accounts(db):
    alice = call(db, add_user, "alice", "first password 1")
    db.execute("INSERT INTO hub.web_sessions (token_sha256, user_id, csrf_token, expires_at) "
               "VALUES ('\\x00', %s, 'c', now() + interval '1 hour')", (alice,))
    assert call(db, change_password, SYSTEM, call(db, find_user, "alice"), "second password 2") == "alice"
    assert db.execute("SELECT count(*) AS n FROM hub.web_sessions").fetchone()["n"] == 0
    db.execute("UPDATE hub.users SET auth_source = 'ldap', password_hash = NULL WHERE id = %s", (alice,))
    with pytest.raises(UserError, match="alice logs in through LDAP: change the password there"):
        call(db, change_password, SYSTEM, alice, "third password 3")


def test_the_sync_wrapper_refuses_a_service_that_waits_on_more_than_the_database(db):
    async def sleepy(tx: Tx) -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="sleepy waits on more than the database"):
        call(db, sleepy)


def test_the_sync_wrapper_runs_inside_a_running_loop(db):
    async def inside() -> int:
        return call(db, add_user, "bob", "bob password 12")

    assert asyncio.run(inside()) > 0


def test_a_probe_that_hangs_is_stopped_and_reported(monkeypatch):
    from msghub.connectors.loopback import LoopbackConnector

    async def hang(cls, config):  # a kind whose far side never answers
        await asyncio.Event().wait()

    monkeypatch.setattr(LoopbackConnector, "probe", classmethod(hang))
    result = asyncio.run(connections.probe("loopback", {}, timeout_s=0.1))
    assert not result.ok and result.detail == "no result within 0.1 s"
