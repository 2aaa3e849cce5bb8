"""Kannel's sendsms against a real hub process: the query strings of
Kannel's user guide, Kannel's answers, and the dlr-url callbacks received by
a loopback HTTP server, checked field by field."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web_admin.helpers import api_key, user


class _Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls: list[str] = []
        self.fail_first = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Receiver

    def do_GET(self) -> None:
        if self.server.fail_first > 0:
            self.server.fail_first -= 1
            self.send_response(500)
        else:
            self.server.calls.append(self.path)
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def hub(db_url, db):
    settings = {"delay_ms": 100, "echo": False, "delivery_reports": True, "reply_prefix": "",
                "own_number": "hub", "fail_prefix": "+999", "window": 10}
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES ('smsc1', 'loopback', '{sms}', %s)",
               (json.dumps(settings),))
    db.execute("UPDATE hub.settings SET value = 'on' WHERE key IN ('kannel_url_passwords', 'kannel_dlr_private')")
    port = _free_port()
    proc = start_hub(db_url, roles="connectors,scheduler,web", MSGHUB_HTTP_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: db.execute("SELECT state FROM hub.connections WHERE name = 'smsc1'").fetchone()["state"] == "up",
             what="the connection to come up")

    def web_up() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(web_up, what="the web server")
    try:
        yield base
    finally:
        assert stop_hub(proc) == 0


def _key(db_url) -> tuple[str, str]:
    key = api_key(db_url, user(db_url, "app"), scopes=("send",))
    _, key_id, secret = key.split("_", 2)
    return key_id, secret


def test_user_guide_query_strings_and_answers(db_url, db, hub):
    key_id, secret = _key(db_url)
    # the user guide's first example, with our key as its username and password
    ok = httpx.get(f"{hub}/cgi-bin/sendsms?username={key_id}&password={secret}&to=0123456&text=Hello+world")
    assert (ok.status_code, ok.text) == (202, "0: Accepted for delivery")
    assert ok.headers["content-type"].startswith("text/html")
    row = db.execute("SELECT recipients, body FROM hub.messages ORDER BY id DESC LIMIT 1").fetchone()
    assert row == {"recipients": ["0123456"], "body": "Hello world"}
    # user/pass are Kannel's short names; several receivers in to, space-separated (%20 or +)
    several = httpx.get(f"{hub}/cgi-bin/sendsms?user={key_id}&pass={secret}&to=%2B4917000001+%2B4917000002"
                        "&text=Hi&from=Kannel")
    assert several.status_code == 202
    assert db.execute("SELECT count(*) AS n FROM hub.messages WHERE sender = 'Kannel'").fetchone()["n"] == 2

    def get(query: str) -> tuple[int, str]:
        answer = httpx.get(f"{hub}/cgi-bin/sendsms?{query}")
        return answer.status_code, answer.text

    assert get(f"username={key_id}&password=wrong&to=1&text=x") == (403, "Authorization failed for sendsms")
    assert get("to=1&text=x") == (403, "Authorization failed for sendsms")
    assert get(f"username={key_id}&password={secret}&text=x") == (400, "Missing receiver number, rejected")
    assert get(f"username={key_id}&password={secret}&to=&text=x") == (
        400, "Empty receiver number not allowed, rejected")
    assert get(f"username={key_id}&password={secret}&to=1&dlr-mask=99") == (400, "DLR-Mask field misformed, rejected")
    assert get(f"username={key_id}&password={secret}&to=1&smsc=nosuch") == (403, "Not routable. Do not try again.")

    # with the compatibility off, a password in the URL is refused; POST still works
    db.execute("UPDATE hub.settings SET value = 'off' WHERE key = 'kannel_url_passwords'")
    assert get(f"username={key_id}&password={secret}&to=1&text=x") == (403, "Authorization failed for sendsms")
    posted = httpx.post(f"{hub}/cgi-bin/sendsms", content=b"Posted text",
                        headers={"Content-Type": "text/plain; charset=UTF-8", "X-Kannel-Username": key_id,
                                 "X-Kannel-Password": secret, "X-Kannel-To": "+4917000003"})
    assert (posted.status_code, posted.text) == (202, "0: Accepted for delivery")
    form = httpx.post(f"{hub}/cgi-bin/sendsms", data={"username": key_id, "password": secret, "to": "+4917000004",
                                                      "text": "Form text"})
    assert form.status_code == 202
    xml = httpx.post(f"{hub}/cgi-bin/sendsms", content=b"<x/>", headers={"Content-Type": "text/xml"})
    assert (xml.status_code, xml.text) == (400, "Invalid content-type")


def test_dlr_callbacks_field_by_field(db_url, db, hub, receiver):
    key_id, secret = _key(db_url)
    dlr = (f"http://127.0.0.1:{receiver.server_port}/dlr?type=%d&answer=%A&from=%p&to=%P&q=%q&Q=%Q&smsc=%i"
           "&id=%I&ref=%F&time=%t&epoch=%T&user=%n&kw=%k&b=%b&mask=%d&coding=%c&mclass=%m&acct=%o&binfo=%B"
           "&meta=%D")
    from urllib.parse import quote

    query = (f"username={key_id}&password={secret}&from=0049170999&to=%2B4917000001&text=Hello+DLR"
             f"&dlr-mask=31&dlr-url={quote(dlr, safe='')}&smsc=smsc1&account=acc1&binfo=bill%261&mclass=1"
             "&meta-data=%3Fsmpp%3Fk%3Dv")
    answer = httpx.get(f"{hub}/cgi-bin/sendsms?{query}")
    assert (answer.status_code, answer.text) == (202, "0: Accepted for delivery")
    message = db.execute("SELECT id FROM hub.messages ORDER BY id DESC LIMIT 1").fetchone()["id"]
    wait_for(lambda: len(receiver.calls) >= 2, timeout=30, what="two dlr-url callbacks")
    calls = [parse_qs(urlsplit(path).query, keep_blank_values=True) for path in receiver.calls]
    by_type = {c["type"][0]: {k: v[0] for k, v in c.items()} for c in calls}
    assert set(by_type) == {"8", "1"}
    sent, delivered = by_type["8"], by_type["1"]
    row = db.execute("SELECT m.operator_ref, m.created_at FROM hub.messages m WHERE id = %s", (message,)).fetchone()
    for fields in (sent, delivered):
        assert fields["from"] == "0049170999" and fields["to"] == "+4917000001"
        assert fields["q"] == "+49170999" and fields["Q"] == "+4917000001"
        assert fields["smsc"] == "smsc1" and fields["user"] == key_id
        assert fields["id"] == f"00000000-0000-0000-0000-{message:012x}"
        assert fields["ref"] == row["operator_ref"]
        assert fields["acct"] == "acc1" and fields["binfo"] == "bill&1" and fields["meta"] == "?smpp?k=v"
        assert fields["coding"] == "-1" and fields["mclass"] == "1"
        assert fields["time"][:10] == row["created_at"].strftime("%Y-%m-%d") and fields["epoch"].isdigit()
    assert sent["answer"] == "ACK/" and sent["kw"] == "ACK/"
    assert delivered["answer"].startswith(f"id:{row['operator_ref']} sub:001 dlvrd:001 submit date:")
    assert "stat:DELIVRD err:000 text:Hello DLR" in delivered["answer"]
    assert delivered["b"] == delivered["answer"]
    # the receiver saw the calls; their record follows a moment later
    wait_for(lambda: len(db.execute("SELECT 1 FROM hub.kannel_dlr_calls WHERE status = 'done'").fetchall()) == 2,
             what="both callbacks recorded")
    done = db.execute("SELECT status, attempts FROM hub.kannel_dlr_calls ORDER BY id").fetchall()
    assert done == [{"status": "done", "attempts": 1}, {"status": "done", "attempts": 1}]


def test_refused_message_calls_back_nack_and_failed_calls_are_retried(db_url, db, hub, receiver):
    key_id, secret = _key(db_url)
    receiver.fail_first = 1
    dlr = f"http://127.0.0.1:{receiver.server_port}/d?t=%d&a=%A"
    answer = httpx.get(f"{hub}/cgi-bin/sendsms", params={
        "username": key_id, "password": secret, "to": "+9991234", "text": "nope", "dlr-mask": "16", "dlr-url": dlr})
    assert answer.status_code == 202
    wait_for(lambda: receiver.calls, timeout=40, what="the retried callback")
    fields = parse_qs(urlsplit(receiver.calls[0]).query)
    assert fields["t"] == ["16"] and fields["a"][0].startswith("NACK/refused/")
    row = wait_for(lambda: db.execute(
        "SELECT status, attempts FROM hub.kannel_dlr_calls WHERE status = 'done'").fetchone(), what="the record")
    assert row["attempts"] == 2


def test_private_dlr_url_is_parked_when_not_allowed(db_url, db, hub, receiver):
    key_id, secret = _key(db_url)
    db.execute("UPDATE hub.settings SET value = 'off' WHERE key = 'kannel_dlr_private'")
    db.execute("UPDATE hub.settings SET value = '1' WHERE key = 'kannel_dlr_max_attempts'")
    answer = httpx.get(f"{hub}/cgi-bin/sendsms", params={
        "username": key_id, "password": secret, "to": "+4917000001", "text": "x", "dlr-mask": "8",
        "dlr-url": f"http://127.0.0.1:{receiver.server_port}/d?t=%d"})
    assert answer.status_code == 202
    row = wait_for(lambda: db.execute(
        "SELECT status, last_error FROM hub.kannel_dlr_calls WHERE status = 'parked'").fetchone(),
        timeout=30, what="the parked callback")
    assert "kannel_dlr_private" in row["last_error"] and receiver.calls == []
