"""The rule runner end to end: events in, rules run, actions committed with
the event's done mark, failures logged without stopping other rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.rules.runner_support import Runner, add_rule, connection, receive, runner_for


@pytest.fixture
def runner(db_url: str) -> Iterator[Runner]:
    yield from runner_for(db_url)


def _outbox(db):
    return db.execute("SELECT recipients, body, channel, connection_id, subject FROM hub.messages"
                      " WHERE direction = 'out' ORDER BY id").fetchall()


def test_reply_goes_back_on_the_same_link_and_event_is_done(db, runner):
    gsm = connection(db)
    add_rule(db, "echo", "reply('You said: ' + message.text)")
    receive(db, gsm, "+447700900001", "hello")
    assert runner.drain() == 1
    out = _outbox(db)
    assert [(o["recipients"], o["body"], o["connection_id"]) for o in out] == [
        (["+447700900001"], "You said: hello", gsm)]
    pending = db.execute("SELECT count(*) AS n FROM hub.events WHERE done_at IS NULL").fetchone()["n"]
    assert pending == 0


def test_a_failing_rule_is_logged_and_the_next_rule_still_runs(db, runner):
    gsm = connection(db)
    add_rule(db, "broken", "reply('partial'); undefinedFunction();", position=1)
    add_rule(db, "works", "move('Seen')", position=2)
    mid = receive(db, gsm, "+447700900001", "hi")
    runner.drain()
    assert _outbox(db) == []  # the broken rule's reply was rolled back with it
    folder = db.execute("SELECT f.name FROM hub.messages m JOIN hub.folders f ON f.id = m.folder_id"
                        " WHERE m.id = %s", (mid,)).fetchone()
    assert folder["name"] == "Seen"
    log = db.execute("SELECT r.name, l.level, l.message, l.event_id FROM hub.rule_log l"
                     " JOIN hub.rules r ON r.id = l.rule_id").fetchall()
    assert len(log) == 1 and log[0]["name"] == "broken" and log[0]["level"] == "error"
    assert "undefinedFunction" in log[0]["message"] and log[0]["event_id"] is not None
    event = db.execute("SELECT error, done_at FROM hub.events").fetchone()
    assert event["done_at"] is not None and event["error"].startswith("broken: ")


def test_an_action_the_database_refuses_is_that_rules_error(db, runner):
    gsm = connection(db)
    add_rule(db, "bad-send", "send({to: 'not a number', text: 'x'})")
    receive(db, gsm, "+447700900001", "hi")
    runner.drain()
    message = db.execute("SELECT message FROM hub.rule_log").fetchone()["message"]
    assert "hub.outbox.recipient" in message and "not a number" in message


def test_stop_processing_and_disabled_rules(db, runner):
    gsm = connection(db)
    add_rule(db, "first", "reply('one'); stop()", position=1)
    add_rule(db, "second", "reply('two')", position=2)
    add_rule(db, "off", "reply('off')", position=0, enabled=False)
    receive(db, gsm, "+447700900001", "hi")
    runner.drain()
    assert [o["body"] for o in _outbox(db)] == ["one"]


def test_rules_only_run_for_their_event_types(db, runner):
    add_rule(db, "imports", "send({to: event.payload.row.phone, text: 'order ' + event.payload.row.order})",
             events="{data_imported}")
    add_rule(db, "messages", "log.info('should not run')")
    db.execute("INSERT INTO hub.import (topic, payload) VALUES ('orders', %s)",
               ('{"phone": "+447700900009", "order": 7}',))
    connection(db)
    runner.drain()
    assert [(o["recipients"], o["body"]) for o in _outbox(db)] == [(["+447700900009"], "order 7")]
    assert db.execute("SELECT count(*) AS n FROM hub.rule_log").fetchone()["n"] == 0


def test_state_counts_across_events_and_lookups_are_answered(db, runner):
    gsm = connection(db)
    add_rule(db, "counter", """
        const n = state.incr('seen');
        const first = state.add('senders', message.sender);
        const known = contacts.find({phone: message.sender});
        reply('#' + n + (first ? ' new' : ' again') + (known.length ? ' ' + known[0].name : ''));
    """)
    db.execute("INSERT INTO hub.contacts (name, phone) VALUES ('Ann', '+447700900001')")
    receive(db, gsm, "+447700900001", "a")
    receive(db, gsm, "+447700900002", "b")
    receive(db, gsm, "+447700900001", "c")
    runner.drain()
    assert [o["body"] for o in _outbox(db)] == ["#1 new Ann", "#2 new", "#3 again Ann"]
    state = {r["key"]: r["value"] for r in db.execute("SELECT key, value FROM hub.rule_state")}
    assert state == {"seen": 3, "senders": ["+447700900001", "+447700900002"]}


def test_contacts_and_lists_and_assignment(db, runner):
    gsm = connection(db)
    db.execute("INSERT INTO hub.groups (name) VALUES ('support')")
    add_rule(db, "signup", """
        if (keywords.startsWith(message.text, 'join')) {
          contacts.create({name: message.text.slice(5), phone: message.sender, lists: ['newsletter']});
          assign({group: 'support'});
        }
    """)
    mid = receive(db, gsm, "+447700900001", "JOIN Bob")
    receive(db, gsm, "+447700900002", "hello")
    runner.drain()
    members = db.execute("SELECT c.name, c.phone FROM hub.list_members lm JOIN hub.contacts c ON c.id = lm.contact_id"
                         " JOIN hub.lists l ON l.id = lm.list_id WHERE l.name = 'newsletter'").fetchall()
    assert [(m["name"], m["phone"]) for m in members] == [("Bob", "+447700900001")]
    owner = db.execute("SELECT g.name FROM hub.messages m JOIN hub.groups g ON g.id = m.owner_group_id"
                       " WHERE m.id = %s", (mid,)).fetchone()
    assert owner["name"] == "support"


def test_http_answer_reaches_the_asking_rule_which_replies(db, runner):
    """The call happens after the commit (by the dispatcher, against a real
    local server); its answer is an event for the rule that asked, carrying
    the asking message, so the rule can reply() with web content."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from msghub.rules.http_dispatch import HttpDispatcher

    class Price(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = json.dumps({"item": self.path.rsplit("=", 1)[-1], "price": 3.5}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Price)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        gsm = connection(db)
        add_rule(db, "price", f"""
            if (event.type === 'message_received') {{
              http.request({{url: 'http://127.0.0.1:{httpd.server_address[1]}/price?item=' + message.text,
                            context: {{asked: message.text}}}});
            }} else if (event.type === 'http_response') {{
              const r = event.payload.response;
              reply(r.json.item + ' costs ' + r.json.price + ' (asked: ' + event.payload.context.asked + ')');
            }}""")
        add_rule(db, "bystander", "log.info('saw ' + event.type)", events="{message_received,http_response}")
        receive(db, gsm, "+447700900001", "tea")
        runner.drain()
        assert _outbox(db) == []  # nothing before the call was made
        dispatcher = HttpDispatcher(runner.pool, "test-node", allow_private=True)
        assert runner.loop.run_until_complete(dispatcher.process_once()) == 1
        runner.loop.run_until_complete(dispatcher.aclose())
        runner.drain()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert [(o["recipients"], o["body"], o["connection_id"]) for o in _outbox(db)] == [
        (["+447700900001"], "tea costs 3.5 (asked: tea)", gsm)]
    logged = [r["message"] for r in db.execute("SELECT message FROM hub.rule_log ORDER BY id")]
    assert logged == ["saw message_received"], "an answer goes only to the rule that asked"


def test_each_event_is_processed_once_with_two_runners(db, db_url):
    gsm = connection(db)
    add_rule(db, "count", "state.incr('n')")
    for i in range(60):
        receive(db, gsm, f"+4477009{i:05d}", "x")
    a, b = Runner(db_url), Runner(db_url)
    try:
        import threading

        counts = []
        threads = [threading.Thread(target=lambda r=r: counts.append(r.drain())) for r in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        a.close()
        b.close()
    assert sum(counts) == 60
    assert db.execute("SELECT value FROM hub.rule_state WHERE key = 'n'").fetchone()["value"] == 60


def test_automatic_answers_to_one_address_are_limited_per_hour(db, runner):
    # two auto-responders answering each other must not go on for ever
    db.execute("UPDATE hub.settings SET value = '2' WHERE key = 'auto_reply_limit_per_hour'")
    gsm = connection(db)
    add_rule(db, "echo", "reply('auto: ' + message.text)")
    for text in ("one", "two", "three"):
        receive(db, gsm, "+447700900001", text)
    receive(db, gsm, "+447700900002", "other")
    runner.drain()
    assert [(o["recipients"][0], o["body"]) for o in _outbox(db)] == [
        ("+447700900001", "auto: one"), ("+447700900001", "auto: two"), ("+447700900002", "auto: other")]
    warned = [r["message"] for r in db.execute("SELECT message FROM hub.rule_log WHERE level = 'warn'")]
    assert len(warned) == 1 and "+447700900001 withheld" in warned[0]
    # send() is the rule's own decision, not an automatic answer: not limited
    add_rule(db, "notify", "send({to: '+447700900001', text: 'n'})", position=5)
    receive(db, gsm, "+447700900009", "go")
    runner.drain()
    assert ("+447700900001", "n") in [(o["recipients"][0], o["body"]) for o in _outbox(db)]


def test_an_email_reply_answers_the_subject_once_on_the_same_link(db, runner):
    gsm = connection(db)
    add_rule(db, "ack", "reply('Thanks, we have it.')")
    receive(db, gsm, "ann@example.org", "my order", channel="email", subject="Order 7")
    receive(db, gsm, "bob@example.org", "again", channel="email", subject="RE: Order 8")
    runner.drain()
    assert [(o["recipients"][0], o["subject"], o["channel"], o["connection_id"]) for o in _outbox(db)] == [
        ("ann@example.org", "Re: Order 7", "email", gsm), ("bob@example.org", "RE: Order 8", "email", gsm)]


def test_the_event_types_rules_know_are_the_ones_the_database_allows(db):
    from msghub.rules.events import EVENT_TYPES

    check = db.execute("SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint"
                       " WHERE conname = 'events_type_known'").fetchone()["def"]
    assert set(re.findall(r"'(\w+)'::text", check)) == set(EVENT_TYPES)
