"""The runnable SQL in sql_examples/ does what docs/INTEGRATION.md says.

Every file is executed as a whole against a fresh database holding what the
files assume (a loopback connection "demo" marked is_default, a contact list
"customers" with two contacts), and its effects are checked row by row. The
documentation's SQL is checked to be these files' text, so the two cannot
drift apart.
"""

from __future__ import annotations

import base64
import re
import textwrap
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from msghub.hub.notify import CHANNELS
from tests.sql_fixtures import EXAMPLES_SETUP

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "sql_examples"
DOC = ROOT / "docs" / "INTEGRATION.md"

Conn = psycopg.Connection[dict[str, Any]]
Rows = list[dict[str, Any]]

# what the example files assume
SETUP = EXAMPLES_SETUP

# a 1x1 PNG, as an MMS picture would carry
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAHnOWVwAAAABJRU5ErkJggg==")

CHECKED: set[str] = set()


def checks(*names: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Marks a test as the check of these example files."""
    CHECKED.update(names)

    def mark(fn: Callable[..., None]) -> Callable[..., None]:
        return fn

    return mark


def example_text(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


def run_example(conn: Conn, name: str) -> list[Rows | None]:
    """Executes a whole file; returns each statement's rows (None: no result rows)."""
    cur = conn.execute(example_text(name))  # no parameters: sent as it is
    results: list[Rows | None] = []
    while True:
        results.append(cur.fetchall() if cur.description is not None else None)
        if not cur.nextset():
            return results


@pytest.fixture
def hub(db: Conn) -> Conn:
    db.execute(SETUP)
    return db


def demo_id(conn: Conn) -> int:
    row = conn.execute("SELECT id FROM hub.connections WHERE name = 'demo'").fetchone()
    assert row is not None
    return int(row["id"])


def outbound(conn: Conn) -> Rows:
    return conn.execute(
        "SELECT * FROM hub.messages WHERE direction = 'out' ORDER BY id").fetchall()


def claim(conn: Conn, connection_id: int) -> Rows:
    return conn.execute("SELECT id, attempts, correlation_id, recipients"
                        " FROM hub.claim_outbound_v1(%s, 'test-node', 100) ORDER BY id",
                        (connection_id,)).fetchall()


Outcome = tuple[dict[str, Any], str, str | None, int | None, str | None]


def record(conn: Conn, outcomes: list[Outcome]) -> None:
    """Records (claimed row, outcome, operator ref, segments, failure code) as a worker would."""
    rows, kinds, refs, segments, codes = (list(column) for column in zip(*outcomes, strict=True))
    conn.execute(
        "SELECT hub.record_results_v1(%s::bigint[], %s::int[], %s::text[], %s::text[], %s::int[],"
        " %s::text[], %s::text[], '{}'::bigint[], '{}'::int[], '{}'::int[], '{}'::text[])",
        ([r["id"] for r in rows], [r["attempts"] for r in rows], kinds, refs, segments, codes,
         [f"test says {c}" if c else None for c in codes]))


def receive(conn: Conn, channel: str, sender: str, text: str, parts: str = "[]") -> int:
    row = conn.execute(
        "SELECT hub.receive_message_v1(%s, %s, %s, %s, NULL, %s, '{}', %s::jsonb) AS id",
        (demo_id(conn), channel, sender, ["+447700900000"], text, parts)).fetchone()
    assert row is not None
    return int(row["id"])


# -- the files and the documentation --------------------------------------------------

def sql_blocks(markdown: str) -> list[str]:
    found = re.findall(r"^([ \t]*)```sql\n(.*?)^[ \t]*```", markdown, re.MULTILINE | re.DOTALL)
    return [textwrap.dedent(body) for _, body in found]


def test_every_example_file_is_checked() -> None:
    files = {p.name for p in EXAMPLES.glob("*.sql")}
    assert files == CHECKED, "each file in sql_examples/ needs a test here, and each test a file"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.sql")))
def test_example_file_says_what_it_does_and_assumes(name: str) -> None:
    text = example_text(name)
    assert text.startswith("-- "), f"{name} must open with a comment saying what it does"
    header = text.split("\n\n", 1)[0]
    assert "Assumes:" in header, f"{name}: its opening comment must say what it assumes"


def test_every_sql_block_in_the_documentation_is_an_example() -> None:
    blocks = sql_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= len(CHECKED), "the guide shows at least one block per example file"
    examples = [example_text(p.name) for p in EXAMPLES.glob("*.sql")]
    for block in blocks:
        assert any(block.strip() in text for text in examples), (
            f"this SQL of docs/INTEGRATION.md is in no file of sql_examples/:\n{block}")


def test_the_documentation_points_at_every_example_file() -> None:
    doc = DOC.read_text(encoding="utf-8")
    missing = [p.name for p in EXAMPLES.glob("*.sql") if f"sql_examples/{p.name}" not in doc]
    assert not missing


def test_every_notification_channel_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert CHANNELS
    missing = [channel for channel in CHANNELS if f"`{channel}`" not in doc]
    assert not missing


# -- sending -----------------------------------------------------------------------------

@checks("send_one.sql")
def test_send_one_queues_one_routed_sms(hub: Conn) -> None:
    (returned,) = run_example(hub, "send_one.sql")
    assert returned is not None and len(returned) == 1
    assert returned[0]["message_count"] == 1
    (m,) = outbound(hub)
    assert m["outbox_id"] == returned[0]["id"]
    assert (m["channel"], m["status"], m["recipients"]) == ("sms", "queued", ["+447700900123"])
    assert m["connection_id"] == demo_id(hub)  # routed to the default connection
    assert m["body"] == "Your order 1001 has shipped and arrives tomorrow."
    assert m["correlation_id"] == "order-1001"
    assert m["priority"] == 1 and m["delivery_report"] is False


def test_routing_takes_the_longest_prefix_then_the_default_then_the_only_connection(
        hub: Conn) -> None:
    hub.execute("""
        INSERT INTO hub.connections (name, kind, channels) VALUES
            ('uk', 'loopback', '{sms}'), ('uk-mobile', 'loopback', '{sms}'),
            ('mailer', 'loopback', '{email}');
        INSERT INTO hub.routes (channel, prefix, connection_id)
        SELECT 'sms', r.prefix, c.id FROM hub.connections c
        JOIN (VALUES ('+44', 'uk'), ('+447', 'uk-mobile')) AS r (prefix, name) ON r.name = c.name""")

    def routed(channel: str, recipient: str) -> str:
        outbox = hub.execute("INSERT INTO hub.outbox (channel, recipient, text)"
                             " VALUES (%s, %s, 'Hi') RETURNING id", (channel, recipient)).fetchone()
        assert outbox is not None
        row = hub.execute("SELECT connection FROM hub.message_status WHERE outbox_id = %s",
                          (outbox["id"],)).fetchone()
        assert row is not None
        return str(row["connection"])

    assert routed("sms", "+44 7700 900123") == "uk-mobile"
    assert routed("sms", "+44 113 496 0000") == "uk"
    assert routed("sms", "+33 6 12 34 56 78") == "demo"  # the default
    assert routed("email", "jane.doe@example.com") == "demo"
    hub.execute("UPDATE hub.connections SET is_default = false")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="no route for sms"):
        routed("sms", "+33 6 12 34 56 78")  # three connections carry sms
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="no route for email"):
        routed("email", "jane.doe@example.com")
    hub.execute("UPDATE hub.connections SET enabled = false WHERE name = 'mailer'")
    assert routed("email", "jane.doe@example.com") == "demo"  # the only one left


@checks("send_many.sql")
def test_send_many_queues_one_message_per_recipient(hub: Conn) -> None:
    results = run_example(hub, "send_many.sql")
    returned = results[0]
    assert returned is not None and returned[0]["message_count"] == 3
    messages = outbound(hub)
    assert len(messages) == 5
    assert {m["status"] for m in messages} == {"queued"}
    by_recipient = {m["recipients"][0]: m for m in messages}
    assert set(by_recipient) == {"+447700900123", "+447700900456", "+447700900789",
                                 "+447700900321", "+447700900654"}
    depot = [m for m in messages if m["correlation_id"] == "depot-closure"]
    assert len(depot) == 3 and {m["sender"] for m in depot} == {"AcmeDepot"}
    assert {m["outbox_id"] for m in depot} == {returned[0]["id"]}
    assert by_recipient["+447700900654"]["body"] == "Hi Ana, your login code is 175064."
    assert by_recipient["+447700900654"]["correlation_id"] == "login-ana"
    outbox = hub.execute("SELECT recipients, message_count FROM hub.outbox ORDER BY id").fetchall()
    assert [r["message_count"] for r in outbox] == [3, 1, 1]
    # the outbox row keeps the addresses as queued, normalised
    assert outbox[0]["recipients"] == ["+447700900123", "+447700900456", "+447700900789"]


@checks("send_to_list.sql")
def test_send_to_list_reaches_each_member(hub: Conn) -> None:
    (returned,) = run_example(hub, "send_to_list.sql")
    assert returned is not None
    assert returned[0]["message_count"] == 2
    # the outbox row lists the members' numbers, normalised
    assert sorted(returned[0]["recipients"]) == ["+447700900123", "+447700900321"]
    messages = outbound(hub)
    assert sorted(m["recipients"][0] for m in messages) == ["+447700900123", "+447700900321"]
    assert {(m["status"], m["sender"], m["correlation_id"]) for m in messages} == {
        ("queued", "AcmeShop", "spring-sale")}


def add_member(conn: Conn, name: str, phone: str | None, email: str | None) -> None:
    conn.execute("""
        WITH c AS (INSERT INTO hub.contacts (name, phone, email) VALUES (%s, %s, %s) RETURNING id)
        INSERT INTO hub.list_members (list_id, contact_id)
        SELECT l.id, c.id FROM hub.lists l, c WHERE l.name = 'customers'""", (name, phone, email))


def test_send_to_list_by_email_skips_members_without_an_address(hub: Conn) -> None:
    add_member(hub, "Phone Only", "+447700900999", None)
    hub.execute("INSERT INTO hub.outbox (channel, list, subject, text)"
                " VALUES ('email', 'customers', 'Spring sale', 'It starts on Friday.')")
    assert sorted(m["recipients"][0] for m in outbound(hub)) == [
        "jane.doe@example.com", "sam.patel@example.com"]


def test_send_to_list_by_sms_skips_members_without_a_phone_number(hub: Conn) -> None:
    add_member(hub, "Mail Only", None, "mail.only@example.com")
    (returned,) = run_example(hub, "send_to_list.sql")
    assert returned is not None and returned[0]["message_count"] == 2
    assert sorted(m["recipients"][0] for m in outbound(hub)) == ["+447700900123", "+447700900321"]


def test_send_to_list_by_mms_uses_the_email_address_of_members_without_a_phone(hub: Conn) -> None:
    add_member(hub, "Mail Only", None, "mail.only@example.com")
    hub.execute("INSERT INTO hub.outbox (channel, list, text) VALUES ('mms', 'customers', 'Hello')")
    assert sorted(m["recipients"][0] for m in outbound(hub)) == [
        "+447700900123", "+447700900321", "mail.only@example.com"]


@checks("send_deferred_with_expiry.sql")
def test_send_deferred_with_expiry_waits_for_its_time(hub: Conn) -> None:
    (returned,) = run_example(hub, "send_deferred_with_expiry.sql")
    assert returned is not None and returned[0]["message_count"] == 1
    (m,) = outbound(hub)
    row = hub.execute("SELECT now() AS now").fetchone()
    assert row is not None
    now = row["now"]
    assert m["status"] == "queued"
    assert timedelta(hours=23) < m["send_at"] - now < timedelta(hours=25)
    assert m["next_attempt_at"] == m["send_at"]
    assert m["valid_until"] - m["send_at"] == timedelta(hours=2)
    assert m["delivery_report"] is True and m["priority"] == 2
    assert claim(hub, demo_id(hub)) == []  # not due yet
    (status,) = hub.execute(
        "SELECT status, send_at, valid_until FROM hub.message_status"
        " WHERE correlation_id = 'appointment-4711'").fetchall()
    assert status == {"status": "queued", "send_at": m["send_at"], "valid_until": m["valid_until"]}


@checks("send_email_with_attachment.sql")
def test_send_email_with_attachment_stores_the_decoded_parts(hub: Conn) -> None:
    first, second = run_example(hub, "send_email_with_attachment.sql")
    assert first is not None and second is not None
    assert first[0]["message_count"] == 1 and second[0]["message_count"] == 1
    invoice, report = outbound(hub)
    assert (invoice["channel"], invoice["recipients"], invoice["sender"], invoice["subject"]) == (
        "email", ["jane.doe@example.com"], "billing@example.com", "Your invoice 1001")
    assert invoice["body"].startswith("Dear Jane,\n\n")
    assert report["recipients"] == ["ops@example.com"]
    parts = hub.execute(
        "SELECT message_id, seq, content_type, filename, data FROM hub.message_parts"
        " ORDER BY message_id, seq").fetchall()
    assert [(p["message_id"], p["seq"], p["content_type"], p["filename"], bytes(p["data"]))
            for p in parts] == [
        (invoice["id"], 1, "text/plain", "invoice-1001.txt",
         b"Invoice 1001\nAmount due: GBP 42.00\n"),
        (report["id"], 1, "text/csv", "report.csv", b"depot,parcels\nLeeds,118\nYork,64\n"),
    ]
    # the request row keeps the description of its attachments, not their data
    kept = hub.execute("SELECT attachments FROM hub.outbox ORDER BY id").fetchall()
    assert kept[0]["attachments"] == [
        {"filename": "invoice-1001.txt", "content_type": "text/plain"}]
    assert kept[1]["attachments"] == [{"filename": "report.csv", "content_type": "text/csv"}]


@checks("send_idempotent.sql")
def test_send_idempotent_twice_queues_once_without_error(hub: Conn) -> None:
    (first,) = run_example(hub, "send_idempotent.sql")
    (second,) = run_example(hub, "send_idempotent.sql")
    assert first is not None and len(first) == 1 and first[0]["message_count"] == 1
    assert second == []  # no row returned, and no error
    (m,) = outbound(hub)
    assert m["recipients"] == ["+447700900123"] and m["correlation_id"] == "payment-88123"
    assert hub.execute("SELECT count(*) AS n FROM hub.outbox").fetchone() == {"n": 1}


# -- reading -----------------------------------------------------------------------------

@checks("read_inbox.sql")
def test_read_inbox_lists_what_arrived_with_its_parts(hub: Conn) -> None:
    run_example(hub, "send_one.sql")  # outbound: not in the inbox
    sms = receive(hub, "sms", "+447700900456", "STOP")
    png = base64.b64encode(PNG).decode()
    mms = receive(hub, "mms", "+447700900789", "Photo of the parcel",
                  f'[{{"content_type": "image/png", "filename": "parcel.png", "data": "{png}"}}]')
    messages, parts = run_example(hub, "read_inbox.sql")
    assert messages is not None and parts is not None
    assert [(m["id"], m["channel"], m["connection"], m["sender"], m["text"], m["part_count"])
            for m in messages] == [
        (sms, "sms", "demo", "+447700900456", "STOP", 0),
        (mms, "mms", "demo", "+447700900789", "Photo of the parcel", 1),
    ]
    assert messages[0]["recipients"] == ["+447700900000"]
    assert [(p["message_id"], p["seq"], p["content_type"], p["filename"], bytes(p["data"]))
            for p in parts] == [(mms, 1, "image/png", "parcel.png", PNG)]


@checks("status_by_correlation_id.sql")
def test_status_follows_a_message_through_the_queue(hub: Conn) -> None:
    for name in ("send_one.sql", "send_idempotent.sql", "send_to_list.sql"):
        run_example(hub, name)

    order, by_key, summary = run_example(hub, "status_by_correlation_id.sql")
    assert order is not None and by_key is not None and summary is not None
    assert [(r["recipient"], r["connection"], r["status"], r["attempts"]) for r in order] == [
        ("+447700900123", "demo", "queued", 0)]
    assert [(r["recipient"], r["status"], r["failure_code"]) for r in by_key] == [
        ("+447700900123", "queued", None)]
    assert summary == [{"status": "queued", "messages": 2}]

    # a worker sends the order notice and the receipt, one sale message is
    # refused for good, the other is still being sent
    claimed = {(r["correlation_id"], r["recipients"][0]): r for r in claim(hub, demo_id(hub))}
    assert len(claimed) == 4
    record(hub, [
        (claimed["order-1001", "+447700900123"], "sent", "ref-1", 2, None),
        (claimed["payment-88123", "+447700900123"], "sent", "ref-2", 1, None),
        (claimed["spring-sale", "+447700900321"], "failed", None, None, "refused"),
    ])
    order, by_key, summary = run_example(hub, "status_by_correlation_id.sql")
    assert order is not None and by_key is not None
    assert [(r["status"], r["attempts"], r["segments"], r["failure_code"]) for r in order] == [
        ("sent", 1, 2, None)]
    assert [r["status"] for r in by_key] == ["sent"]
    assert summary == [{"status": "failed", "messages": 1}, {"status": "sending", "messages": 1}]

    # the delivery report of the order notice arrives
    hub.execute("SELECT hub.record_delivery_v1(%s, 'ref-1', 'delivered', NULL)", (demo_id(hub),))
    order = run_example(hub, "status_by_correlation_id.sql")[0]
    assert order is not None
    assert [(r["status"], r["failure_code"], r["possible_duplicate"]) for r in order] == [
        ("delivered", None, False)]


@checks("cancel.sql")
def test_cancel_fails_a_queued_message_as_cancelled(hub: Conn) -> None:
    run_example(hub, "send_deferred_with_expiry.sql")
    (m,) = outbound(hub)
    (cancelled,) = run_example(hub, "cancel.sql")
    assert cancelled == [{"message_id": m["id"], "cancelled": True}]
    status = hub.execute("SELECT status, failure_code FROM hub.message_status"
                         " WHERE message_id = %s", (m["id"],)).fetchone()
    assert status == {"status": "failed", "failure_code": "cancelled"}
    assert run_example(hub, "cancel.sql") == [[]]  # nothing queued is left to cancel
    event = hub.execute(
        "SELECT type, payload FROM hub.events WHERE message_id = %s", (m["id"],)).fetchone()
    assert event is not None and event["type"] == "message_failed"
    assert event["payload"]["failure_code"] == "cancelled"


def test_cancel_cannot_call_back_a_message_being_sent(hub: Conn) -> None:
    run_example(hub, "send_one.sql")
    (claimed,) = claim(hub, demo_id(hub))
    row = hub.execute("SELECT hub.cancel_v1(%s) AS cancelled", (claimed["id"],)).fetchone()
    assert row == {"cancelled": False}
    assert outbound(hub)[0]["status"] == "sending"


@checks("import_data.sql")
def test_import_data_becomes_data_imported_events(hub: Conn) -> None:
    run_example(hub, "import_data.sql")
    imports = hub.execute("SELECT id, topic, payload FROM hub.import ORDER BY id").fetchall()
    events = hub.execute(
        "SELECT type, message_id, payload FROM hub.events ORDER BY id").fetchall()
    assert len(imports) == 3
    assert [e["type"] for e in events] == ["data_imported"] * 3
    assert [e["payload"] for e in events] == [
        {"import_id": i["id"], "topic": "crm.customer", "row": i["payload"]} for i in imports]
    assert events[0]["payload"]["row"] == {
        "customer_id": 1001, "name": "Jane Doe", "phone": "+447700900123", "tier": "gold"}
    assert events[2]["payload"]["row"] == {
        "customer_id": 1003, "name": "Ana Silva", "phone": "+447700900654"}


@checks("connection_status.sql")
def test_connection_status_shows_queue_depth(hub: Conn) -> None:
    hub.execute("INSERT INTO hub.connections (name, kind, channels, enabled)"
                " VALUES ('mailer', 'loopback', '{email}', false)")
    run_example(hub, "send_many.sql")
    claim(hub, demo_id(hub))
    run_example(hub, "send_one.sql")
    (rows,) = run_example(hub, "connection_status.sql")
    assert rows is not None
    assert [(r["name"], r["enabled"], r["state"], r["queued"], r["sending"]) for r in rows] == [
        ("demo", True, "stopped", 1, 5), ("mailer", False, "stopped", 0, 0)]


# -- statistics --------------------------------------------------------------------------

BY_CONNECTION_DIRECT = """
SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, c.name AS connection, m.direction,
       count(*) AS messages, sum(coalesce(m.segments, 1)) AS segments,
       count(*) FILTER (WHERE m.status IN ('sent', 'delivered')) AS sent,
       count(*) FILTER (WHERE m.status = 'delivered') AS delivered,
       count(*) FILTER (WHERE m.status = 'failed') AS failed,
       count(*) FILTER (WHERE m.status IN ('queued', 'sending')) AS pending,
       count(*) FILTER (WHERE m.status = 'received') AS received
FROM hub.messages m
LEFT JOIN hub.connections c ON c.id = m.connection_id
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""

BY_USER_DIRECT = """
SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, u.username, m.channel, m.direction,
       count(*) AS messages, sum(coalesce(m.segments, 1)) AS segments
FROM hub.messages m
LEFT JOIN hub.users u ON u.id = m.owner_user_id
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2 NULLS FIRST, 3, 4
"""


def traffic(conn: Conn) -> None:
    """Messages in every state: queued, sending, sent, delivered, failed, received."""
    run_example(conn, "send_many.sql")
    run_example(conn, "send_email_with_attachment.sql")
    claimed = claim(conn, demo_id(conn))
    record(conn, [(claimed[0], "sent", "r-1", 3, None), (claimed[1], "sent", "r-2", 1, None),
                  (claimed[2], "failed", None, None, "refused")])
    conn.execute("SELECT hub.record_delivery_v1(%s, 'r-1', 'delivered', NULL)", (demo_id(conn),))
    run_example(conn, "send_deferred_with_expiry.sql")
    run_example(conn, "cancel.sql")
    run_example(conn, "send_one.sql")
    receive(conn, "sms", "+447700900456", "YES")
    receive(conn, "email", "jane.doe@example.com", "Thanks!")


@checks("stats_by_connection_day.sql")
def test_stats_by_connection_day_matches_a_direct_count(hub: Conn) -> None:
    def assert_exact() -> None:
        (rows,) = run_example(hub, "stats_by_connection_day.sql")
        direct = hub.execute(BY_CONNECTION_DIRECT).fetchall()
        assert rows == direct

    traffic(hub)
    deltas = hub.execute("SELECT count(*) AS n FROM hub.stats_deltas").fetchone()
    assert deltas is not None and deltas["n"] > 0  # not folded yet: the view adds the deltas
    assert_exact()
    (rows,) = run_example(hub, "stats_by_connection_day.sql")
    assert rows is not None
    out = next(r for r in rows if r["direction"] == "out")
    assert (out["connection"], out["messages"], out["sent"], out["delivered"], out["failed"],
            out["pending"]) == ("demo", 9, 2, 1, 2, 5)
    assert out["segments"] == 3 + 1 + 7  # two sent with known segments, the rest count one each
    inbound = next(r for r in rows if r["direction"] == "in")
    assert (inbound["messages"], inbound["received"], inbound["sent"]) == (2, 2, 0)

    hub.execute("SELECT hub.stats_rollup_v1()")
    assert hub.execute("SELECT count(*) AS n FROM hub.stats_deltas").fetchone() == {"n": 0}
    assert_exact()

    # changes after a rollup: folded totals plus new deltas
    claimed = claim(hub, demo_id(hub))
    record(hub, [(r, "sent", f"later-{r['id']}", None, None) for r in claimed])
    run_example(hub, "send_one.sql")
    assert_exact()
    # a removed connection's messages count under no connection
    hub.execute("DELETE FROM hub.connections WHERE name = 'demo'")
    assert_exact()
    hub.execute("SELECT hub.stats_rollup_v1()")
    assert_exact()


def test_stats_day_is_the_utc_date_whatever_the_session_time_zone(hub: Conn) -> None:
    hub.execute("SET TimeZone = 'Asia/Tokyo'")
    # 23:30 UTC on 1 May is already 2 May in Tokyo
    hub.execute("""
        INSERT INTO hub.messages (channel, direction, connection_id, sender, recipients, body,
                                  status, created_at)
        VALUES ('sms', 'in', %s, '+447700900456', '{+447700900000}', 'YES', 'received',
                '2026-05-01 23:30:00+00')""", (demo_id(hub),))
    for _ in range(2):  # before and after folding
        rows = hub.execute("SELECT day::text, connection, received FROM hub.stats_by_connection_day"
                           ).fetchall()
        assert rows == [{"day": "2026-05-01", "connection": "demo", "received": 1}]
        hub.execute("SELECT hub.stats_rollup_v1()")


@checks("stats_by_user_day.sql")
def test_stats_by_user_day_matches_a_direct_count(hub: Conn) -> None:
    alice = hub.execute("INSERT INTO hub.users (username, display_name) VALUES ('alice', 'Alice')"
                        " RETURNING id").fetchone()
    assert alice is not None
    hub.execute("INSERT INTO hub.outbox (recipients, text, created_by)"
                " VALUES ('{+447700900123,+447700900456}', 'Stock count at 16:00.', %s)",
                (alice["id"],))
    traffic(hub)

    def assert_exact() -> None:
        (rows,) = run_example(hub, "stats_by_user_day.sql")
        assert rows == hub.execute(BY_USER_DIRECT).fetchall()

    assert_exact()
    (rows,) = run_example(hub, "stats_by_user_day.sql")
    assert rows is not None
    assert [(r["username"], r["channel"], r["direction"], r["messages"]) for r in rows] == [
        (None, "email", "in", 1), (None, "email", "out", 2), (None, "sms", "in", 1),
        (None, "sms", "out", 7), ("alice", "sms", "out", 2)]
    hub.execute("SELECT hub.stats_rollup_v1()")
    assert_exact()
    claimed = claim(hub, demo_id(hub))
    record(hub, [(r, "sent", f"later-{r['id']}", 2, None) for r in claimed])
    assert_exact()


# -- notifications ---------------------------------------------------------------------

@pytest.fixture
def listener(db_url: str) -> Iterator[Conn]:
    with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def received(conn: Conn, expected: int) -> list[tuple[str, str]]:
    """The expected number of notifications (waiting up to seconds), and any more
    that arrive within a short wait after them."""
    got: list[tuple[str, str]] = []
    if expected:
        got += [(n.channel, n.payload) for n in conn.notifies(timeout=10, stop_after=expected)]
    return got + [(n.channel, n.payload) for n in conn.notifies(timeout=0.3)]


@checks("listen.sql")
def test_listen_receives_one_wake_up_per_transaction(hub: Conn, listener: Conn) -> None:
    run_example(listener, "listen.sql")
    assert received(listener, 0) == []

    # two imports in one transaction: one notification
    with hub.transaction():
        run_example(hub, "import_data.sql")
        hub.execute("INSERT INTO hub.import (topic, payload) VALUES ('crm.note', '{}')")
    assert received(listener, 1) == [("msghub_events", "")]

    # queuing wakes no one while no worker waits ...
    run_example(hub, "send_one.sql")
    assert received(listener, 0) == []
    # ... and, once the demo worker waits, once per transaction with its id
    demo = str(demo_id(hub))
    hub.execute("SELECT hub.outbox_wait_v1(%s)", (demo_id(hub),))
    run_example(hub, "send_to_list.sql")  # two messages, one transaction
    assert received(listener, 1) == [("msghub_outbox", demo)]
    run_example(hub, "send_one.sql")
    run_example(hub, "send_idempotent.sql")
    assert received(listener, 2) == [("msghub_outbox", demo)] * 2
    # a worker that drains the queue with a partial batch keeps waiting ...
    assert len(claim(hub, demo_id(hub))) < 100
    run_example(hub, "send_one.sql")
    assert received(listener, 1) == [("msghub_outbox", demo)]
    # ... one that claims a full batch is busy and stops waiting: no more
    # wake-ups (the claim itself notifies no one either)
    hub.execute("SELECT * FROM hub.claim_outbound_v1(%s, 'test-node', 1)", (demo_id(hub),))
    run_example(hub, "send_one.sql")
    assert received(listener, 0) == []

    # a message arriving: the rules' events and the live pages
    receive(hub, "sms", "+447700900456", "YES")
    assert sorted(received(listener, 2)) == [("msghub_events", ""), ("msghub_messages", "")]

    hub.execute("UPDATE hub.connections SET enabled = false WHERE name = 'demo'")
    assert received(listener, 1) == [("msghub_connections", "")]


@checks("poll_results.sql")
def test_poll_results_count_every_option(hub: Conn) -> None:
    from msghub.rules.polls import Option, create_poll

    poll = create_poll(hub, "best-song", "Best song?", [Option("Aurora", ("a",)), Option("Borealis", ("b",)),
                                                         Option("Comet", ("c",))])
    (rows,) = run_example(hub, "poll_results.sql")
    assert rows == [{"label": label, "votes": 0, "percent": None} for label in ("Aurora", "Borealis", "Comet")]
    options = {r["label"]: r["id"] for r in hub.execute("SELECT id, label FROM hub.poll_options")}
    for sender, label in (("+447700900001", "Aurora"), ("+447700900002", "Aurora"), ("+447700900003", "Comet")):
        hub.execute("SELECT hub.poll_vote_v1(%s, %s, %s, NULL)", (poll, options[label], sender))
    (rows,) = run_example(hub, "poll_results.sql")
    assert [(r["label"], r["votes"], float(r["percent"])) for r in rows] == [
        ("Aurora", 2, 66.7), ("Borealis", 0, 0.0), ("Comet", 1, 33.3)]


# -- costs ------------------------------------------------------------------------------

COSTS_DIRECT = """
    SELECT coalesce(g.name, '(no group)') AS group_name, m.currency, c.name AS connection, m.channel,
           count(*) AS messages, sum(m.estimated_cost) AS estimated, coalesce(sum(m.cost), 0) AS cost
    FROM hub.messages m LEFT JOIN hub.groups g ON g.id = m.owner_group_id
    LEFT JOIN hub.connections c ON c.id = m.connection_id
    WHERE m.direction = 'out' AND m.currency IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"""


def priced_traffic(conn: Conn, sent: int | None = None) -> None:
    """demo's tariffs (0.05 EUR an SMS part, 0.07 to +4477), messages of two
    groups and none; the first `sent` of them sent (all: None)."""
    conn.execute("INSERT INTO hub.tariffs (connection_id, channel, prefix, price, currency) VALUES"
                 " (%(id)s, 'sms', '', 0.05, 'EUR'), (%(id)s, 'sms', '+4477', 0.07, 'EUR'),"
                 " (%(id)s, 'email', '', 0.001, 'EUR')", {"id": demo_id(conn)})
    conn.execute("INSERT INTO hub.groups (name) VALUES ('sales'), ('support')")
    for group, recipients in (("sales", ["+447700900123", "+33612345678"]), ("support", ["+4915112345"]),
                              (None, ["+447700900999"])):
        conn.execute("INSERT INTO hub.outbox (recipients, text, owner_group_id)"
                     " VALUES (%s, %s, (SELECT id FROM hub.groups WHERE name = %s))",
                     (recipients, "x" * 200, group))  # two parts each
    conn.execute("INSERT INTO hub.outbox (channel, recipient, text) VALUES ('email', 'a@example.com', 'hi')")
    claimed = claim(conn, demo_id(conn))[:sent]
    # SMS in two parts; an e-mail has no parts (the worker reports none)
    record(conn, [(r, "sent", f"ref-{r['id']}", None if "@" in r["recipients"][0] else 2, None) for r in claimed])


@checks("cost_invoice_by_group.sql")
def test_cost_invoice_by_group_matches_the_messages(hub: Conn) -> None:
    priced_traffic(hub, sent=3)
    (rows,) = run_example(hub, "cost_invoice_by_group.sql")
    assert rows == hub.execute(COSTS_DIRECT).fetchall()
    sales = next(r for r in rows if r["group_name"] == "sales")
    # +4477 at 0.07 and +33 at 0.05, two parts each
    assert (sales["messages"], sales["estimated"], sales["currency"]) == (2, Decimal("0.24"), "EUR")
    hub.execute("SELECT hub.cost_rollup_v1()")
    (after,) = run_example(hub, "cost_invoice_by_group.sql")
    assert after == rows


@checks("cost_top_destinations.sql")
def test_cost_top_destinations_orders_by_cost(hub: Conn) -> None:
    priced_traffic(hub)
    (rows,) = run_example(hub, "cost_top_destinations.sql")
    assert rows == [
        {"destination": "+4477", "currency": "EUR", "messages": 2, "cost": Decimal("0.28")},
        {"destination": "(default)", "currency": "EUR", "messages": 3, "cost": Decimal("0.201")},
    ]
