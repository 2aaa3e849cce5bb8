"""hub.stats_costs: cost by connection, user, group, channel, prefix and
day, exact at every moment (deltas folded by hub.cost_rollup_v1), and only
what the viewer sees."""

from __future__ import annotations

from decimal import Decimal

from tests.costs_world import as_user, connection, queue, tariff, user

VIEW = """SELECT day, connection, username, group_name, channel, direction, prefix, currency,
                 messages, estimated, cost
          FROM hub.stats_costs ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"""

DIRECT = """
    SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, c.name AS connection, u.username, g.name AS group_name,
           m.channel, m.direction, coalesce(m.tariff_prefix, '') AS prefix, m.currency,
           count(*) AS messages, coalesce(sum(m.estimated_cost), 0) AS estimated, coalesce(sum(m.cost), 0) AS cost
    FROM hub.messages m LEFT JOIN hub.connections c ON c.id = m.connection_id
    LEFT JOIN hub.users u ON u.id = m.owner_user_id LEFT JOIN hub.groups g ON g.id = m.owner_group_id
    WHERE m.currency IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"""


def _send_all(db, conn_id, segments=2):
    rows = db.execute("SELECT * FROM hub.claim_outbound_v1(%s, 'node-a', 100)", (conn_id,)).fetchall()
    db.execute("SELECT hub.record_results_v1(%s, %s, %s, %s, %s, %s, %s, '{}', '{}', '{}', '{}')",
               ([r["id"] for r in rows], [r["attempts"] for r in rows], ["sent"] * len(rows),
                ["ref"] * len(rows), [segments] * len(rows), [None] * len(rows), [None] * len(rows)))


def test_cost_statistics_are_exact_at_every_moment(db_url, db):
    op1, op2 = connection(db, "op1"), connection(db, "op2")
    tariff(db, op1, "0.05")
    tariff(db, op1, "0.07", prefix="+44")
    tariff(db, op2, "0.10", currency="USD")
    alice = user(db, "alice", groups=("sales",))

    def assert_exact():
        assert db.execute(VIEW).fetchall() == db.execute(DIRECT).fetchall()

    with as_user(db_url, alice) as conn:
        queue(conn, "x" * 200, connection="op1", recipient=None, recipients=["+4477001", "+4917001"],
              owner_group_id=db.execute("SELECT id FROM hub.groups").fetchone()["id"])
    queue(db, connection="op2")
    assert_exact()
    assert db.execute("SELECT count(*) AS n FROM hub.cost_deltas").fetchone()["n"] > 0
    db.execute("SELECT hub.cost_rollup_v1()")
    assert db.execute("SELECT count(*) AS n FROM hub.cost_deltas").fetchone()["n"] == 0
    assert_exact()
    _send_all(db, op1)
    assert_exact()
    rows = {(r["prefix"], r["currency"]): r for r in db.execute(VIEW).fetchall()}
    assert rows[("+44", "EUR")]["cost"] == Decimal("0.14") and rows[("", "EUR")]["cost"] == Decimal("0.10")
    assert rows[("+44", "EUR")]["group_name"] == "sales" and rows[("+44", "EUR")]["username"] == "alice"
    assert rows[("", "USD")]["cost"] == 0 and rows[("", "USD")]["estimated"] == Decimal("0.1")
    db.execute("SELECT hub.cost_rollup_v1()")
    assert_exact()
    # a deleted message leaves the statistics
    db.execute("DELETE FROM hub.messages WHERE connection_id = %s", (op2,))
    assert_exact()
    db.execute("SELECT hub.cost_rollup_v1()")
    assert_exact()
    assert db.execute("SELECT count(*) AS n FROM hub.cost_daily WHERE currency = 'USD'").fetchone()["n"] == 0


def test_a_user_sees_only_the_cost_of_their_messages(db_url, db):
    op = connection(db, "op1", is_default=True)
    tariff(db, op, "0.05")
    alice, bob = user(db, "alice"), user(db, "bob")
    with as_user(db_url, alice) as conn:
        queue(conn)
    with as_user(db_url, bob) as conn:
        queue(conn)
        queue(conn)
        mine = conn.execute("SELECT username, messages, estimated FROM hub.stats_costs").fetchall()
    assert mine == [{"username": "bob", "messages": 2, "estimated": Decimal("0.1")}]
