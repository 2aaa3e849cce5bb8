"""hub.outbox refuses bad rows as docs/INTEGRATION.md says, and never half-queues.

Every refusal is SQLSTATE 22023 (invalid_parameter_value) with the message
"hub.outbox.<column>: <reason>" and the column in the error's COLUMN field.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.rows import dict_row

from tests.sql_fixtures import EXAMPLES_SETUP

Conn = psycopg.Connection[dict[str, Any]]

SETUP = EXAMPLES_SETUP + """
INSERT INTO hub.connections (name, kind, channels, config)
VALUES ('mailer', 'loopback', '{email}', '{}');
"""

GOOD = "('+447700900123', 'Your parcel arrives today.')"


@pytest.fixture
def hub(db: Conn) -> Conn:
    db.execute(SETUP)
    return db


def count(conn: Conn, table: str) -> int:
    row = conn.execute(f"SELECT count(*) AS n FROM hub.{table}").fetchone()
    assert row is not None
    return int(row["n"])


def assert_nothing_queued(conn: Conn) -> None:
    assert count(conn, "messages") == 0
    assert count(conn, "outbox") == 0
    assert count(conn, "message_parts") == 0


def base64_of(size: int) -> str:
    """SQL for the base64 of `size` bytes."""
    return f"encode(convert_to(repeat('x', {size}), 'UTF8'), 'base64')"


def attachment(data_sql: str) -> str:
    return (f"jsonb_build_array(jsonb_build_object('filename', 'photo.jpg', "
            f"'content_type', 'image/jpeg', 'data', {data_sql}))")


# (column, words of the reason, setup, statement)
BAD_ROWS = [
    pytest.param(
        "connection", "unknown connection 'nowhere'", None,
        "INSERT INTO hub.outbox (recipient, text, connection)"
        " VALUES ('+447700900123', 'Hi', 'nowhere')",
        id="unknown-connection"),
    pytest.param(
        "connection", "connection 'mailer' does not carry sms (it carries email)", None,
        "INSERT INTO hub.outbox (recipient, text, connection)"
        " VALUES ('+447700900123', 'Hi', 'mailer')",
        id="connection-without-the-channel"),
    pytest.param(
        "connection", "no route for sms to +447700900123", (
            "UPDATE hub.connections SET is_default = false;"
            "INSERT INTO hub.connections (name, kind, channels)"
            " VALUES ('spare', 'loopback', '{sms}')"),
        f"INSERT INTO hub.outbox (recipient, text) VALUES {GOOD}",
        id="no-route"),
    pytest.param(
        "recipient", "malformed phone number '+44 77OO 900123'", None,
        "INSERT INTO hub.outbox (recipient, text) VALUES ('+44 77OO 900123', 'Hi')",
        id="malformed-phone-number"),
    pytest.param(
        "recipients", "malformed phone number 'ask reception'", None,
        "INSERT INTO hub.outbox (recipients, text)"
        " VALUES ('{+447700900123,ask reception}', 'Hi')",
        id="malformed-phone-number-among-recipients"),
    pytest.param(
        "recipient", "malformed e-mail address 'jane.doe@example'", None,
        "INSERT INTO hub.outbox (channel, recipient, subject, text)"
        " VALUES ('email', 'jane.doe@example', 'Hello', 'Hi')",
        id="malformed-email-address"),
    pytest.param(
        "text", "empty message: give text or attachments", None,
        "INSERT INTO hub.outbox (recipient) VALUES ('+447700900123')",
        id="empty-message"),
    pytest.param(
        "text", "empty message: give text or attachments", None,
        "INSERT INTO hub.outbox (channel, recipient, text, attachments)"
        " VALUES ('mms', '+447700900123', '', '[]')",
        id="empty-text-and-no-attachments"),
    pytest.param(
        "recipient", "no recipient", None,
        "INSERT INTO hub.outbox (text) VALUES ('Hi')",
        id="no-recipient"),
    pytest.param(
        "list", "unknown distribution list 'prospects'", None,
        "INSERT INTO hub.outbox (list, text) VALUES ('prospects', 'Hi')",
        id="unknown-list"),
    pytest.param(
        "attachments", "attachments total 1001 bytes, over the mms limit of 1000 bytes",
        "UPDATE hub.settings SET value = '1000' WHERE key = 'mms_max_bytes'",
        "INSERT INTO hub.outbox (channel, recipient, attachments)"
        f" VALUES ('mms', '+447700900123', {attachment(base64_of(1001))})",
        id="attachment-over-the-limit"),
    pytest.param(
        "attachments", "attachment 'photo.jpg' is not valid base64", None,
        "INSERT INTO hub.outbox (channel, recipient, attachments)"
        f" VALUES ('mms', '+447700900123', {attachment(repr('not base64!'))})",
        id="attachment-not-base64"),
    pytest.param(
        "attachments", "must be a JSON array", None,
        "INSERT INTO hub.outbox (channel, recipient, attachments) VALUES ('mms', '+447700900123',"
        """ '{"filename": "photo.jpg", "content_type": "image/jpeg", "data": "eHh4"}')""",
        id="attachments-not-an-array"),
    pytest.param(
        "attachments", "each attachment needs \"content_type\" and \"data\" (base64) strings", None,
        "INSERT INTO hub.outbox (channel, recipient, attachments)"
        """ VALUES ('mms', '+447700900123', '[{"filename": "photo.jpg", "data": "eHh4"}]')""",
        id="attachment-without-content-type"),
    pytest.param(
        "attachments", "an SMS carries no attachments", None,
        "INSERT INTO hub.outbox (recipient, text, attachments)"
        f" VALUES ('+447700900123', 'Hi', {attachment(base64_of(3))})",
        id="attachments-on-an-sms"),
    pytest.param(
        "send_at", "is after valid_until", None,
        "INSERT INTO hub.outbox (recipient, text, send_at, valid_until)"
        " VALUES ('+447700900123', 'Hi', now() + interval '2 hours', now() + interval '1 hour')",
        id="send-at-after-valid-until"),
    pytest.param(
        "valid_until", "already expired", None,
        "INSERT INTO hub.outbox (recipient, text, valid_until)"
        " VALUES ('+447700900123', 'Hi', now() - interval '1 minute')",
        id="valid-until-in-the-past"),
    pytest.param(
        "channel", "unknown channel 'fax': use sms, mms or email", None,
        "INSERT INTO hub.outbox (channel, recipient, text) VALUES ('fax', '+447700900123', 'Hi')",
        id="unknown-channel"),
    pytest.param(
        "channel", "unknown channel NULL", None,
        "INSERT INTO hub.outbox (channel, recipient, text) VALUES (NULL, '+447700900123', 'Hi')",
        id="null-channel"),
    pytest.param(
        "priority", "priority 4 out of range: 0 bulk, 1 normal, 2 high, 3 urgent", None,
        "INSERT INTO hub.outbox (recipient, text, priority) VALUES ('+447700900123', 'Hi', 4)",
        id="priority-too-high"),
    pytest.param(
        "priority", "priority -1 out of range", None,
        "INSERT INTO hub.outbox (recipient, text, priority) VALUES ('+447700900123', 'Hi', -1)",
        id="priority-negative"),
    pytest.param(
        "sender", "malformed sender 'AcmeLogistics': a number, or at most 11 letters and digits",
        None,
        "INSERT INTO hub.outbox (recipient, text, sender)"
        " VALUES ('+447700900123', 'Hi', 'AcmeLogistics')",
        id="sms-sender-of-13-letters"),
    pytest.param(
        "sender", "malformed e-mail address 'Acme Billing'", None,
        "INSERT INTO hub.outbox (channel, recipient, sender, text)"
        " VALUES ('email', 'jane.doe@example.com', 'Acme Billing', 'Hi')",
        id="email-sender-not-an-address"),
]


@pytest.mark.parametrize(("column", "reason", "setup", "statement"), BAD_ROWS)
def test_bad_row_is_refused_naming_its_column(
        hub: Conn, column: str, reason: str, setup: str | None, statement: str) -> None:
    if setup:
        hub.execute(setup)
    assert_refused(hub, column, reason, statement)


def test_a_null_priority_is_refused_naming_its_column(hub: Conn) -> None:
    assert_refused(hub, "priority", "priority", "INSERT INTO hub.outbox (recipient, text, priority)"
                   " VALUES ('+447700900123', 'Hi', NULL)")


def assert_refused(hub: Conn, column: str, reason: str, statement: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        hub.execute(statement)
    exc = info.value
    assert exc.sqlstate == "22023"
    assert exc.diag.column_name == column
    assert (exc.diag.schema_name, exc.diag.table_name) == ("hub", "outbox")
    message = exc.diag.message_primary or ""
    assert message.startswith(f"hub.outbox.{column}: ")
    assert reason in message
    assert_nothing_queued(hub)


def test_attachments_up_to_the_limit_are_accepted(hub: Conn) -> None:
    hub.execute("UPDATE hub.settings SET value = '1000' WHERE key = 'mms_max_bytes'")
    hub.execute("INSERT INTO hub.outbox (channel, recipient, attachments)"
                f" VALUES ('mms', '+447700900123', {attachment(base64_of(1000))})")
    row = hub.execute("SELECT length(data) AS n FROM hub.message_parts").fetchone()
    assert row == {"n": 1000}


def test_good_sender_and_timing_are_accepted(hub: Conn) -> None:
    """The checks refuse what they should, and no more."""
    hub.execute("""
        INSERT INTO hub.outbox (recipient, text, sender, send_at, valid_until, priority) VALUES
            ('+447700900123', 'Hi', 'AcmeLogisti', now() + interval '1 hour',
             now() + interval '2 hours', 0),
            ('+447700900123', 'Hi', '+447700900000', NULL, now() + interval '1 minute', 3)""")
    assert count(hub, "messages") == 2


def test_a_bad_row_among_good_ones_queues_nothing(hub: Conn) -> None:
    assert_nothing_queued(hub)
    with pytest.raises(errors.InvalidParameterValue) as info:
        hub.execute(f"""
            INSERT INTO hub.outbox (recipient, text) VALUES
                {GOOD},
                ('+447700900456', ''),
                ('+447700900789', 'Your parcel arrives tomorrow.')""")
    assert info.value.diag.column_name == "text"
    assert_nothing_queued(hub)


def test_a_bad_insert_fails_the_whole_transaction(hub: Conn) -> None:
    with pytest.raises(errors.InvalidParameterValue), hub.transaction():
        hub.execute(f"INSERT INTO hub.outbox (recipient, text) VALUES {GOOD}")
        assert count(hub, "messages") == 1  # queued, inside the transaction
        hub.execute("INSERT INTO hub.outbox (recipient, text, connection)"
                    " VALUES ('+447700900456', 'Hi', 'nowhere')")
    assert_nothing_queued(hub)


def test_the_outbox_refuses_updates(hub: Conn) -> None:
    hub.execute(f"INSERT INTO hub.outbox (recipient, text) VALUES {GOOD}")
    with pytest.raises(errors.FeatureNotSupported, match=r"hub\.outbox rows cannot be changed"):
        hub.execute("UPDATE hub.outbox SET text = 'changed'")
    row = hub.execute("SELECT text FROM hub.outbox").fetchone()
    assert row == {"text": "Your parcel arrives today."}


# -- idempotency ----------------------------------------------------------------------------

IDEMPOTENT = ("INSERT INTO hub.outbox (recipient, text, idempotency_key)"
              " VALUES ('+447700900123', 'Payment received.', 'payment-88123') RETURNING id")


def test_an_idempotency_key_inserted_again_queues_nothing_and_raises_nothing(hub: Conn) -> None:
    first = hub.execute(IDEMPOTENT).fetchall()
    second = hub.execute(IDEMPOTENT)
    assert len(first) == 1
    assert second.rowcount == 0 and second.fetchall() == []
    assert count(hub, "messages") == 1
    assert count(hub, "outbox") == 1


def test_an_idempotency_key_repeated_within_one_statement_queues_once(hub: Conn) -> None:
    hub.execute("""
        INSERT INTO hub.outbox (recipient, text, idempotency_key) VALUES
            ('+447700900123', 'Payment received.', 'payment-88123'),
            ('+447700900123', 'Payment received.', 'payment-88123')""")
    assert count(hub, "messages") == 1


def _insert_in_thread(url: str, outcome: dict[str, Any]) -> threading.Thread:
    def run() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                outcome["pid"] = conn.info.backend_pid
                outcome["rows"] = conn.execute(IDEMPOTENT).rowcount
        except Exception as exc:  # reported to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until_blocked(conn: Conn, outcome: dict[str, Any]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pid = outcome.get("pid")
        if pid is not None:
            row = conn.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            if row and row["wait_event_type"] == "Lock":
                return
        if "error" in outcome or "rows" in outcome:
            break
        time.sleep(0.02)
    raise AssertionError(f"the second insert did not wait for the first: {outcome}")


@pytest.mark.parametrize("first_ends_with", ["commit", "rollback"])
def test_concurrent_inserts_of_one_idempotency_key_queue_once(
        hub: Conn, db_url: str, first_ends_with: str) -> None:
    with psycopg.connect(db_url, row_factory=dict_row) as first:
        assert len(first.execute(IDEMPOTENT).fetchall()) == 1  # transaction left open
        outcome: dict[str, Any] = {}
        thread = _insert_in_thread(db_url, outcome)
        _wait_until_blocked(hub, outcome)
        if first_ends_with == "commit":
            first.commit()
        else:
            first.rollback()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    # the second insert queues only when the first did not
    assert outcome["rows"] == (0 if first_ends_with == "commit" else 1)
    assert count(hub, "messages") == 1
    assert count(hub, "outbox") == 1


# -- normalisation --------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["+44 7700 900-123", "0044 7700900123", "+44 (7700) 900.123", "+44 (0)7700 900123"])
def test_phone_numbers_are_normalised(hub: Conn, written: str) -> None:
    returned = hub.execute("INSERT INTO hub.outbox (recipient, text) VALUES (%s, 'Hi')"
                           " RETURNING recipients", (written,)).fetchone()
    assert returned == {"recipients": ["+447700900123"]}
    row = hub.execute("SELECT recipients FROM hub.messages").fetchone()
    assert row == {"recipients": ["+447700900123"]}


def test_the_same_number_written_twice_is_sent_once(hub: Conn) -> None:
    hub.execute("INSERT INTO hub.outbox (recipient, recipients, text)"
                " VALUES ('+447700900123', '{0044 7700 900123,+44 7700 900-123}', 'Hi')")
    assert count(hub, "messages") == 1
