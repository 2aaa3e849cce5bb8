"""The rules role of a real hub process: a vote received on a link is
counted and answered, and the answer is sent back out on that link."""

from __future__ import annotations

from tests.hubproc import start_hub, stop_hub, wait_for


def test_a_hub_counts_votes_and_sends_the_replies(db, db_url):
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES"
               " ('gsm', 'loopback', '{sms}', '{\"echo\": false, \"delay_ms\": 10}')")
    gsm = db.execute("SELECT id FROM hub.connections WHERE name = 'gsm'").fetchone()["id"]
    from msghub.rules.polls import Option, create_poll

    create_poll(db, "colour", "Red or blue?", [Option("Red", ("red", "r")), Option("Blue", ("blue", "b"))],
                reply_vote="You chose {option}.")
    hub = start_hub(db_url, roles="connectors,rules,scheduler")
    try:
        for n, text in enumerate(["RED!", "vote b", "b", "Blue."]):
            db.execute("SELECT hub.receive_message_v1(%s, 'sms', %s, ARRAY['+15550000'], NULL, %s)",
                       (gsm, f"+44770090000{n}", text))
        try:
            sent = wait_for(lambda: _sent(db, 4), timeout=60, what="four replies sent (or delivered)")
        except AssertionError:
            for query in ("SELECT id, type, done_at, error FROM hub.events",
                          "SELECT id, direction, status, body, failure_reason FROM hub.messages",
                          "SELECT name, state, last_error FROM hub.connections", "SELECT * FROM hub.rule_log"):
                print(query, db.execute(query).fetchall())
            raise
    finally:
        assert stop_hub(hub) == 0
    assert [(r["to"], r["body"]) for r in sent] == [
        ("+447700900000", "You chose Red."), ("+447700900001", "You chose Blue."),
        ("+447700900002", "You chose Blue."), ("+447700900003", "You chose Blue.")]
    counts = {r["label"]: r["votes"] for r in db.execute("SELECT label, votes FROM hub.poll_results")}
    assert counts == {"Red": 1, "Blue": 3}
    assert db.execute("SELECT count(*) AS n FROM hub.events WHERE type = 'message_received' AND done_at IS NULL"
                      ).fetchone()["n"] == 0


def _sent(db, n: int) -> list[dict] | None:
    rows = db.execute("SELECT recipients[1] AS to, body FROM hub.messages WHERE direction = 'out'"
                      " AND status IN ('sent', 'delivered')"
                      " ORDER BY recipients[1]").fetchall()
    return rows if len(rows) == n else None


def test_a_killed_runner_loses_and_repeats_nothing(db, db_url):
    """SIGKILL the hub while it works through votes; its open transaction
    rolls back, the next hub takes the events again: every vote is counted
    once and answered once."""
    import signal

    from msghub.rules.polls import Option, create_poll

    gsm = db.execute("INSERT INTO hub.connections (name, kind, channels, enabled) VALUES ('gsm', 'loopback',"
                     " '{sms}', false) RETURNING id").fetchone()["id"]
    create_poll(db, "size", "S or L?", [Option("S", ("s",)), Option("L", ("l",))], reply_vote="Got {option}.",
                one_vote_per_sender=False)
    votes = 400
    db.execute("SELECT hub.receive_message_v1(%s, 'sms', '+4477009' || lpad(n::text, 5, '0'), ARRAY['+1555'],"
               " NULL, CASE WHEN n %% 2 = 0 THEN 's' ELSE 'l' END) FROM generate_series(1, %s) n", (gsm, votes))
    done = "SELECT count(*) AS n FROM hub.events WHERE type = 'message_received' AND done_at IS NOT NULL"
    first = start_hub(db_url, roles="rules", node="first")
    try:
        wait_for(lambda: db.execute(done).fetchone()["n"] >= 20, timeout=60, what="the first votes")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert db.execute(done).fetchone()["n"] < votes, "the kill came too late to prove anything"
    second = start_hub(db_url, roles="rules", node="second")
    try:
        wait_for(lambda: db.execute(done).fetchone()["n"] == votes, timeout=120, what="every vote processed")
    finally:
        assert stop_hub(second) == 0
    replies = db.execute("SELECT count(*) AS n, count(DISTINCT correlation_id) AS events FROM hub.messages"
                         " WHERE direction = 'out'").fetchone()
    assert replies == {"n": votes, "events": votes}
    counts = {r["label"]: r["votes"] for r in db.execute("SELECT label, votes FROM hub.poll_results")}
    assert counts == {"S": votes // 2, "L": votes // 2}
