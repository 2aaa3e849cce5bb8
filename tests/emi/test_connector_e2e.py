"""End to end: a real hub process (`msghub run`, tests/hubproc.py) with an
`emi` connection to the SMSC simulator running in the test, on a thread of
its own (the test polls the database synchronously)."""

from __future__ import annotations

import pytest

from msghub.app.cli import main
from msghub.devtools.emi.simulator_thread import SimulatorThread
from tests.emi.test_connector_support import PASSWORD, USER, sim_config
from tests.hubproc import start_hub, stop_hub, wait_for

NAME = "smsc"


@pytest.fixture
def add_emi(db_url, monkeypatch, capsys):
    """`msghub connection add smsc --kind emi ...`, as an operator would."""
    monkeypatch.setenv("MSGHUB_DATABASE_URL", db_url)

    def add(port: int, *extra: str) -> tuple[int, str, str]:
        code = main(
            [
                "connection",
                "add",
                NAME,
                "--kind",
                "emi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--username",
                USER,
                "--password",
                PASSWORD,
                *extra,
            ]
        )
        out, err = capsys.readouterr()
        return code, out, err

    return add


def _state(db):
    row = db.execute("SELECT state FROM hub.connections WHERE name = %s", (NAME,)).fetchone()
    return row["state"] if row else None


def _fast_retries(db):
    # an uncertain send is retried after retry_base_s: keep the tests short
    db.execute("UPDATE hub.settings SET value = '1' WHERE key = 'retry_base_s'")


def test_connection_add_checks_and_hides_the_password(add_emi, db):
    code, out, _ = add_emi(2775, "--window", "50", "--tls", "--keepalive-s", "30")
    assert code == 0 and "smsc (emi, carries sms)" in out
    assert "password: ***" in out and PASSWORD not in out
    config = db.execute("SELECT config FROM hub.connections WHERE name = %s", (NAME,)).fetchone()["config"]
    assert (config["port"], config["window"], config["tls"], config["keepalive_s"], config["ack_timeout_s"]) == (
        2775,
        50,
        True,
        30.0,
        30.0,
    )
    db.execute("DELETE FROM hub.connections")
    code, _, err = add_emi(70000)
    assert code == 2 and "setting port: 70000 is above the maximum 65535" in err


def test_outbox_rows_end_up_delivered_through_the_smsc(add_emi, db_url, db):
    with SimulatorThread(sim_config(dr_delay_s=0.2)) as smsc:
        assert add_emi(smsc.port)[0] == 0
        hub = start_hub(db_url)
        try:
            wait_for(lambda: _state(db) == "up", what="the emi connection to come up")
            db.execute(
                "INSERT INTO hub.outbox (recipient, sender, text, delivery_report, correlation_id) "
                "SELECT '+4477009001' || n, '+15550001', 'short ' || n, true, 'e2e-' || n "
                "FROM generate_series(1, 3) n"
            )
            db.execute(
                "INSERT INTO hub.outbox (recipient, sender, text, delivery_report, correlation_id) "
                "VALUES ('+447700900199', 'MsgHub', repeat('long text ', 40), true, 'e2e-long')"
            )
            wait_for(
                lambda: db.execute(
                    "SELECT count(*) = 4 AS done FROM hub.message_status "
                    "WHERE correlation_id LIKE 'e2e-%%' AND status = 'delivered'"
                ).fetchone()["done"],
                timeout=30,
                what="four messages delivered",
            )
            long = db.execute("SELECT * FROM hub.message_status WHERE correlation_id = 'e2e-long'").fetchone()
            assert long["segments"] == 3 and not long["possible_duplicate"]
            history = [
                r["status"]
                for r in db.execute(
                    "SELECT status FROM hub.message_status_log WHERE message_id = %s ORDER BY at", (long["message_id"],)
                )
            ]
            assert history == ["queued", "sending", "sent", "delivered"]
            segments = {r["operator_ref"] for r in db.execute("SELECT operator_ref FROM hub.sms_segments")}
            submitted = smsc.call(lambda sim: {f"{s.reference[0]}:{s.reference[1]}" for s in sim.submits})
            assert len(segments) == 6 and segments == submitted
            assert smsc.call(lambda sim: sorted(s.sender for s in sim.submits)).count("MsgHub") == 3
        finally:
            assert stop_hub(hub) == 0


def test_message_from_a_phone_arrives_in_the_inbox(add_emi, db_url, db):
    text = "a reply from a phone, long enough to need two parts: " + "x" * 120
    with SimulatorThread(sim_config()) as smsc:
        assert add_emi(smsc.port)[0] == 0
        hub = start_hub(db_url)
        try:
            wait_for(lambda: _state(db) == "up", what="the emi connection to come up")
            assert smsc.run(lambda sim: sim.inject_mo("+447700900555", "4000", text)) == 2
            row = wait_for(lambda: db.execute("SELECT * FROM hub.inbox").fetchone(), timeout=15, what="the inbox row")
            assert (row["sender"], row["recipients"], row["text"], row["connection"]) == (
                "+447700900555",
                ["4000"],
                text,
                NAME,
            )
            assert row["meta"]["parts"] == 2
            wait_for(
                lambda: smsc.call(lambda sim: [o.status for o in sim.outbound]) == ["acked", "acked"],
                what="both parts acknowledged",
            )
            assert db.execute("SELECT count(*) AS n FROM hub.inbox").fetchone()["n"] == 1
        finally:
            assert stop_hub(hub) == 0


def _outcome(db, smsc, count):
    """Each message's status and flag, and what the simulator saw of it."""
    rows = db.execute("SELECT body, status, possible_duplicate, attempts FROM hub.messages WHERE direction = 'out'")
    messages = {r["body"]: r for r in rows}
    acked = smsc.call(lambda sim: [s.text for s in sim.submits])
    unanswered = smsc.call(lambda sim: [s.text for s in sim.swallowed])
    assert len(messages) == count
    return messages, acked, unanswered


def test_a_dropped_link_loses_no_message_and_flags_the_unanswered(add_emi, db_url, db):
    count = 120
    with SimulatorThread(sim_config(ack_delay_s=0.2)) as smsc:
        assert add_emi(smsc.port, "--window", "10")[0] == 0
        _fast_retries(db)
        hub = start_hub(db_url)
        try:
            wait_for(lambda: _state(db) == "up", what="the emi connection to come up")
            db.execute(
                "INSERT INTO hub.outbox (recipient, text) "
                "SELECT '+4477009' || lpad(n::text, 5, '0'), 'drop test ' || n FROM generate_series(1, %s) n",
                (count,),
            )
            for threshold in (20, 60):  # two drops while the window is full
                wait_for(
                    lambda t=threshold: smsc.call(lambda sim: len(sim.submits)) >= t,
                    timeout=30,
                    what=f"{threshold} acknowledged submits",
                )
                assert smsc.call(lambda sim: sim.drop_links()) == 1
            wait_for(
                lambda: (
                    db.execute("SELECT count(*) AS n FROM hub.messages WHERE status = 'sent'").fetchone()["n"] == count
                ),
                timeout=60,
                what="every message sent",
            )
        finally:
            assert stop_hub(hub) == 0
        messages, acked, unanswered = _outcome(db, smsc, count)
    assert {m["status"] for m in messages.values()} == {"sent"}
    assert set(acked) == set(messages)  # every message reached the SMSC
    assert unanswered, "the drops hit submits in flight"
    # written and never answered: flagged, as a retry may duplicate it
    assert all(messages[text]["possible_duplicate"] for text in unanswered)
    # not flagged: the SMSC took it exactly once
    for text, row in messages.items():
        if not row["possible_duplicate"]:
            assert acked.count(text) == 1 and text not in unanswered
    downs = db.execute("SELECT payload FROM hub.events WHERE type = 'connection_down'").fetchall()
    assert len(downs) >= 2


def test_queued_messages_survive_a_connector_restart(add_emi, db_url, db):
    count = 80
    with SimulatorThread(sim_config(ack_delay_s=0.1)) as smsc:
        assert add_emi(smsc.port, "--window", "5")[0] == 0
        _fast_retries(db)
        hub = start_hub(db_url)
        try:
            wait_for(lambda: _state(db) == "up", what="the emi connection to come up")
            db.execute(
                "INSERT INTO hub.outbox (recipient, text) "
                "SELECT '+4477009' || lpad(n::text, 5, '0'), 'restart test ' || n "
                "FROM generate_series(1, %s) n",
                (count,),
            )
            wait_for(lambda: smsc.call(lambda sim: len(sim.submits)) >= 15, timeout=30, what="some submits")
        finally:
            assert stop_hub(hub) == 0  # in the middle of the queue
        remaining = db.execute("SELECT count(*) AS n FROM hub.messages WHERE status = 'queued'").fetchone()["n"]
        assert 0 < remaining < count
        hub = start_hub(db_url, node="test-node-2")
        try:
            wait_for(
                lambda: (
                    db.execute("SELECT count(*) AS n FROM hub.messages WHERE status = 'sent'").fetchone()["n"] == count
                ),
                timeout=60,
                what="every message sent after the restart",
            )
        finally:
            assert stop_hub(hub) == 0
        messages, acked, unanswered = _outcome(db, smsc, count)
    assert set(acked) == set(messages) and unanswered == []
    # a clean stop lets answers in flight arrive: nothing was sent twice
    assert sorted(acked) == sorted(messages)
    assert not any(m["possible_duplicate"] for m in messages.values())
