"""Limits on a rule's HTTP requests: per event, per minute, and along a
chain of requests made on answers (http_response). A refused request is
withheld, the rule's other actions still apply, and hub.rule_log says so,
as for automatic answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from tests.rules.runner_support import Runner, add_rule, connection, receive, runner_for

FAN_OUT = "for (var i = 0; i < 8; i++) { http.request({url: 'https://example.org/' + i}); }"


@pytest.fixture
def runner(db_url: str) -> Iterator[Runner]:
    yield from runner_for(db_url)


def _requests(db: Any) -> list[str]:
    return [r["url"] for r in db.execute("SELECT url FROM hub.http_requests ORDER BY id")]


def _warnings(db: Any) -> list[str]:
    return [r["message"] for r in db.execute("SELECT message FROM hub.rule_log WHERE level = 'warn' ORDER BY id")]


def _answer_all(db: Any) -> int:
    """Answers every pending request as the dispatcher would: the request
    done, an http_response event for the rule that asked."""
    rows = db.execute(
        "UPDATE hub.http_requests SET status = 'done', done_at = now(), response = '{\"status\": 200}'"
        " WHERE status = 'pending' RETURNING id, rule_id, message_id, method, url, context").fetchall()
    for row in rows:
        db.execute("INSERT INTO hub.events (type, message_id, payload) VALUES ('http_response', %s, %s)",
                   (row["message_id"], Jsonb({"request_id": row["id"], "rule_id": row["rule_id"],
                                              "method": row["method"], "url": row["url"], "context": None,
                                              "response": {"status": 200}})))
    return len(rows)


def test_requests_per_event_are_limited_and_the_rest_still_applies(db: Any, runner: Runner) -> None:
    db.execute("UPDATE hub.settings SET value = '5' WHERE key = 'rule_http_per_event'")
    add_rule(db, "fan-out", FAN_OUT + " state.set('ran', true);")
    receive(db, connection(db), "+447700900001", "go")
    runner.drain()
    assert _requests(db) == [f"https://example.org/{i}" for i in range(5)]
    assert db.execute("SELECT value FROM hub.rule_state WHERE key = 'ran'").fetchone() == {"value": True}
    warned = _warnings(db)
    assert len(warned) == 1 and "rule_http_per_event" in warned[0], "one warning per run, not one per request"
    assert db.execute("SELECT error FROM hub.events WHERE type = 'message_received'").fetchone() == {"error": None}


def test_requests_per_minute_are_limited_per_rule(db: Any, runner: Runner) -> None:
    db.execute("UPDATE hub.settings SET value = '3' WHERE key = 'rule_http_per_minute'")
    add_rule(db, "one-each", "http.request({url: 'https://example.org/' + message.text, timeout: 2.5});")
    add_rule(db, "other", "http.request({url: 'https://example.net/' + message.text});", position=1)
    gsm = connection(db)
    for n in range(5):
        receive(db, gsm, "+447700900001", str(n))
    runner.drain()
    urls = _requests(db)
    assert [u for u in urls if "example.org" in u] == [f"https://example.org/{n}" for n in range(3)]
    assert [u for u in urls if "example.net" in u] == [f"https://example.net/{n}" for n in range(3)], \
        "each rule has its own count"
    assert len(_warnings(db)) == 4 and all("rule_http_per_minute" in w for w in _warnings(db))


def test_a_chain_of_requests_on_answers_is_limited(db: Any, runner: Runner) -> None:
    db.execute("UPDATE hub.settings SET value = '3' WHERE key = 'rule_http_chain_depth'")
    # asks again on every answer, for ever if nothing stops it
    add_rule(db, "loop", "http.request({url: 'https://example.org/' + event.type});",
             events="{message_received,http_response}")
    receive(db, connection(db), "+447700900001", "go")
    for _ in range(10):  # bounded: a loop that the limit does not stop fails below
        runner.drain()
        if _answer_all(db) == 0:
            break
    assert len(_requests(db)) == 4, "the first request and three made on answers"
    warned = _warnings(db)
    assert len(warned) == 1 and "rule_http_chain_depth" in warned[0]
