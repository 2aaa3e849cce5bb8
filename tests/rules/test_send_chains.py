"""A rule that sends on the events of messages rules sent (message_sent,
delivery_report, ...) can answer itself for ever, like an HTTP request made
on every answer. A chain of rule-sent messages is limited
(rule_send_chain_depth); the send past it is withheld and logged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.rules.runner_support import Runner, add_rule, connection, runner_for


@pytest.fixture
def runner(db_url: str) -> Iterator[Runner]:
    yield from runner_for(db_url)


def _sent_events_for_new_messages(db: Any, seen: set[int]) -> int:
    """Marks every message not seen yet as sent, with its message_sent event
    (what a connector's report would do)."""
    rows = [r["id"] for r in db.execute("SELECT id FROM hub.messages WHERE direction = 'out' ORDER BY id")
            if r["id"] not in seen]
    for message_id in rows:
        seen.add(message_id)
        db.execute("INSERT INTO hub.events (type, message_id) VALUES ('message_sent', %s)", (message_id,))
    return len(rows)


def test_a_rule_sending_on_its_own_sent_messages_stops_at_the_chain_limit(db: Any, runner: Runner) -> None:
    db.execute("UPDATE hub.settings SET value = '3' WHERE key = 'rule_send_chain_depth'")
    connection(db)
    add_rule(db, "copy", "send({to: '+447700900002', text: 'copy of ' + message.text});", events="{message_sent}")
    db.execute("INSERT INTO hub.outbox (recipient, text) VALUES ('+447700900001', 'hello')")
    seen: set[int] = set()
    for _ in range(10):  # bounded: a chain the limit does not stop fails below
        if _sent_events_for_new_messages(db, seen) == 0:
            break
        runner.drain()
    made = db.execute("SELECT count(*) AS n FROM hub.messages WHERE correlation_id LIKE 'rule:copy:%'").fetchone()
    assert made == {"n": 3}
    warned = [r["message"] for r in db.execute("SELECT message FROM hub.rule_log WHERE level = 'warn'")]
    assert len(warned) == 1 and "rule_send_chain_depth" in warned[0]


def test_sends_for_people_s_messages_are_not_limited(db: Any, runner: Runner) -> None:
    db.execute("UPDATE hub.settings SET value = '1' WHERE key = 'rule_send_chain_depth'")
    connection(db)
    add_rule(db, "notify", "send({to: '+447700900002', text: 'sent: ' + message.text});", events="{message_sent}")
    for n in range(3):
        db.execute("INSERT INTO hub.outbox (recipient, text) VALUES ('+447700900001', %s)", (f"m{n}",))
    _sent_events_for_new_messages(db, set())
    runner.drain()
    made = db.execute("SELECT count(*) AS n FROM hub.messages WHERE correlation_id LIKE 'rule:notify:%'").fetchone()
    assert made == {"n": 3}
