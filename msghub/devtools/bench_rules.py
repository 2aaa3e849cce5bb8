"""`msghub bench rules`: SMS votes in, a poll rule counts each and replies.

Votes arrive through hub.receive_message_v1 on a loopback connection, the
same statement a connector's inbound path runs. A hub process with only the
"rules" role runs the poll's rule; each vote's latency runs from its insert
to its event being done (in the transaction that queued the reply).

With --rate, votes are offered at that rate while the hub runs (latency
under load). Without it, all votes are queued first and the hub then works
through the backlog (sustained events per second).
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

from msghub.devtools.benchkit import machine, percentile, start_hub
from msghub.hub.db import connect
from msghub.rules.polls import Option, create_poll
from msghub.rules.queries import STORE_QUERIES

DRAIN_TIMEOUT_S = 600.0
BATCH = 100


def bench_rules(url: str, *, messages: int, rate: float | None) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    with connect(url, autocommit=True) as conn:
        conn.execute(STORE_QUERIES["bench_forget_polls"])
        connection_id = conn.execute(STORE_QUERIES["bench_connection"]).fetchone()["id"]  # type: ignore[index]
        create_poll(
            conn,
            f"bench-{tag}",
            "Which one?",
            [Option("A", ("a",)), Option("B", ("b",)), Option("C", ("c",))],
            reply_vote="Thanks for voting {option}!",
            reply_revote="Your vote now goes to {option}.",
        )
        backlog = conn.execute(STORE_QUERIES["bench_pending_events"]).fetchone()["n"]  # type: ignore[index]
        if backlog:
            raise RuntimeError(f"{backlog} events are still pending in this database; bench on a quiet one")
    senders = [f"+9{tag_digits(tag)}{i:07d}" for i in range(messages)]
    texts = [f"vote {'abc'[i % 3]}" for i in range(messages)]
    hub = None
    try:
        if rate:
            hub = start_hub(url, None, roles="rules")
            _warm_up(url, connection_id, tag)
            t0 = time.perf_counter()
            _insert(url, connection_id, senders, texts, rate, t0, batch=1)
        else:
            _insert(url, connection_id, senders, texts, None, time.perf_counter(), batch=BATCH)
            hub = start_hub(url, None, roles="rules")
        rows = _wait_done(url, senders[0][:-7] + "%", messages)
    finally:
        if hub is not None:
            hub.terminate()
            hub.wait(timeout=30)
    with connect(url, autocommit=True) as conn:
        replies = conn.execute(STORE_QUERIES["bench_replies"], {"pattern": f"rule:poll: bench-{tag}:%"}).fetchone()["n"]  # type: ignore[index]
    latencies = [float(r["ms"]) for r in rows]
    done_times = sorted(r["done_at"].timestamp() for r in rows)
    span = done_times[-1] - done_times[0] if len(done_times) > 1 else 0.0
    return {
        "benchmark": "rules",
        "mode": "paced" if rate else "backlog",
        "messages": messages,
        "processed": len(rows),
        "replies_queued": replies,
        "offered_rate_per_s": rate,
        "throughput_per_s": round((len(rows) - 1) / span, 1) if span else None,
        "p50_ms": round(percentile(latencies, 0.50), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "note": None if rate else "backlog mode: latency includes the wait in the queue; use --rate for latency",
        "machine": machine(),
    }


def tag_digits(tag: str) -> str:
    return f"{int(tag, 16) % 10_000:04d}"


def _warm_up(url: str, connection_id: int, tag: str) -> None:
    """One vote through, so start-up (workers, caches) is not measured."""
    sender = f"+8{tag_digits(tag)}0000000"
    _insert(url, connection_id, [sender], ["vote a"], None, time.perf_counter(), batch=1)
    _wait_done(url, sender, 1, timeout_s=60)


def _insert(
    url: str, connection_id: int, senders: list[str], texts: list[str], rate: float | None, t0: float, batch: int
) -> None:
    with connect(url, autocommit=True) as conn:
        for start in range(0, len(senders), batch):
            if rate:
                delay = t0 + start / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            conn.execute(
                STORE_QUERIES["bench_receive"],
                {
                    "connection_id": connection_id,
                    "senders": senders[start : start + batch],
                    "texts": texts[start : start + batch],
                },
            )


def _wait_done(url: str, pattern: str, messages: int, timeout_s: float = DRAIN_TIMEOUT_S) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    with connect(url, autocommit=True) as conn:
        while True:
            rows = conn.execute(STORE_QUERIES["bench_rule_latencies"], {"pattern": pattern}).fetchall()
            if len(rows) >= messages or time.monotonic() > deadline:
                return rows
            time.sleep(0.2)
