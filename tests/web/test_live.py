"""The live stream's content (msghub/web/live.py): the change feed read per
user through row-level security, replay from a watermark, transactions that
commit out of order, the connection banner and poll counts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg

from msghub.app.runtime import make_pool
from msghub.web.live import Stream, StreamParams
from msghub.web.security import SessionUser
from tests.web.webkit import make_user


def _events(chunks: list[str]) -> list[tuple[str, Any, str | None]]:
    out = []
    for chunk in chunks:
        fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
        out.append((fields["event"], json.loads(fields["data"]), fields.get("id")))
    return out


def _session(user_id: int, name: str) -> SessionUser:
    return SessionUser(user_id, name, name, "user", "csrf")


def _receive(db, body: str, owner: int | None) -> int:
    mid = db.execute(
        "SELECT hub.receive_message_v1(1, 'sms', '+15550101', '{+15550001}', NULL, %s) AS id", (body,)
    ).fetchone()["id"]
    if owner is not None:
        db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (owner, mid))
    return mid


def _world(db, db_url) -> tuple[int, int]:
    alice, bob = make_user(db_url, "alice", role="user"), make_user(db_url, "bob", role="user")
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('loop', 'loopback', '{sms}')")
    return alice, bob


def _watermark(db) -> str:
    return db.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x").fetchone()["x"]


async def _read(db_url: str, user: SessionUser, watermark: str | None, steps: Any = None, q: str = "") -> list[Any]:
    pool = make_pool(db_url, max_size=2)
    await pool.open(wait=True)
    try:
        stream = Stream(pool, user, StreamParams("inbox", q, None, None, watermark))
        events = _events(await stream.changes())
        if steps is not None:
            steps()
            events += _events(await stream.changes())
        return events
    finally:
        await pool.close()


def test_each_user_gets_only_changes_they_may_see(db_url, db):
    alice, bob = _world(db, db_url)
    start = _watermark(db)
    mine = _receive(db, "for <alice>", alice)
    _receive(db, "for bob", bob)
    events = asyncio.run(_read(db_url, _session(alice, "alice"), start))
    changes = [e for e in events if e[0] == "change"]
    assert [c[1]["message_id"] for c in changes] == [mine]
    assert changes[0][1]["view"] == "inbox" and changes[0][1]["kind"] == "assigned"
    html = changes[0][1]["html"]
    assert html.startswith(f'<tr data-id="{mine}"') and "for &lt;alice&gt;" in html and "<alice>" not in html
    # the batch ends with its watermark as the event id, for Last-Event-ID
    assert events[-1][0] == "sync" and events[-1][2] == events[-1][1] and int(events[-1][2]) > int(start)


def test_assigning_away_tells_the_old_owner_it_is_gone(db_url, db):
    alice, bob = _world(db, db_url)
    mid = _receive(db, "hello", alice)
    start = _watermark(db)
    db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (bob, mid))
    for_alice = [e for e in asyncio.run(_read(db_url, _session(alice, "alice"), start)) if e[0] == "change"]
    for_bob = [e for e in asyncio.run(_read(db_url, _session(bob, "bob"), start)) if e[0] == "change"]
    assert for_alice == [("change", {"message_id": mid, "kind": "assigned", "gone": True}, None)]
    assert for_bob[0][1]["message_id"] == mid and not for_bob[0][1].get("gone")


def test_no_change_is_missed_when_transactions_commit_out_of_order(db_url, db):
    alice, _ = _world(db, db_url)
    start = _watermark(db)
    slow = psycopg.connect(db_url, options="-c msghub.system=on")
    try:
        # the slow transaction takes the lower change id but commits last
        first = slow.execute("SELECT hub.receive_message_v1(1, 'sms', '+1', '{+2}', NULL, 'slow') AS id").fetchone()[0]
        slow.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (alice, first))
        second = _receive(db, "fast", alice)

        state: dict[str, Any] = {}

        async def scenario() -> None:
            pool = make_pool(db_url, max_size=2)
            await pool.open(wait=True)
            try:
                stream = Stream(pool, _session(alice, "alice"), StreamParams("inbox", "", None, None, start))
                state["before"] = _events(await stream.changes())
                slow.commit()
                state["after"] = _events(await stream.changes())
            finally:
                await pool.close()

        asyncio.run(scenario())
    finally:
        slow.close()
    # while the slow one is open, the feed holds back even the committed fast one ...
    assert [e for e in state["before"] if e[0] == "change"] == []
    # ... and then delivers both
    assert sorted(e[1]["message_id"] for e in state["after"] if e[0] == "change") == sorted([first, second])


def test_replay_from_an_old_watermark_and_the_search_filter(db_url, db):
    alice, _ = _world(db, db_url)
    start = _watermark(db)
    fox = _receive(db, "the quick fox", alice)
    dog = _receive(db, "a lazy dog", alice)
    changes = [e[1] for e in asyncio.run(_read(db_url, _session(alice, "alice"), start, q="fox")) if e[0] == "change"]
    assert {c["message_id"]: c["matches"] for c in changes} == {fox: True, dog: False}
    # without a watermark the stream starts from now: nothing old is replayed
    assert [e for e in asyncio.run(_read(db_url, _session(alice, "alice"), None)) if e[0] == "change"] == []


def test_connections_and_polls(db_url, db):
    alice, _ = _world(db, db_url)
    db.execute("UPDATE hub.connections SET enabled = true, state = 'down', last_error = 'no <carrier>'")
    poll = db.execute(
        "INSERT INTO hub.polls (name, question, owner_user_id) VALUES ('p', 'Best?', %s) RETURNING id", (alice,)
    ).fetchone()["id"]
    opts = [
        db.execute(
            "INSERT INTO hub.poll_options (poll_id, position, label, keywords) VALUES (%s, %s, %s, %s) RETURNING id",
            (poll, n, label, [label]),
        ).fetchone()["id"]
        for n, label in enumerate(["tea", "coffee"])
    ]
    db.execute(
        "INSERT INTO hub.poll_votes (poll_id, option_id, sender, voter_key) VALUES (%s, %s, 'a', 'a'), "
        "(%s, %s, 'b', 'b'), (%s, %s, 'c', 'c')",
        (poll, opts[1], poll, opts[1], poll, opts[0]),
    )

    async def scenario() -> tuple[Any, Any]:
        pool = make_pool(db_url, max_size=2)
        await pool.open(wait=True)
        try:
            stream = Stream(pool, _session(alice, "alice"), StreamParams("", "", None, poll, None))
            return _events([await stream.connections()]), _events([await stream.poll() or ""])
        finally:
            await pool.close()

    connections, polls = asyncio.run(scenario())
    assert connections == [("connections", [{"name": "loop", "last_error": "no <carrier>"}], None)]
    data = polls[0][1]
    assert data["total"] == 3 and [(o["label"], o["votes"]) for o in data["options"]] == [("tea", 1), ("coffee", 2)]


def test_old_changes_are_pruned(db_url, db):
    alice, _ = _world(db, db_url)
    _receive(db, "old", alice)
    db.execute("UPDATE hub.message_changes SET at = now() - interval '2 days'")
    _receive(db, "new", alice)
    deleted = db.execute("SELECT hub.message_changes_prune_v1() AS n").fetchone()["n"]
    assert deleted == 2 and db.execute("SELECT count(*) AS n FROM hub.message_changes").fetchone()["n"] == 2


def _raw_stream(db_url: str, cookie: str, headers: list[tuple[bytes, bytes]], events_wanted: int) -> list[str]:
    """GET /live through the ASGI app until events_wanted events arrived,
    then disconnect, as a browser does."""
    from msghub.web.app import create_app

    async def main() -> list[str]:
        pool = make_pool(db_url, max_size=2)
        await pool.open(wait=True)
        app = create_app(pool)
        body: list[str] = []
        done = asyncio.Event()
        first = True

        async def receive() -> dict[str, Any]:
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                body.append(message["body"].decode())
                if "".join(body).count("event: ") >= events_wanted:
                    done.set()

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/live",
            "raw_path": b"/live",
            "query_string": b"view=inbox",
            "root_path": "",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 1),
            "headers": [
                (b"host", b"testserver"),
                (b"accept", b"text/event-stream"),
                (b"cookie", cookie.encode()),
                *headers,
            ],
        }
        try:
            await asyncio.wait_for(app(scope, receive, send), timeout=20)
        finally:
            hub = app.state.live
            if hub is not None:
                hub.close()
            await pool.close()
        return "".join(body).split("\n\n")

    return asyncio.run(main())


def test_a_reconnecting_browser_gets_what_it_missed(db_url, db):
    from tests.web.webkit import login, run_app

    alice, _ = _world(db, db_url)

    async def get_cookie(client):
        response = await login(client)
        return response.headers["set-cookie"].split(";")[0]

    cookie = run_app(db_url, get_cookie)
    before = _watermark(db)
    missed = _receive(db, "sent while the browser was away", alice)
    # the browser comes back with the id of the last event it saw
    chunks = _raw_stream(db_url, cookie, [(b"last-event-id", before.encode())], events_wanted=3)
    changes = [c for c in chunks if c.startswith("event: change")]
    assert len(changes) == 1 and f'"message_id":{missed}' in changes[0]
    assert "sent while the browser was away" in changes[0]
    assert any(c.startswith("event: sync\nid: ") for c in chunks)
    # a browser without one starts from now
    fresh = _raw_stream(db_url, cookie, [], events_wanted=1)
    assert fresh[0] == "retry: 1000" and not any(c.startswith("event: change") for c in fresh)


def test_the_stream_needs_a_session(db_url):
    from tests.web.webkit import run_app

    async def scenario(client):
        return await client.get("/live", headers={"accept": "text/event-stream"})

    response = run_app(db_url, scenario)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_stream_notices_when_its_session_ended(db_url, db):
    from msghub.web.security import token_digest
    from tests.web.webkit import login, run_app

    alice, _ = _world(db, db_url)

    async def get_token(client):
        response = await login(client)
        return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]

    digest = token_digest(run_app(db_url, get_token))

    async def check() -> bool:
        pool = make_pool(db_url, max_size=2)
        await pool.open(wait=True)
        try:
            stream = Stream(pool, _session(alice, "alice"), StreamParams("", "", None, None, None), digest)
            return await stream.session_valid()
        finally:
            await pool.close()

    assert asyncio.run(check()) is True
    db.execute("DELETE FROM hub.web_sessions")
    assert asyncio.run(check()) is False
