"""The outbound queue in SQL: claims, results, retries, deferral, expiry,
recovery of stuck messages, delivery reports."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.rows import dict_row


def _connection(db, name="link", max_attempts=3, channels="{sms,mms,email}") -> int:
    return db.execute(
        "INSERT INTO hub.connections (name, kind, channels, max_attempts) VALUES (%s, 'loopback', %s, %s) RETURNING id",
        (name, channels, max_attempts)).fetchone()["id"]


def _queue(db, n=1, connection="link", **extra) -> list[int]:
    cols = ["recipient", "text", "connection", *extra]
    ids = []
    for i in range(n):
        values = [f"+4477009{i:05d}", f"message {i}", connection, *extra.values()]
        placeholders = ", ".join(["%s"] * len(cols))
        row = db.execute(f"INSERT INTO hub.outbox ({', '.join(cols)}) VALUES ({placeholders}) RETURNING id",
                         values).fetchone()
        ids += [r["id"] for r in db.execute("SELECT id FROM hub.messages WHERE outbox_id = %s", (row["id"],))]
    return ids


def _claim(db, conn_id, node="node-a", limit=10):
    return db.execute("SELECT * FROM hub.claim_outbound_v1(%s, %s, %s)", (conn_id, node, limit)).fetchall()


def _record(db, rows, outcome, ref=None, code=None, reason=None, segments=None):
    db.execute(
        "SELECT hub.record_results_v1(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        ([r["id"] for r in rows], [r["attempts"] for r in rows], [outcome] * len(rows),
         [ref] * len(rows), [None] * len(rows), [code] * len(rows), [reason] * len(rows),
         [s[0] for s in segments or []], [s[1] for s in segments or []], [s[2] for s in segments or []],
         [s[3] for s in segments or []]))


def _status(db, message_id):
    return db.execute("SELECT * FROM hub.messages WHERE id = %s", (message_id,)).fetchone()


def _live_node(db, name="node-a"):
    db.execute("INSERT INTO hub.nodes (name, host, pid, roles) VALUES (%s, 'test', 1, '{connectors}')", (name,))


def test_claim_takes_priority_order_and_marks_sending(db):
    conn_id = _connection(db)
    low = _queue(db, 1, priority=0)[0]
    urgent = _queue(db, 1, priority=3)[0]
    rows = _claim(db, conn_id, limit=1)
    assert [r["id"] for r in rows] == [urgent]
    assert rows[0]["status"] == "sending" and rows[0]["attempts"] == 1 and rows[0]["claimed_by"] == "node-a"
    assert _status(db, low)["status"] == "queued"


def test_concurrent_claims_never_share_a_message(db_url, db):
    conn_id = _connection(db)
    ids = set(_queue(db, 40))
    with psycopg.connect(db_url, row_factory=dict_row) as a, psycopg.connect(db_url, row_factory=dict_row) as b:
        first = {r["id"] for r in _claim(a, conn_id, "node-a", 25)}  # transaction still open
        second = {r["id"] for r in _claim(b, conn_id, "node-b", 25)}
        a.commit()
        b.commit()
    assert first.isdisjoint(second)
    assert first | second == ids
    assert len(first) == 25 and len(second) == 15


def test_sent_result_records_reference_and_segments(db):
    conn_id = _connection(db)
    message_id = _queue(db)[0]
    rows = _claim(db, conn_id)
    _record(db, rows, "sent", ref="ref-1", segments=[(message_id, 1, 2, "ref-1a"), (message_id, 2, 2, "ref-1b")])
    msg = _status(db, message_id)
    assert (msg["status"], msg["operator_ref"], msg["claimed_by"]) == ("sent", "ref-1", None)
    segs = db.execute("SELECT seq, total, operator_ref, status FROM hub.sms_segments "
                      "WHERE message_id = %s ORDER BY seq", (message_id,)).fetchall()
    assert [(s["seq"], s["operator_ref"], s["status"]) for s in segs] == [(1, "ref-1a", "sent"), (2, "ref-1b", "sent")]
    history = [r["status"] for r in db.execute(
        "SELECT status FROM hub.message_status_log WHERE message_id = %s ORDER BY at", (message_id,))]
    assert history == ["queued", "sending", "sent"]
    events = [r["type"] for r in db.execute("SELECT type FROM hub.events WHERE message_id = %s", (message_id,))]
    assert events == ["message_sent"]


def test_retry_backs_off_then_fails_after_max_attempts(db):
    conn_id = _connection(db, max_attempts=3)
    message_id = _queue(db)[0]
    delays = []
    for attempt in (1, 2):
        rows = _claim(db, conn_id)
        assert [r["attempts"] for r in rows] == [attempt]
        _record(db, rows, "retry", code="timeout", reason="no answer")
        msg = db.execute("SELECT status, extract(epoch FROM next_attempt_at - now()) AS wait "
                         "FROM hub.messages WHERE id = %s", (message_id,)).fetchone()
        assert msg["status"] == "queued"
        delays.append(float(msg["wait"]))
        assert _claim(db, conn_id) == [], "not due before its backoff ends"
        db.execute("UPDATE hub.messages SET next_attempt_at = now() WHERE id = %s", (message_id,))
    assert delays[0] == pytest.approx(5, abs=0.5) and delays[1] == pytest.approx(10, abs=0.5)
    rows = _claim(db, conn_id)
    _record(db, rows, "retry", code="timeout", reason="no answer")
    msg = _status(db, message_id)
    assert (msg["status"], msg["failure_code"]) == ("failed", "attempts_exhausted")
    assert "gave up after 3 attempts" in msg["failure_reason"] and "no answer" in msg["failure_reason"]


def test_permanent_failure_keeps_the_reason(db):
    conn_id = _connection(db)
    message_id = _queue(db)[0]
    _record(db, _claim(db, conn_id), "failed", code="06", reason="AdC invalid")
    msg = _status(db, message_id)
    assert (msg["status"], msg["failure_code"], msg["failure_reason"]) == ("failed", "06", "AdC invalid")
    event = db.execute("SELECT type, payload FROM hub.events WHERE message_id = %s", (message_id,)).fetchone()
    assert event["type"] == "message_failed" and event["payload"]["failure_reason"] == "AdC invalid"


def test_uncertain_result_is_retried_and_flagged(db):
    conn_id = _connection(db)
    message_id = _queue(db)[0]
    _record(db, _claim(db, conn_id), "uncertain", code="link_lost", reason="link dropped before the ack")
    msg = _status(db, message_id)
    assert (msg["status"], msg["possible_duplicate"]) == ("queued", True)


def test_deferred_message_waits_for_send_at(db):
    conn_id = _connection(db)
    later = _queue(db, send_at="2999-01-01T00:00:00Z")[0]
    now = _queue(db)[0]
    assert [r["id"] for r in _claim(db, conn_id)] == [now]
    db.execute("UPDATE hub.messages SET next_attempt_at = now() WHERE id = %s", (later,))
    assert [r["id"] for r in _claim(db, conn_id)] == [later]


def test_expired_messages_fail_as_expired(db):
    conn_id = _connection(db)
    _connection(db, name="disabled-link")
    claimed_late = _queue(db, valid_until="2999-01-01T00:00:00Z")[0]
    # waits behind a connection whose worker never claims it
    waiting = _queue(db, connection="disabled-link", valid_until="2999-01-01T00:00:00Z")[0]
    db.execute("UPDATE hub.messages SET valid_until = now() - interval '1 second' WHERE id IN (%s, %s)",
               (claimed_late, waiting))
    assert _claim(db, conn_id) == []
    assert _status(db, claimed_late)["failure_code"] == "expired"
    assert db.execute("SELECT hub.expire_queued_v1() AS n").fetchone()["n"] == 1
    msg = _status(db, waiting)
    assert (msg["status"], msg["failure_code"]) == ("failed", "expired")
    assert "validity period ended" in msg["failure_reason"]


def test_stuck_message_of_a_dead_node_is_recovered(db):
    conn_id = _connection(db)
    message_id = _queue(db)[0]
    _claim(db, conn_id, node="node-that-died")  # never heartbeated, so it is not alive
    assert db.execute("SELECT hub.recover_stuck_v1() AS n").fetchone()["n"] == 1
    msg = _status(db, message_id)
    assert (msg["status"], msg["possible_duplicate"]) == ("queued", True)
    assert "recovered from sending" in msg["failure_reason"]


def test_stuck_message_of_a_live_node_is_recovered_after_the_lease(db):
    conn_id = _connection(db)
    _live_node(db)
    message_id = _queue(db)[0]
    rows = _claim(db, conn_id, node="node-a")
    assert db.execute("SELECT hub.recover_stuck_v1() AS n").fetchone()["n"] == 0, "within its lease"
    db.execute("UPDATE hub.messages SET claimed_at = now() - interval '61 seconds' WHERE id = %s", (message_id,))
    assert db.execute("SELECT hub.recover_stuck_v1() AS n").fetchone()["n"] == 1
    # the slow worker's late answer must not overwrite the recovered message
    _record(db, rows, "sent", ref="late")
    msg = _status(db, message_id)
    assert (msg["status"], msg["operator_ref"]) == ("queued", None)
    again = _claim(db, conn_id)
    assert [r["attempts"] for r in again] == [2]


def test_delivery_report_before_its_submit_is_recorded_is_applied_later(db):
    conn_id = _connection(db)
    message_id = _queue(db, delivery_report=True)[0]
    rows = _claim(db, conn_id)
    early = db.execute("SELECT hub.record_delivery_v1(%s, 'r-1', 'delivered', NULL) AS m", (conn_id,)).fetchone()
    assert early["m"] is None
    _record(db, rows, "sent", ref="r", segments=[(message_id, 1, 1, "r-1")])
    msg = _status(db, message_id)
    assert msg["status"] == "delivered"
    types = [r["type"] for r in db.execute(
        "SELECT type FROM hub.events WHERE message_id = %s ORDER BY id", (message_id,))]
    assert types == ["message_sent", "delivery_report"]


def test_long_message_is_delivered_when_every_part_is(db):
    conn_id = _connection(db)
    message_id = _queue(db)[0]
    _record(db, _claim(db, conn_id), "sent", ref="r",
            segments=[(message_id, 1, 2, "p1"), (message_id, 2, 2, "p2")])
    db.execute("SELECT hub.record_delivery_v1(%s, 'p1', 'delivered', NULL)", (conn_id,))
    assert _status(db, message_id)["status"] == "sent"
    db.execute("SELECT hub.record_delivery_v1(%s, 'p2', 'buffered', 'phone off')", (conn_id,))
    assert _status(db, message_id)["status"] == "sent"
    db.execute("SELECT hub.record_delivery_v1(%s, 'p2', 'delivered', NULL)", (conn_id,))
    assert _status(db, message_id)["status"] == "delivered"


def test_a_failed_part_fails_the_message(db):
    conn_id = _connection(db)
    message_id = _queue(db)[0]
    _record(db, _claim(db, conn_id), "sent", ref="r", segments=[(message_id, 1, 2, "q1"), (message_id, 2, 2, "q2")])
    db.execute("SELECT hub.record_delivery_v1(%s, 'q2', 'failed', 'unknown subscriber')", (conn_id,))
    msg = _status(db, message_id)
    assert (msg["status"], msg["failure_code"]) == ("failed", "undelivered")
    assert msg["failure_reason"] == "unknown subscriber"


def test_cancel_only_before_sending(db):
    conn_id = _connection(db)
    first, second = _queue(db, 2)
    claimed = [r["id"] for r in _claim(db, conn_id, limit=1)]
    assert claimed == [first]
    assert db.execute("SELECT hub.cancel_v1(%s) AS ok", (first,)).fetchone()["ok"] is False
    assert db.execute("SELECT hub.cancel_v1(%s) AS ok", (second,)).fetchone()["ok"] is True
    assert (_status(db, first)["status"], _status(db, first)["failure_code"]) == ("sending", None)
    assert (_status(db, second)["status"], _status(db, second)["failure_code"]) == ("failed", "cancelled")


def test_stats_views_count_exactly_before_and_after_rollup(db):
    conn_id = _connection(db)
    _queue(db, 5)
    rows = _claim(db, conn_id, limit=3)
    _record(db, rows[:2], "sent", ref="x")
    _record(db, rows[2:], "failed", code="x", reason="x")

    def by_status():
        return {r["status"]: r["messages"] for r in db.execute(
            "SELECT status, messages FROM hub.stats_messages WHERE connection = 'link'")}

    expected = {r["status"]: r["n"] for r in db.execute(
        "SELECT status, count(*) AS n FROM hub.messages GROUP BY status")}
    assert expected == {"queued": 2, "sent": 2, "failed": 1}
    assert by_status() == expected
    db.execute("SELECT hub.stats_rollup_v1()")
    assert db.execute("SELECT count(*) AS n FROM hub.stats_deltas").fetchone()["n"] == 0
    assert by_status() == expected
    day = db.execute("SELECT * FROM hub.stats_by_connection_day WHERE connection = 'link'").fetchone()
    assert (day["messages"], day["sent"], day["failed"], day["pending"]) == (5, 2, 1, 2)


def test_one_wakeup_per_transaction_for_a_waiting_worker(db_url, db):
    conn_id = _connection(db)
    db.execute("SELECT hub.outbox_wait_v1(%s)", (conn_id,))
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN msghub_outbox")
        with db.transaction():
            for i in range(20):
                db.execute("INSERT INTO hub.outbox (recipient, text, connection) VALUES (%s, 'x', 'link')",
                           (f"+4477009{i:05d}",))
        # the first wake-up, however slow the machine; any other would have
        # come with the same commit, so it is already there to drain
        notes = list(listener.notifies(timeout=30, stop_after=1)) + list(listener.notifies(timeout=0.3))
    assert [(n.channel, n.payload) for n in notes] == [("msghub_outbox", str(conn_id))]


def test_no_wakeup_while_the_worker_is_busy(db_url, db):
    _connection(db)
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN msghub_outbox")
        db.execute("INSERT INTO hub.outbox (recipient, text, connection) VALUES ('+447700900123', 'x', 'link')")
        # notifications arrive in commit order: a wake-up from the insert would
        # come before this marker, committed after it
        db.execute("NOTIFY msghub_outbox, 'marker'")
        notes = [(n.channel, n.payload) for n in listener.notifies(timeout=30, stop_after=1)]
        assert notes == [("msghub_outbox", "marker")]


def test_concurrent_idempotent_inserts_queue_once(db_url, db):
    _connection(db)
    errors: list[Exception] = []

    def insert(conn):
        try:
            conn.execute("INSERT INTO hub.outbox (recipient, text, idempotency_key) "
                         "VALUES ('+447700900123', 'x', 'k-1')")
        except Exception as exc:  # recorded for the assertion below
            errors.append(exc)

    with psycopg.connect(db_url) as a, psycopg.connect(db_url) as b:
        insert(a)
        second = threading.Thread(target=lambda: (insert(b), b.commit()))
        second.start()
        second.join(0.3)
        assert second.is_alive(), "the second insert waits for the first transaction"
        a.commit()
        second.join(5)
    assert errors == []
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 1


def test_sweep_applies_a_report_that_raced_its_submit(db):
    conn_id = _connection(db)
    message_id = _queue(db)[0]
    rows = _claim(db, conn_id)
    db.execute("SELECT hub.record_delivery_v1(%s, 'race-1', 'delivered', NULL)", (conn_id,))
    # as if the submit's record committed without seeing the report
    _record(db, rows, "sent", ref="race")
    db.execute("INSERT INTO hub.sms_segments (message_id, seq, total, connection_id, operator_ref) "
               "VALUES (%s, 1, 1, %s, 'race-1')", (message_id, conn_id))
    assert _status(db, message_id)["status"] == "sent"
    assert db.execute("SELECT hub.apply_pending_reports_v1() AS n").fetchone()["n"] == 1
    assert _status(db, message_id)["status"] == "delivered"
    assert db.execute("SELECT hub.apply_pending_reports_v1() AS n").fetchone()["n"] == 0
