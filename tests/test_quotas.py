"""Quotas held by hub.outbox itself: per user and per group, in messages or
money, per period, optionally per connection; nothing half-queued; a soft
limit raising quota_warning; parallel senders never overshoot."""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest

from tests.costs_world import as_user, connection, queue, tariff, user


def _quota(db, name, unit="messages", amount="3", period="day", **holder) -> int:
    cols = ["name", "unit", "amount", "period", *holder]
    values = [name, unit, amount, period, *holder.values()]
    marks = ", ".join(["%s"] * len(values))
    return int(db.execute(f"INSERT INTO hub.quotas ({', '.join(cols)}) VALUES ({marks}) RETURNING id",
                          values).fetchone()["id"])


def _group_id(db, name):
    return db.execute("SELECT id FROM hub.groups WHERE name = %s", (name,)).fetchone()["id"]


def _count(db):
    return db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"]


def test_user_message_quota_refuses_the_one_too_many(db_url, db):
    connection(db, "op1", is_default=True)
    alice = user(db, "alice")
    _quota(db, "alice daily", amount="3", user_id=alice)
    with as_user(db_url, alice) as conn:
        for _ in range(3):
            queue(conn)
        with pytest.raises(psycopg.errors.InvalidParameterValue,
                           match=r"^hub\.outbox: quota 'alice daily' of 3 messages would be exceeded \(3 used\)"):
            queue(conn)
    assert _count(db) == 3
    assert db.execute("SELECT used FROM hub.quota_status").fetchone()["used"] == 3


def test_group_money_quota_error_text(db_url, db):
    op = connection(db, "op1", is_default=True)
    tariff(db, op, "249.10")
    bob = user(db, "bob", groups=("sales",))
    _quota(db, "sales monthly", unit="money", amount="500", currency="EUR", period="month",
           group_id=_group_id(db, "sales"))
    with as_user(db_url, bob) as conn:
        queue(conn)
        queue(conn)
        with pytest.raises(psycopg.errors.InvalidParameterValue) as refused:
            queue(conn)
    assert str(refused.value).splitlines()[0] == (
        "hub.outbox: quota 'sales monthly' of 500.00 EUR would be exceeded (498.20 used)")
    assert refused.value.diag.table_name == "outbox"


def test_a_multi_recipient_insert_is_all_or_nothing(db_url, db):
    connection(db, "op1", is_default=True)
    alice = user(db, "alice")
    _quota(db, "alice daily", amount="5", user_id=alice)
    three = ["+491701", "+491702", "+491703"]
    with as_user(db_url, alice) as conn:
        assert len(queue(conn, recipient=None, recipients=three)) == 3
        with pytest.raises(psycopg.errors.InvalidParameterValue, match=r"quota 'alice daily' of 5 messages"):
            queue(conn, recipient=None, recipients=three)
        assert len(queue(conn, recipient=None, recipients=three[:2])) == 2
    assert _count(db) == 5


def test_a_quota_per_connection_counts_only_that_connection(db_url, db):
    connection(db, "cheap")
    dear = connection(db, "dear")
    alice = user(db, "alice")
    _quota(db, "alice dear", amount="1", user_id=alice, connection_id=dear)
    with as_user(db_url, alice) as conn:
        queue(conn, connection="dear")
        for _ in range(3):
            queue(conn, connection="cheap")
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="quota 'alice dear'"):
            queue(conn, connection="dear")


def test_admins_exempt_or_not(db_url, db):
    connection(db, "op1", is_default=True)
    root = user(db, "root", role="admin")
    exempt = _quota(db, "root daily", amount="1", user_id=root)
    with as_user(db_url, root) as conn:
        queue(conn)
        queue(conn)  # exempt: the quota does not hold admins
        db.execute("UPDATE hub.quotas SET admins_exempt = false WHERE id = %s", (exempt,))
        queue(conn)  # the first message counted for this quota
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="quota 'root daily'"):
            queue(conn)


def test_soft_limit_raises_one_warning_per_period(db_url, db):
    connection(db, "op1", is_default=True)
    alice = user(db, "alice")
    quota_id = _quota(db, "alice daily", amount="10", user_id=alice, warn_percent=80)
    with as_user(db_url, alice) as conn:
        for _ in range(7):
            queue(conn)
        assert db.execute("SELECT count(*) AS n FROM hub.events WHERE type = 'quota_warning'").fetchone()["n"] == 0
        queue(conn)  # 8 of 10: 80 %
        queue(conn)
    events = db.execute("SELECT payload FROM hub.events WHERE type = 'quota_warning'").fetchall()
    assert len(events) == 1
    payload = events[0]["payload"]
    assert (payload["quota"], payload["quota_id"], payload["used"], payload["limit"]) == (
        "alice daily", quota_id, 8, 10)
    # the next period starts over
    db.execute("UPDATE hub.quota_usage SET period_start = period_start - 1")
    with as_user(db_url, alice) as conn:
        for _ in range(8):
            queue(conn)
    assert db.execute("SELECT count(*) AS n FROM hub.events WHERE type = 'quota_warning'").fetchone()["n"] == 2


def test_messages_without_a_price_cost_nothing_against_a_money_quota(db_url, db):
    connection(db, "op1", is_default=True)
    alice = user(db, "alice")
    _quota(db, "alice money", unit="money", amount="0.01", currency="EUR", user_id=alice)
    with as_user(db_url, alice) as conn:
        for _ in range(3):
            queue(conn)
    assert _count(db) == 3


@pytest.mark.parametrize(("columns", "error"), [
    ({"unit": "money"}, "quotas_money_has_currency"),
    ({"unit": "money", "currency": "EUX"}, "quotas_currency_known"),
    ({"amount": "-1"}, "quotas_amount_positive"),
    ({"period": "year"}, "quotas_period_known"),
])
def test_malformed_quotas_are_refused(db, columns, error):
    alice = user(db, "alice")
    fields = {"amount": "3", "user_id": alice, **columns}
    with pytest.raises(psycopg.errors.CheckViolation, match=error):
        _quota(db, "q", **fields)


def test_parallel_senders_never_overshoot(db_url, db):
    op = connection(db, "op1", is_default=True)
    tariff(db, op, "0.10")
    senders = [user(db, f"user{i}", groups=("sales",)) for i in range(8)]
    _quota(db, "sales daily", unit="money", amount="3.00", currency="EUR", group_id=_group_id(db, "sales"))
    _quota(db, "sales messages", amount="1000", group_id=_group_id(db, "sales"))
    refused: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(senders))

    def send(user_id: int) -> None:
        try:
            with as_user(db_url, user_id) as conn:
                start.wait()
                for i in range(10):
                    try:
                        # two recipients: 0.20 EUR an insert
                        queue(conn, f"text {i}", recipient=None, recipients=[f"+4917{user_id:04d}{i:03d}", "+491"])
                    except psycopg.errors.InvalidParameterValue as exc:
                        refused.append(str(exc))
        except BaseException as exc:  # reported below, not swallowed by the thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(u,)) for u in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and not any(t.is_alive() for t in threads)
    total = db.execute("SELECT count(*) AS n, sum(estimated_cost) AS cost FROM hub.messages").fetchone()
    usage = {r["name"]: r["used"] for r in db.execute("SELECT name, used FROM hub.quota_status")}
    assert total["cost"] == Decimal("3.00") and total["n"] == 30
    assert usage == {"sales daily": Decimal("3"), "sales messages": Decimal("30")}
    assert len(refused) == 80 - 15 and all("quota 'sales daily' of 3.00 EUR" in r for r in refused)


def _used(db, name):
    return db.execute("SELECT used FROM hub.quota_status WHERE name = %s", (name,)).fetchone()["used"]


def test_a_message_the_operator_never_took_gives_its_share_back(db_url, db):
    op = connection(db, "op1", is_default=True)
    tariff(db, op, "0.25")
    alice = user(db, "alice")
    _quota(db, "alice daily", amount="2", user_id=alice)
    _quota(db, "alice money", unit="money", amount="10", currency="EUR", user_id=alice)
    with as_user(db_url, alice) as conn:
        [cancelled] = queue(conn)
        [taken] = queue(conn)
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="quota 'alice daily'"):
            queue(conn)
        # cancelled in the queue (hub.cancel_v1: failed, no operator reference): its share comes back
        assert conn.execute("SELECT hub.cancel_v1(%s) AS ok", (cancelled["id"],)).fetchone()["ok"] is True
        assert _used(db, "alice daily") == 1 and _used(db, "alice money") == Decimal("0.25")
        queue(conn)  # fits again
    # failed after the operator took it: billed, so nothing comes back
    db.execute("UPDATE hub.messages SET status = 'failed', operator_ref = 'ref-1' WHERE id = %s", (taken["id"],))
    assert _used(db, "alice daily") == 2 and _used(db, "alice money") == Decimal("0.50")
    # given back once only, even if the row changes again
    db.execute("UPDATE hub.messages SET status = 'queued' WHERE id = %s", (cancelled["id"],))
    db.execute("UPDATE hub.messages SET status = 'failed' WHERE id = %s", (cancelled["id"],))
    assert _used(db, "alice daily") == 2
    assert db.execute("SELECT count(*) AS n FROM hub.quota_charges WHERE message_id = %s",
                      (cancelled["id"],)).fetchone()["n"] == 0
