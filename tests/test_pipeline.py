"""End to end through a real hub process: outbox row in, loopback out, the
echo and its delivery report back; restarts and node failover."""

from __future__ import annotations

import signal

from tests.hubproc import start_hub, stop_hub, wait_for


def _loopback(db, name="loop", **config):
    settings = {"delay_ms": 100, "echo": True, "delivery_reports": True, "reply_prefix": "echo: ",
                "own_number": "hub", "fail_prefix": "", "window": 10, **config}
    import json

    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES (%s, 'loopback', "
               "'{sms,mms,email}', %s)", (name, json.dumps(settings)))


def _state(db, name="loop"):
    row = db.execute("SELECT state, node FROM hub.connections WHERE name = %s", (name,)).fetchone()
    return row["state"] if row else None


def test_message_goes_out_and_comes_back(db_url, db):
    _loopback(db)
    hub = start_hub(db_url)
    try:
        wait_for(lambda: _state(db) == "up", what="the loopback connection to come up")
        db.execute("INSERT INTO hub.outbox (recipient, sender, text, delivery_report, correlation_id) "
                   "VALUES ('+447700900123', '+15550001', 'Ünïcode and a long text ' || repeat('x', 200), "
                   "true, 'e2e-1')")
        status = wait_for(lambda: db.execute(
            "SELECT * FROM hub.message_status WHERE correlation_id = 'e2e-1' AND status = 'delivered'").fetchone(),
            what="delivery")
        assert status["segments"] == 4  # 225 characters in UCS-2: 67 per part
        echo = wait_for(lambda: db.execute(
            "SELECT * FROM hub.inbox WHERE sender = '+447700900123'").fetchone(), what="the echo")
        assert echo["text"].startswith("echo: Ünïcode") and echo["recipients"] == ["+15550001"]
        history = [r["status"] for r in db.execute(
            "SELECT status FROM hub.message_status_log WHERE message_id = %s ORDER BY at", (status["message_id"],))]
        assert history == ["queued", "sending", "sent", "delivered"]
        types = {r["type"] for r in db.execute("SELECT type FROM hub.events")}
        assert {"connection_up", "message_sent", "delivery_report", "message_received"} <= types
    finally:
        assert stop_hub(hub) == 0


def test_refused_recipient_fails_with_its_reason(db_url, db):
    _loopback(db, fail_prefix="+999")
    hub = start_hub(db_url)
    try:
        wait_for(lambda: _state(db) == "up", what="connection up")
        db.execute("INSERT INTO hub.outbox (recipient, text) VALUES ('+9991234', 'x')")
        row = wait_for(lambda: db.execute(
            "SELECT * FROM hub.message_status WHERE status = 'failed'").fetchone(), what="failure")
        assert row["failure_code"] == "refused" and "+9991234" in row["failure_reason"]
    finally:
        stop_hub(hub)


def test_queued_messages_survive_a_hub_restart(db_url, db):
    _loopback(db, delay_ms=0, echo=False)
    db.execute("UPDATE hub.connections SET enabled = false")
    db.execute("INSERT INTO hub.outbox (recipients, text) SELECT array_agg('+4477009' || lpad(n::text, 5, '0')), 'x' "
               "FROM generate_series(1, 50) n")
    hub = start_hub(db_url)
    try:
        wait_for(lambda: _state(db) == "disabled", what="the disabled state")
        assert db.execute("SELECT count(*) AS n FROM hub.messages WHERE status = 'queued'").fetchone()["n"] == 50
        db.execute("UPDATE hub.connections SET enabled = true, updated_at = now()")
        wait_for(lambda: db.execute("SELECT count(*) = 50 AS done FROM hub.messages WHERE status = 'delivered'")
                 .fetchone()["done"], what="all 50 delivered")
    finally:
        stop_hub(hub)
    counts = db.execute("SELECT count(*) AS messages, count(DISTINCT recipients[1]) AS recipients, "
                        "sum(attempts) AS attempts FROM hub.messages").fetchone()
    assert (counts["messages"], counts["recipients"], counts["attempts"]) == (50, 50, 50)


def test_another_node_takes_over_when_the_holder_dies(db_url, db):
    _loopback(db)
    first = start_hub(db_url, node="node-one")
    second = None
    try:
        wait_for(lambda: db.execute("SELECT node FROM hub.connections WHERE state = 'up'").fetchone(),
                 what="node-one holding the connection")
        assert db.execute("SELECT node FROM hub.connections").fetchone()["node"] == "node-one"
        second = start_hub(db_url, node="node-two")
        wait_for(lambda: db.execute("SELECT 1 FROM hub.nodes WHERE name = 'node-two'").fetchone(),
                 what="node-two running")
        first.send_signal(signal.SIGKILL)  # a crash: no clean hand-over
        first.wait(10)
        wait_for(lambda: db.execute(
            "SELECT 1 FROM hub.connections WHERE node = 'node-two' AND state = 'up'").fetchone(),
            what="node-two taking the connection over")
        db.execute("INSERT INTO hub.outbox (recipient, text, correlation_id) VALUES ('+447700900123', 'x', 'after')")
        wait_for(lambda: db.execute("SELECT 1 FROM hub.message_status WHERE correlation_id = 'after' "
                                    "AND status IN ('sent', 'delivered')").fetchone(), what="send")
    finally:
        if first.poll() is None:
            stop_hub(first)
        if second is not None:
            stop_hub(second)


def test_a_connection_written_by_sql_gets_defaults_and_bad_settings_are_its_error(db_url, db):
    # integrators may add connections with INSERT: missing settings take the
    # kind's defaults; a bad one is shown as the connection's error
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES"
               " ('partial', 'loopback', '{sms}', '{\"echo\": false}'),"
               " ('broken', 'loopback', '{sms}', '{\"delay_ms\": \"soon\"}')")
    hub = start_hub(db_url)
    try:
        wait_for(lambda: _state(db, "partial") == "up", what="the partial connection to come up")
        broken = wait_for(lambda: db.execute(
            "SELECT state, last_error FROM hub.connections WHERE name = 'broken' AND state = 'down'").fetchone(),
            what="the broken connection to report its error")
    finally:
        assert stop_hub(hub) == 0
    assert broken["last_error"].startswith("bad settings: ") and "delay_ms" in broken["last_error"]
