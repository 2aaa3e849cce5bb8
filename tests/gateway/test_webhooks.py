"""Webhooks against a real hub process: registered by the CLI and by an API
key's owner, delivered signed to a loopback HTTP receiver, retried after a
failure, and parked with the error for a private address."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from msghub.gateway.webhooks import request_of, signature, verify
from tests.gateway.test_sendsms_e2e import _free_port
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web_admin.helpers import api_key, user


class _Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = 1


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.fail_first > 0:
            self.server.fail_first -= 1
            self.send_response(503)
        else:
            self.server.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    delivery = {"id": 7, "webhook_id": 1, "event": "message_status", "payload": {"b": 1, "a": "ü"}, "attempts": 1,
                "url": "https://x.example/", "secret": "whsec_k", "allow_private": False}
    body, headers = request_of(delivery, now=1_760_000_000)  # type: ignore[arg-type]
    assert body == '{"a":"ü","b":1}'.encode()
    assert headers["X-Msghub-Signature"] == signature("whsec_k", 1_760_000_000, body)
    assert verify("whsec_k", "1760000000", body, headers["X-Msghub-Signature"])
    assert not verify("whsec_k", "1760000001", body, headers["X-Msghub-Signature"])
    assert not verify("other", "1760000000", body, headers["X-Msghub-Signature"])


def _cli(db_url: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "msghub.app.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "MSGHUB_DATABASE_URL": db_url}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_events_are_delivered_signed_retried_and_parked(db_url, db, receiver):
    settings = {"delay_ms": 100, "echo": True, "delivery_reports": True, "reply_prefix": "echo: ",
                "own_number": "hub", "fail_prefix": "", "window": 10}
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) VALUES ('loop', 'loopback', '{sms}', %s)",
               (json.dumps(settings),))
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    out = _cli(db_url, "webhook", "add", url, "--allow-private",
               "--events", "message_status,message_received,connection_up")
    secret = out.split("signing secret (shown once): ")[1].strip()
    db.execute("UPDATE hub.settings SET value = '3' WHERE key = 'webhook_max_attempts'")

    port = _free_port()
    hub = start_hub(db_url, roles="connectors,scheduler,web", MSGHUB_HTTP_PORT=str(port))
    try:
        wait_for(lambda: db.execute("SELECT state FROM hub.connections").fetchone()["state"] == "up",
                 what="the connection")
        # a key owner's webhook to a private address is refused (parked after its attempts)
        key = api_key(db_url, user(db_url, "owner"), scopes=("send", "read"))

        def web_up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(web_up, what="the web server")
        made = httpx.post(f"http://127.0.0.1:{port}/api/v1/webhooks", headers={"Authorization": f"Bearer {key}"},
                          json={"url": url, "events": ["message_status"]})
        assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
        bad = httpx.post(f"http://127.0.0.1:{port}/api/v1/webhooks", headers={"Authorization": f"Bearer {key}"},
                         json={"url": url, "events": ["nope"]})
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "events"
        sent = httpx.post(f"http://127.0.0.1:{port}/api/v1/messages", headers={"Authorization": f"Bearer {key}"},
                          json={"to": "+4917012345", "text": "hook me", "delivery_report": True})
        assert sent.status_code == 201
        message_id = sent.json()["messages"][0]["id"]
        wait_for(lambda: len(receiver.calls) >= 4, timeout=60, what="four webhook calls")
        parked = wait_for(lambda: db.execute(
            "SELECT d.last_error FROM hub.webhook_deliveries d JOIN hub.webhooks w ON w.id = d.webhook_id "
            "WHERE w.owner_user_id IS NOT NULL AND d.status = 'parked'").fetchall(), timeout=90, what="parked")
    finally:
        assert stop_hub(hub) == 0
    assert all("private" in p["last_error"] and "allow-private" in p["last_error"] for p in parked)
    events = []
    for headers, body in receiver.calls:
        assert verify(secret, headers["x-msghub-timestamp"], body, headers["x-msghub-signature"])
        payload = json.loads(body)
        assert payload["event"] == headers["x-msghub-event"]
        events.append(payload)
    kinds = [(e["event"], (e["message"] or {}).get("status")) for e in events]
    assert ("connection_up", None) in kinds
    assert ("message_status", "sent") in kinds and ("message_status", "delivered") in kinds
    assert ("message_received", "received") in kinds
    status = [e for e in events if e["event"] == "message_status" and e["message"]["id"] == message_id]
    assert {e["message"]["recipients"][0] for e in status} == {"+4917012345"}
    up = next(e for e in events if e["event"] == "connection_up")
    assert up["connection"]["name"] == "loop"
    # the first call failed (503) and was made again
    admin = db.execute("SELECT d.attempts, d.status, d.answer_status FROM hub.webhook_deliveries d "
                       "JOIN hub.webhooks w ON w.id = d.webhook_id WHERE w.owner_user_id IS NULL").fetchall()
    assert {(r["status"], r["answer_status"]) for r in admin} == {("done", 204)}
    assert sorted(r["attempts"] for r in admin) == [1] * (len(admin) - 1) + [2]
    listing = _cli(db_url, "webhook", "list")
    assert re.search(r"^ +2 .* parked [12]$", listing, re.M) and "last error: 127.0.0.1 is a private" in listing
