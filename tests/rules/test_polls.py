"""A poll end to end: votes arrive as SMS, the poll's rule counts them, the
counts view is right, voters get replies, re-votes move, late votes are
refused politely."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from msghub.rules.polls import Option, PollError, create_poll, results
from msghub.rules.store import load_directory
from tests.rules.runner_support import Runner, connection, receive, runner_for


@pytest.fixture
def runner(db_url: str) -> Iterator[Runner]:
    yield from runner_for(db_url)


def _replies(db) -> list[tuple[str, str]]:
    rows = db.execute("SELECT recipients[1] AS to, body FROM hub.messages WHERE direction = 'out' ORDER BY id")
    return [(r["to"], r["body"]) for r in rows]


def _counts(db, name="song") -> dict[str, int]:
    return {r["label"]: r["votes"] for r in results(db, name)}


def _song_poll(db, **kw) -> int:
    return create_poll(
        db, "song", "Best song?",
        [Option("Aurora", ("a", "aurora")), Option("Borealis", ("b", "borealis")), Option("Comet", ("c",))],
        reply_vote="Thanks, your vote for {option} counts.",
        reply_revote="Changed: your vote now goes to {option}.",
        reply_unknown="Reply A, B or C to vote.", **kw)


def test_poll_end_to_end(db, runner):
    gsm = connection(db)
    _song_poll(db)
    votes = [("+447700900001", "vote a"), ("+447700900002", "B!"), ("+447700900003", "  Aurora. "),
             ("+447700900004", "á"), ("+447700900005", "what?"), ("+447700900002", "c")]
    for sender, text in votes:
        receive(db, gsm, sender, text)
    runner.drain()
    assert _counts(db) == {"Aurora": 3, "Borealis": 0, "Comet": 1}
    assert _replies(db) == [
        ("+447700900001", "Thanks, your vote for Aurora counts."),
        ("+447700900002", "Thanks, your vote for Borealis counts."),
        ("+447700900003", "Thanks, your vote for Aurora counts."),
        ("+447700900004", "Thanks, your vote for Aurora counts."),
        ("+447700900005", "Reply A, B or C to vote."),
        ("+447700900002", "Changed: your vote now goes to Comet."),
    ]
    percent = {r["label"]: float(r["percent"]) for r in results(db, "song")}
    assert percent == {"Aurora": 75.0, "Borealis": 0.0, "Comet": 25.0}
    # replies leave on the link the votes came in on
    links = {r["connection_id"] for r in db.execute("SELECT connection_id FROM hub.messages WHERE direction = 'out'")}
    assert links == {gsm}


def test_late_vote_is_refused_politely_and_not_counted(db, runner):
    gsm = connection(db)
    _song_poll(db, opens_at=datetime.now(UTC) - timedelta(hours=2), closes_at=datetime.now(UTC) - timedelta(hours=1))
    receive(db, gsm, "+447700900001", "a")
    runner.drain()
    assert _counts(db) == {"Aurora": 0, "Borealis": 0, "Comet": 0}
    assert _replies(db) == [("+447700900001", "Sorry, voting is closed.")]


def test_a_poll_can_count_every_vote(db, runner):
    gsm = connection(db)
    _song_poll(db, one_vote_per_sender=False)
    for text in ("a", "a", "b"):
        receive(db, gsm, "+447700900001", text)
    runner.drain()
    assert _counts(db) == {"Aurora": 2, "Borealis": 1, "Comet": 0}


def test_repeating_the_same_vote_changes_nothing(db, runner):
    gsm = connection(db)
    _song_poll(db)
    receive(db, gsm, "+447700900001", "b")
    receive(db, gsm, "+447700900001", "B.")
    runner.drain()
    assert _counts(db) == {"Aurora": 0, "Borealis": 1, "Comet": 0}
    assert db.execute("SELECT count(*) AS n FROM hub.poll_votes").fetchone()["n"] == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([Option("Only", ("o",))], "at least two options"),
        ([Option("A", ("x",)), Option("B", ("X",))], "keyword 'X' belongs to both 'A' and 'B'"),
        ([Option("A", ("!!",)), Option("B", ("b",))], "has no letters or digits"),
    ],
)
def test_bad_polls_are_refused_with_a_reason(db, options, message):
    with pytest.raises(PollError, match=message):
        create_poll(db, "p", "q?", options)


def test_a_vote_that_fails_alone_leaves_the_batch_usable(db, runner):
    # a rule whose only action is a vote runs without the runner's savepoint:
    # the vote's own subtransaction must keep a failure from aborting the batch
    gsm = connection(db)
    _song_poll(db)
    receive(db, gsm, "+447700900001", "a")
    runner.drain()  # the runner now knows the poll's id (kept for 2 s)
    db.execute("DELETE FROM hub.polls WHERE name = 'song'")
    db.execute("DELETE FROM hub.rules WHERE name = 'poll: song'")
    _song_poll(db)  # the same name, a new id: the kept one is stale
    db.execute("INSERT INTO hub.rules (name, source, position) VALUES ('after', %s, 99)",
               ("log.info('after ' + message.text)",))
    receive(db, gsm, "+447700900002", "b")
    receive(db, gsm, "+447700900003", "c")
    runner.drain()
    errors = [r["message"] for r in db.execute("SELECT message FROM hub.rule_log WHERE level = 'error'")]
    assert len(errors) == 2 and all("no poll with id" in e for e in errors)
    logged = [r["message"] for r in db.execute("SELECT message FROM hub.rule_log WHERE level = 'info' ORDER BY id")]
    assert logged == ["after b", "after c"]
    assert db.execute("SELECT count(*) AS n FROM hub.events WHERE done_at IS NULL").fetchone()["n"] == 0


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rules"


def _saturday(db, message_id: int) -> None:
    """Outside the example's office hours, whatever the clock says now."""
    db.execute("UPDATE hub.messages SET created_at = '2026-11-28T10:00:00+00:00' WHERE id = %s", (message_id,))


def test_a_voter_outside_opening_hours_gets_one_answer(db, runner):
    """The example rules and a poll made after them: the poll's rule runs
    first and stops the rest, so the voter gets the vote's thanks alone; a
    message to the same number before the poll got the closed notice alone."""
    gsm = connection(db)
    load_directory(db, EXAMPLES)
    _saturday(db, receive(db, gsm, "+447700900007", "hello?"))
    runner.drain()
    assert _replies(db) == [("+447700900007", "Thanks! We are closed now and will answer after 08:00.")]
    _song_poll(db)
    order = [r["name"] for r in db.execute("SELECT name FROM hub.rules WHERE enabled ORDER BY position, id")]
    assert order[0] == "poll: song" and order.index("out-of-hours") < order.index("weather")
    _saturday(db, receive(db, gsm, "+447700900008", "vote b"))
    runner.drain()
    assert _replies(db)[1:] == [("+447700900008", "Thanks, your vote for Borealis counts.")]
    assert _counts(db) == {"Aurora": 0, "Borealis": 1, "Comet": 0}
    # an e-mail is no vote: the poll's rule lets the others answer it
    receive(db, gsm, "someone@example.org", "weather Oslo", channel="email")
    runner.drain()
    assert db.execute("SELECT count(*) AS n FROM hub.http_requests").fetchone()["n"] == 1
