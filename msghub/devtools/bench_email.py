"""`msghub bench email --messages N`: e-mail out through a real Postfix, back through a real Dovecot.

Starts Debian's Postfix and Dovecot on loopback (msghub/devtools/mailservers.py:
root and the packages are needed), points an `smtp` connection of a real hub
process at Postfix, inserts N rows into hub.outbox and waits until the server
accepted every one (hub.smtp_accepted). Once Postfix has delivered them all,
this process fetches the mailbox through a `pop3` connection into the
database. Prints JSON: send throughput (first insert to last acceptance),
p50/p99 from insert to the server's acceptance (flat out that is mostly
time spent waiting in the backlog; `--rate R` paces the inserts instead), and fetch throughput (POP3
RETR, parse and store, per mail). The figures are for this machine as it is.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from msghub.app.hublink import HubLink
from msghub.app.runtime import make_pool
from msghub.connectors.pop3.connector import Pop3Connector
from msghub.connectors.pop3.settings import SETTINGS as POP3_SETTINGS
from msghub.connectors.settings import validate_config
from msghub.devtools.benchkit import machine, start_hub
from msghub.devtools.mailservers import PASSWORD, MailServers
from msghub.devtools.queries import BENCH_EMAIL_QUERIES
from msghub.hub.db import connect
from msghub.services.blocking import call
from msghub.services.connections import ensure_connection, get_connection, set_enabled
from msghub.services.tx import SYSTEM

SMTP_NAME, POP3_NAME = "bench-smtp", "bench-pop3"
DRAIN_TIMEOUT_S = 600.0
INSERT_BATCH = 100


def _connection(url: str, name: str, kind: str, settings: dict[str, Any], enabled: bool) -> int:
    with connect(url) as conn:
        call(conn, ensure_connection, SYSTEM, name, kind, settings)
        row = call(conn, get_connection, name)
        if not enabled:
            call(conn, set_enabled, SYSTEM, row, False)
        conn.commit()
    return row["id"]


def _wait(check: Any, what: str) -> Any:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


async def _fetch(url: str, connection_id: int, config: dict[str, Any]) -> Any:
    pool = make_pool(url, max_size=4)
    await pool.open()
    try:
        return await Pop3Connector(POP3_NAME, config, HubLink(pool, connection_id, "bench")).fetch_all()
    finally:
        await pool.close()


def bench_email(url: str, messages: int, sessions: int = 4, rate: float | None = None) -> dict[str, Any]:
    servers = MailServers()
    servers.start()
    try:
        return _run(url, servers, messages, sessions, rate)
    finally:
        servers.stop()


def _run(url: str, servers: MailServers, messages: int, sessions: int, rate: float | None) -> dict[str, Any]:
    smtp = {"host": "127.0.0.1", "port": servers.ports.smtp, "tls": "starttls", "tls_ca_file": str(servers.ca),
            "username": "hub@example.test", "password": PASSWORD, "from_address": "hub@example.test",
            "sessions": sessions, "dsn": False}
    pop3 = {"host": "127.0.0.1", "port": servers.ports.pop3s, "tls": "implicit", "tls_ca_file": str(servers.ca),
            "username": "alice", "password": PASSWORD, "batch_size": 500, "poll_interval_s": 3600}
    _connection(url, SMTP_NAME, "smtp", smtp, enabled=True)
    # the pop3 connection is only a row (for its UIDLs): this process fetches, not the hub
    pop3_id = _connection(url, POP3_NAME, "pop3", pop3, enabled=False)
    tag = f"bench-email-{uuid.uuid4().hex[:8]}"
    pattern = f"{tag}-%"
    hub = start_hub(url, SMTP_NAME)
    try:
        with connect(url, autocommit=True) as conn:
            # flat out: a backlog in batches of rows; with a rate: one row at a time, paced
            batch = 1 if rate else INSERT_BATCH
            t0 = time.perf_counter()
            for first in range(0, messages, batch):
                if rate:
                    delay = t0 + first / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                conn.execute(BENCH_EMAIL_QUERIES["insert"], {
                    "recipient": "alice@example.test", "connection": SMTP_NAME, "tag": tag,
                    "first": first, "last": min(first + batch, messages) - 1})

            def accepted() -> dict[str, Any] | None:
                row = conn.execute(BENCH_EMAIL_QUERIES["accepted"], {"pattern": pattern}).fetchone()
                failed = conn.execute(BENCH_EMAIL_QUERIES["failed"], {"pattern": pattern}).fetchone()
                if failed and failed["n"]:
                    raise RuntimeError(f"{failed['n']} mails failed: {failed['reason']}")
                return row if row and row["n"] >= messages else None

            sent = _wait(accepted, "the server to accept every mail")
    finally:
        hub.terminate()
        hub.wait(timeout=60)
        _connection(url, SMTP_NAME, "smtp", {}, enabled=False)
    _wait(lambda: servers.queue_empty() and servers.maildir_count("alice") >= messages, "Postfix to deliver")
    started = time.monotonic()
    summary = asyncio.run(_fetch(url, pop3_id, validate_config(POP3_SETTINGS, pop3)))
    fetch_s = time.monotonic() - started
    send_s = (sent["last_accept"] - sent["first_insert"]).total_seconds()
    return {
        "messages": messages,
        "send": {"sessions": sessions, "offered_rate_per_s": rate, "seconds": round(send_s, 3),
                 "throughput_per_s": round(messages / send_s, 1) if send_s > 0 else None,
                 "p50_ms": round(float(sent["p50_ms"]), 1), "p99_ms": round(float(sent["p99_ms"]), 1)},
        "fetch": {"stored": summary.stored, "seconds": round(fetch_s, 3),
                  "throughput_per_s": round(summary.stored / fetch_s, 1) if fetch_s > 0 else None},
        "machine": machine(),
    }
