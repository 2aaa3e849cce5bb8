"""Rule HTTP requests performed against a real HTTP server on 127.0.0.1:
answers stored and turned into http_response events, failures as error
responses, claims leased."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import psycopg
import pytest

from msghub.app.runtime import make_pool
from msghub.rules.http_dispatch import HttpDispatcher
from msghub.rules.http_fetch import MAX_BODY_BYTES, MAX_TIMEOUT_S, fetch, pinned_url, timeout_for

T = TypeVar("T")
# the slow endpoint answers only when the test is over (or after this long)
SLOW_HOLD_S = 10.0
# how long a test waits for the running loop before giving up (not a measurement)
PATIENCE_S = 15.0


class Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", "test")
        self.end_headers()
        self.wfile.write(body)

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self.path == "/echo":
            echo = {"method": self.command, "body": body, "x_token": self.headers.get("X-Token")}
            self._answer(200, json.dumps(echo).encode(), "application/json; charset=utf-8")
        elif self.path == "/host":
            self._answer(200, json.dumps({"host": self.headers.get("Host")}).encode(), "application/json")
        elif self.path == "/text":
            self._answer(200, "héllo".encode("latin-1"), "text/plain; charset=latin-1")
        elif self.path == "/fail":
            self._answer(500, b"boom", "text/plain")
        elif self.path == "/big":
            self._answer(200, b"x" * (MAX_BODY_BYTES * 2), "application/json")
        elif self.path == "/nan":
            self._answer(200, b'{"a": NaN}', "application/json")
        elif self.path == "/slow":
            self.release.wait(SLOW_HOLD_S)
            self._answer(200, b"late", "text/plain")
        else:
            self._answer(404, b"no such page", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = _route


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    release = threading.Event()
    handler = type("TestHandler", (Handler,), {"release": release})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(
    db: psycopg.Connection[Any],
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: str | None = None,
    timeout_s: float = 5,
    context: Any = None,
    rule_id: int | None = None,
) -> int:
    return int(
        db.execute(
            "INSERT INTO hub.http_requests (rule_id, method, url, headers, body, timeout_s, context)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (rule_id, method, url, json.dumps(headers or {}), body, timeout_s, json.dumps(context)),
        ).fetchone()["id"]
    )


def with_dispatcher(db_url: str, work: Callable[[HttpDispatcher], Awaitable[T]], node: str = "n1") -> T:
    async def main() -> T:
        pool = make_pool(db_url, max_size=3)
        await pool.open(wait=True)
        dispatcher = HttpDispatcher(pool, node, poll_interval_s=0.05, allow_private=True)
        try:
            return await work(dispatcher)
        finally:
            await dispatcher.aclose()
            await pool.close()

    return asyncio.run(main())


def dispatch(db_url: str, node: str = "n1") -> int:
    return with_dispatcher(db_url, lambda d: d.process_once(), node)


def stored(db: psycopg.Connection[Any], request_id: int) -> dict[str, Any]:
    row = db.execute(
        "SELECT status, claimed_by, done_at, response FROM hub.http_requests WHERE id = %s", (request_id,)
    ).fetchone()
    assert row is not None
    return dict(row)


def events(db: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [
        r["payload"]
        for r in db.execute("SELECT payload FROM hub.events WHERE type = 'http_response' ORDER BY id").fetchall()
    ]


def test_a_json_answer_is_stored_and_becomes_an_event(db, db_url, server):
    rule_id = db.execute("INSERT INTO hub.rules (name, source) VALUES ('hook', '') RETURNING id").fetchone()["id"]
    rid = request(
        db,
        f"{server}/echo",
        method="post",
        headers={"X-Token": "t1"},
        body='{"n": 1}',
        context={"order": 7},
        rule_id=rule_id,
    )

    assert dispatch(db_url) == 1

    row = stored(db, rid)
    assert row["status"] == "done" and row["claimed_by"] == "n1" and row["done_at"] is not None
    response = row["response"]
    assert response["status"] == 200 and response["error"] is None and response["truncated"] is False
    assert response["json"] == {"method": "POST", "body": '{"n": 1}', "x_token": "t1"}, "method, body, headers sent"
    assert response["headers"]["x-served-by"] == "test"
    assert isinstance(response["elapsed_ms"], int) and response["elapsed_ms"] >= 0
    assert events(db) == [
        {
            "request_id": rid,
            "rule_id": rule_id,
            "method": "post",
            "url": f"{server}/echo",
            "context": {"order": 7},
            "response": response,
        }
    ]
    assert dispatch(db_url) == 0, "an answered request is not performed again"


def test_the_answer_carries_the_asking_message(db, db_url, server):
    conn_id = db.execute(
        "INSERT INTO hub.connections (name, kind, channels) VALUES ('gsm', 'loopback', '{sms}') RETURNING id"
    ).fetchone()["id"]
    message_id = db.execute(
        "SELECT hub.receive_message_v1(%s, 'sms', '+15551234', ARRAY['+15550000'], NULL, 'hi') AS id", (conn_id,)
    ).fetchone()["id"]
    rid = request(db, f"{server}/echo")
    db.execute("UPDATE hub.http_requests SET message_id = %s WHERE id = %s", (message_id, rid))
    dispatch(db_url)
    row = db.execute("SELECT message_id FROM hub.events WHERE type = 'http_response'").fetchone()
    assert row["message_id"] == message_id


def test_text_is_decoded_by_its_charset_and_has_no_json(db, db_url, server):
    rid = request(db, f"{server}/text")
    dispatch(db_url)
    response = stored(db, rid)["response"]
    assert response["body"] == "héllo" and response["json"] is None


def test_a_server_error_is_an_answer_not_a_failure(db, db_url, server):
    rid = request(db, f"{server}/fail")
    dispatch(db_url)
    row = stored(db, rid)
    assert row["status"] == "done"
    assert row["response"]["status"] == 500 and row["response"]["body"] == "boom"
    assert events(db)[0]["response"]["status"] == 500


def test_a_timeout_is_an_error_response(db, db_url, server):
    rid = request(db, f"{server}/slow", timeout_s=0.3)
    dispatch(db_url)
    row = stored(db, rid)
    assert row["status"] == "failed"
    assert row["response"]["status"] is None
    assert "0.3 s" in row["response"]["error"] or "timed out" in row["response"]["error"]
    assert events(db)[0]["response"]["error"] == row["response"]["error"], "the rule hears of the failure too"


def test_a_refused_connection_is_an_error_response(db, db_url):
    rid = request(db, f"http://127.0.0.1:{closed_port()}/")
    dispatch(db_url)
    row = stored(db, rid)
    assert row["status"] == "failed"
    assert row["response"]["status"] is None and row["response"]["error"].startswith("could not connect")


def test_an_oversized_body_is_cut_at_the_limit_and_says_so(db, db_url, server):
    rid = request(db, f"{server}/big")
    dispatch(db_url)
    response = stored(db, rid)["response"]
    assert response["status"] == 200 and response["truncated"] is True
    assert len(response["body"]) == MAX_BODY_BYTES
    assert response["json"] is None, "a cut body is not parsed"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://127.0.0.1/x", "only http and https"),
        ("http:///nohost", "no host"),
    ],
)
def test_only_http_urls_are_requested(db, db_url, url, words):
    rid = request(db, url)
    dispatch(db_url)
    row = stored(db, rid)
    assert row["status"] == "failed" and words in row["response"]["error"]


def test_an_answer_jsonb_refuses_is_stored_as_an_error(db, db_url, server):
    rid = request(db, f"{server}/nan")
    dispatch(db_url)
    row = stored(db, rid)
    assert row["status"] == "failed"
    assert row["response"]["status"] == 200 and "could not be stored" in row["response"]["error"]
    assert len(events(db)) == 1


def test_timeouts_are_capped():
    assert timeout_for(600) == MAX_TIMEOUT_S
    assert timeout_for(2.5) == 2.5
    assert timeout_for(0) > 0


def test_a_dead_nodes_claim_is_retaken_after_its_lease(db, db_url, server):
    stale = request(db, f"{server}/echo")
    fresh = request(db, f"{server}/echo")
    db.execute(
        "UPDATE hub.http_requests SET claimed_by = 'dead', claimed_at = now() - interval '61 seconds' WHERE id = %s",
        (stale,),
    )
    db.execute("UPDATE hub.http_requests SET claimed_by = 'busy', claimed_at = now() WHERE id = %s", (fresh,))

    assert dispatch(db_url) == 1
    assert stored(db, stale)["status"] == "done" and stored(db, stale)["claimed_by"] == "n1"
    assert stored(db, fresh)["status"] == "pending" and stored(db, fresh)["claimed_by"] == "busy"


def test_an_answer_to_a_retaken_request_is_dropped(db, db_url, server):
    rid = request(db, f"{server}/echo")

    async def work(dispatcher: HttpDispatcher) -> None:
        [claimed] = await dispatcher._claim(10)
        # meanwhile the lease ran out and another node took the request
        db.execute("UPDATE hub.http_requests SET claimed_by = 'n2', claimed_at = now() WHERE id = %s", (rid,))
        await dispatcher._answer(claimed)

    with_dispatcher(db_url, work)
    assert stored(db, rid)["status"] == "pending" and events(db) == []


def test_answers_notify_msghub_events(db, db_url, server):
    request(db, f"{server}/echo")
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN msghub_events")
        dispatch(db_url)
        notes = list(listener.notifies(timeout=PATIENCE_S, stop_after=1))
    assert [n.channel for n in notes] == ["msghub_events"]


def test_the_running_loop_answers_when_woken(db, db_url, server):
    async def work(dispatcher: HttpDispatcher) -> list[str]:
        task = asyncio.create_task(dispatcher.run())
        ids = [request(db, f"{server}/echo", body=str(i)) for i in range(3)]
        dispatcher.wake()
        async with asyncio.timeout(PATIENCE_S):
            while db.execute("SELECT count(*) AS n FROM hub.http_requests WHERE status = 'pending'").fetchone()["n"]:
                await asyncio.sleep(0.02)
        dispatcher.stop()
        await task
        return [stored(db, i)["response"]["json"]["body"] for i in ids]

    assert with_dispatcher(db_url, work) == ["0", "1", "2"]
    assert len(events(db)) == 3


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/", "http://localhost/", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/", "http://192.168.0.1/", "http://0.0.0.0/",
])
def test_rules_cannot_reach_private_addresses_by_default(url):
    async def main() -> dict:
        async with httpx.AsyncClient() as client:
            return await fetch(client, "GET", url, None, None, 1)

    response = asyncio.run(main())
    assert response["status"] is None
    assert "private, local or reserved address" in response["error"]
    assert "MSGHUB_RULE_HTTP_PRIVATE=1" in response["error"]


@pytest.mark.parametrize(("url", "address", "expected"), [
    ("https://api.example.org/v1?q=1", "93.184.216.34", ("https://93.184.216.34/v1?q=1", "api.example.org")),
    ("http://api.example.org:8080/x", "93.184.216.34", ("http://93.184.216.34:8080/x", "api.example.org:8080")),
    ("https://api.example.org/", "2606:2800:220:1::1", ("https://[2606:2800:220:1::1]/", "api.example.org")),
])
def test_the_connection_goes_to_the_address_that_was_checked(url, address, expected):
    # a name that resolves to a public address when checked and to a private
    # one a moment later (DNS rebinding) must not lead the request inside
    assert pinned_url(url, address) == expected


def test_a_pinned_request_reaches_the_address_with_the_name_as_host(server):
    # the pinning path end to end against a real server: the URL names a
    # host, the connection goes to the checked address
    from msghub.rules.http_fetch import _exchange

    port = server.rsplit(":", 1)[1]

    async def main() -> dict:
        async with httpx.AsyncClient() as client:
            return await _exchange(client, "GET", f"http://msghub-test.invalid:{port}/host", {}, None, 5, "127.0.0.1")

    response = asyncio.run(main())
    assert response["status"] == 200
    assert response["json"]["host"] == f"msghub-test.invalid:{port}"
