"""Tariffs, the cost of each message (estimated when queued, fixed when
sent), and least-cost routing, in SQL (docs/COSTS.md)."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from tests.costs_world import as_user, connection, queue, tariff, user

GSM_160 = "a" * 160
UMLAUT_TEXT = "Grüße aus Köln: ŝ" + "x" * 60  # UCS-2: 77 units, 2 parts; transliterated 1 part


def _record(db, rows, outcome, segments=None, ref="ref-1"):
    db.execute(
        "SELECT hub.record_results_v1(%s, %s, %s, %s, %s, %s, %s, '{}', '{}', '{}', '{}')",
        ([r["id"] for r in rows], [r["attempts"] for r in rows], [outcome] * len(rows), [ref] * len(rows),
         [segments] * len(rows), [None] * len(rows), ["boom"] * len(rows)))


def _claim(db, conn_id):
    return db.execute("SELECT * FROM hub.claim_outbound_v1(%s, 'node-a', 10)", (conn_id,)).fetchall()


def test_longest_prefix_wins_with_a_default(db):
    op = connection(db, "op1")
    tariff(db, op, "0.080")
    tariff(db, op, "0.050", prefix="+49")
    tariff(db, op, "0.030", prefix="+4917")
    assert queue(db, connection="op1", recipient="+4917012345")[0]["unit_price"] == Decimal("0.03")
    assert queue(db, connection="op1", recipient="+4930123456")[0]["unit_price"] == Decimal("0.05")
    other = queue(db, connection="op1", recipient="+33612345678")[0]
    assert (other["unit_price"], other["currency"], other["tariff_prefix"]) == (Decimal("0.08"), "EUR", "")


def test_estimate_counts_the_parts_after_splitting_and_transliteration(db):
    op = connection(db, "op1")
    tariff(db, op, "0.09")
    assert queue(db, GSM_160, connection="op1")[0]["estimated_cost"] == Decimal("0.09")
    assert queue(db, GSM_160 + "b", connection="op1")[0]["estimated_cost"] == Decimal("0.18")
    assert queue(db, UMLAUT_TEXT, connection="op1")[0]["estimated_cost"] == Decimal("0.18")
    assert queue(db, UMLAUT_TEXT, connection="op1", transliterate=True)[0]["estimated_cost"] == Decimal("0.09")


def test_no_tariff_no_cost(db):
    connection(db, "op1")
    msg = queue(db, connection="op1")[0]
    assert msg["estimated_cost"] is None and msg["unit_price"] is None and msg["cost"] is None


def test_mms_by_size_class_and_email_per_message(db):
    op = connection(db, "op1")
    tariff(db, op, "0.20", channel="mms", max_bytes=30000)
    tariff(db, op, "0.35", channel="mms", max_bytes=100000)
    tariff(db, op, "0.50", channel="mms")
    tariff(db, op, "0.001", channel="email")
    small = queue(db, "hi", channel="mms", connection="op1")[0]
    # 60,000 bytes of attachment: over the first class, within the second
    big = queue(db, "hi", channel="mms", connection="op1",
                attachments=psycopg.types.json.Jsonb([{"content_type": "image/png", "data": "A" * 80000}]))[0]
    mail = queue(db, "hi", channel="email", connection="op1", recipient="a@example.com")[0]
    assert (small["estimated_cost"], big["estimated_cost"]) == (Decimal("0.2"), Decimal("0.35"))
    assert mail["estimated_cost"] == Decimal("0.001")


def test_cost_is_fixed_at_send_by_the_parts_submitted(db):
    op = connection(db, "op1")
    tariff(db, op, "0.10")
    msg = queue(db, GSM_160 + "b", connection="op1")[0]
    assert msg["cost"] is None and msg["estimated_cost"] == Decimal("0.2")
    _record(db, _claim(db, op), "sent", segments=3)
    row = db.execute("SELECT * FROM hub.message_status WHERE message_id = %s", (msg["id"],)).fetchone()
    assert (row["estimated_cost"], row["cost"], row["currency"]) == (Decimal("0.2"), Decimal("0.3"), "EUR")


def test_retries_cost_only_where_the_operator_bills_them(db):
    billed = connection(db, "billed", bill_retries=True)
    free = connection(db, "free")
    for conn_id in (billed, free):
        tariff(db, conn_id, "0.10")
    billed_msg = queue(db, connection="billed")[0]
    free_msg = queue(db, connection="free")[0]
    for conn_id in (billed, free):
        _record(db, _claim(db, conn_id), "retry")
        db.execute("UPDATE hub.messages SET next_attempt_at = now() WHERE connection_id = %s", (conn_id,))
        _record(db, _claim(db, conn_id), "sent", segments=1)
    costs = {r["message_id"]: r["cost"] for r in db.execute("SELECT message_id, cost FROM hub.message_status")}
    assert costs == {billed_msg["id"]: Decimal("0.2"), free_msg["id"]: Decimal("0.1")}


def test_failed_before_the_operator_took_it_costs_nothing(db):
    op = connection(db, "op1")
    tariff(db, op, "0.10")
    msg = queue(db, connection="op1")[0]
    _record(db, _claim(db, op), "failed", ref=None)
    assert db.execute("SELECT cost FROM hub.messages WHERE id = %s", (msg["id"],)).fetchone()["cost"] is None


def test_inbound_costs_by_the_in_tariff(db):
    op = connection(db, "op1")
    tariff(db, op, "0.25", prefix="+4988", direction="in")
    paid = db.execute("SELECT hub.receive_message_v1(%s, 'sms', '+4917000', '{+4988123}', NULL, 'vote') AS id",
                      (op,)).fetchone()["id"]
    free = db.execute("SELECT hub.receive_message_v1(%s, 'sms', '+4917000', '{+4930123}', NULL, 'hi') AS id",
                      (op,)).fetchone()["id"]
    costs = dict(db.execute("SELECT id, cost FROM hub.messages WHERE id IN (%s, %s)", (paid, free)).fetchall()
                 and [(r["id"], r["cost"]) for r in db.execute("SELECT id, cost FROM hub.messages")])
    assert costs == {paid: Decimal("0.25"), free: None}


@pytest.mark.parametrize(("columns", "error"), [
    ({"price": "-0.01"}, r"hub\.tariffs\.price: -0\.01 is not a price: give 0 or more"),
    ({"currency": "EUX"}, r"hub\.tariffs\.currency: unknown currency 'EUX': give an ISO 4217 code"),
    ({"prefix": "49x"}, r"tariffs_prefix_format"),
    ({"channel": "sms", "max_bytes": 1000}, r"hub\.tariffs\.max_bytes: size classes are for mms, not sms"),
])
def test_malformed_tariffs_are_refused_precisely(db, columns, error):
    op = connection(db, "op1")
    fields = {"price": "0.05", **columns}
    with pytest.raises((psycopg.errors.InvalidParameterValue, psycopg.errors.CheckViolation), match=error):
        tariff(db, op, **fields)


def test_one_currency_per_connection(db):
    op = connection(db, "op1")
    tariff(db, op, "0.05", currency="EUR")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=r"connection op1 bills in EUR, not USD"):
        tariff(db, op, "0.05", prefix="+1", currency="USD")


def test_a_later_price_closes_the_open_one_and_history_stays(db):
    op = connection(db, "op1")
    old = tariff(db, op, "0.05", valid_from="2020-01-01T00:00Z")
    tariff(db, op, "0.04", valid_from="2999-01-01T00:00Z")
    rows = db.execute("SELECT id, price, valid_until FROM hub.tariffs ORDER BY valid_from").fetchall()
    assert rows[0]["id"] == old and rows[0]["valid_until"].year == 2999 and rows[1]["valid_until"] is None
    # today the old price still holds
    assert queue(db, connection="op1")[0]["unit_price"] == Decimal("0.05")


def test_overlapping_validity_is_refused(db):
    op = connection(db, "op1")
    tariff(db, op, "0.05", valid_from="2030-01-01T00:00Z", valid_until="2030-06-01T00:00Z")
    with pytest.raises(psycopg.errors.InvalidParameterValue,
                       match=r"hub\.tariffs\.valid_from: sms out 0\.07 prefix '' on op1 .* overlaps tariff \d+"):
        tariff(db, op, "0.07", valid_from="2030-03-01T00:00Z", valid_until="2030-09-01T00:00Z")
    # the same period for another prefix is fine
    tariff(db, op, "0.07", prefix="+49", valid_from="2030-03-01T00:00Z", valid_until="2030-09-01T00:00Z")


def _lcr(db, on=True):
    db.execute("UPDATE hub.settings SET value = %s WHERE key = 'least_cost_routing'", ("1" if on else "0",))


def test_least_cost_routing_picks_the_cheapest_and_says_why(db):
    op1, op2 = connection(db, "op1", is_default=True), connection(db, "op2")
    tariff(db, op1, "0.060")
    tariff(db, op2, "0.045")
    assert queue(db)[0]["connection"] == "op1"  # policy off: the default connection
    _lcr(db)
    msg = queue(db)[0]
    assert msg["connection"] == "op2" and msg["route_reason"] == "routed to op2: 0.045 < 0.060 EUR"
    assert msg["estimated_cost"] == Decimal("0.045")


def test_least_cost_counts_the_whole_message_not_the_part_price(db):
    # op2 is cheaper per part but the text takes two parts there as well; a
    # flat-priced connection is not modelled, so this checks the multiplication
    op1, op2 = connection(db, "op1"), connection(db, "op2")
    tariff(db, op1, "0.060")
    tariff(db, op2, "0.045")
    _lcr(db)
    msg = queue(db, GSM_160 + "b")[0]
    assert msg["route_reason"] == "routed to op2: 0.090 < 0.120 EUR"


def test_least_cost_fails_over_when_the_cheapest_is_down(db):
    op1, op2 = connection(db, "op1"), connection(db, "op2")
    tariff(db, op1, "0.060")
    tariff(db, op2, "0.045")
    db.execute("UPDATE hub.connections SET state = 'up'")
    db.execute("UPDATE hub.connections SET state = 'down' WHERE id = %s", (op2,))
    _lcr(db)
    msg = queue(db)[0]
    assert msg["connection"] == "op1" and msg["route_reason"] == "routed to op1: 0.060 EUR; op2 is down"


def test_least_cost_ties_go_to_the_connection_with_fewer_queued(db):
    op1, op2 = connection(db, "op1"), connection(db, "op2")
    tariff(db, op1, "0.05")
    tariff(db, op2, "0.05")
    queue(db, connection="op1")
    _lcr(db)
    msg = queue(db)[0]
    assert msg["connection"] == "op2"
    assert msg["route_reason"] == "routed to op2: 0.050 EUR, as op1, with fewer queued (0 < 1)"


def test_least_cost_per_prefix_route_and_only_granted_connections(db_url, db):
    op1, op2, op3 = connection(db, "op1"), connection(db, "op2"), connection(db, "op3")
    for conn_id, price in ((op1, "0.06"), (op2, "0.05"), (op3, "0.01")):
        tariff(db, conn_id, price)
    # +49 goes through op1 or op2, the cheaper; op3 is cheapest but not routed for +49
    db.execute("INSERT INTO hub.routes (channel, prefix, connection_id, least_cost) VALUES "
               "('sms', '+49', %s, true), ('sms', '+49', %s, true), ('sms', '+33', %s, false)", (op1, op2, op3))
    assert queue(db, recipient="+4930111")[0]["connection"] == "op2"
    assert queue(db, recipient="+3361111")[0]["route_reason"] is None  # that route is not least-cost
    # a user granted op1 only gets op1
    alice = user(db, "alice")
    db.execute("INSERT INTO hub.connection_grants (connection_id, user_id) VALUES (%s, %s)", (op1, alice))
    db.execute("INSERT INTO hub.connection_grants (connection_id, user_id) VALUES (%s, %s)", (op2, user(db, "bob")))
    with as_user(db_url, alice) as conn:
        msg = queue(conn, recipient="+4930111")[0]
    assert msg["connection"] == "op1" and msg["route_reason"] == "routed to op1: 0.060 EUR, the only candidate"


def test_estimate_before_sending(db):
    op = connection(db, "op1", is_default=True)
    tariff(db, op, "0.09")
    row = db.execute("SELECT * FROM hub.estimate_cost_v1('sms', '+49 170 1234', %s, NULL, 0)",
                     (UMLAUT_TEXT * 2,)).fetchone()
    assert (row["connection"], row["parts"], row["parts_transliterated"]) == ("op1", 3, 1)
    assert (row["cost"], row["cost_transliterated"], row["currency"]) == (Decimal("0.27"), Decimal("0.09"), "EUR")
