"""Benchmarks that print JSON (never timed assertions in the test suite).

They write real rows (tagged with correlation ids "bench-...") into the
configured database: run them on a database of their own, e.g.
MSGHUB_DATA_DIR=./var/bench (as `make bench` does).

bench_outbox: rows inserted into hub.outbox, sent through a loopback
connection by a real hub process (`msghub run --only connectors`); latency is
from each insert's commit to its "sent" status. In the same run it measures
the raw rate of single-row inserts into a plain table, so the ratio can be
compared across machines.

bench_stats: fills hub.messages with N rows over D days and times the
day-by-connection statistics query.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from msghub.hub.connections import add_connection, edit_connection
from msghub.hub.db import connect
from msghub.hub.queries import QUERIES

BENCH_CONNECTION = "bench-loopback"
HUB_START_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 300.0
RAW_INSERTS = 3000


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ensure_bench_connection(url: str) -> None:
    settings = {"delay_ms": 0, "echo": False, "delivery_reports": False, "window": 200}
    with connect(url) as conn:
        if conn.execute(QUERIES["connection_by_name"], {"name": BENCH_CONNECTION}).fetchone():
            edit_connection(conn, BENCH_CONNECTION, settings, enabled=True)
        else:
            add_connection(conn, BENCH_CONNECTION, "loopback", settings)
        conn.commit()


def _start_hub(url: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, MSGHUB_DATABASE_URL=url, MSGHUB_LOG_LEVEL="WARNING",
               MSGHUB_NODE_NAME=f"bench-{uuid.uuid4().hex[:6]}")
    proc = subprocess.Popen([sys.executable, "-m", "msghub.hub.cli", "run", "--only", "connectors,scheduler"],
                            env=env)
    deadline = time.monotonic() + HUB_START_TIMEOUT_S
    with connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(QUERIES["connection_by_name"], {"name": BENCH_CONNECTION}).fetchone()
            if row and row["state"] == "up":
                return proc
            if proc.poll() is not None:
                raise RuntimeError("the hub process exited during start-up")
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the bench connection did not come up")


def _insert_rows(url: str, tag: str, indices: list[int], rate: float | None, t0: float, batch: int,
                 commits: dict[int, float]) -> None:
    """Inserts the rows `batch` at a time, one transaction each."""
    with connect(url, autocommit=True) as conn:
        for start in range(0, len(indices), batch):
            chunk = indices[start:start + batch]
            if rate:
                delay = t0 + chunk[0] / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            conn.execute(QUERIES["bench_insert"], {
                "recipients": [f"+1555{i % 10_000_000:07d}" for i in chunk],
                "texts": [f"bench message {i}" for i in chunk],
                "connection": BENCH_CONNECTION,
                "correlation_ids": [f"{tag}-{i}" for i in chunk]})
            committed = time.time()
            for i in chunk:
                commits[i] = committed


def _raw_insert_rate(url: str, concurrency: int) -> float:
    with connect(url, autocommit=True) as conn:
        conn.execute(QUERIES["bench_raw_create"])
    per_thread = RAW_INSERTS // concurrency

    def work() -> None:
        with connect(url, autocommit=True) as conn:
            for i in range(per_thread):
                conn.execute(QUERIES["bench_raw_insert"], {"payload": f"raw {i}"})

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    with connect(url, autocommit=True) as conn:
        conn.execute(QUERIES["bench_raw_drop"])
    return per_thread * concurrency / elapsed


def bench_outbox(url: str, *, messages: int, rate: float | None, concurrency: int,
                 batch: int = 1) -> dict[str, Any]:
    _ensure_bench_connection(url)
    tag = f"bench-{uuid.uuid4().hex[:8]}"
    hub = _start_hub(url)
    try:
        commits: dict[int, float] = {}
        # a paced run uses one inserting connection; a flat-out run several
        workers = 1 if rate else max(1, concurrency)
        t0 = time.perf_counter()
        wall0 = time.time()
        # worker w takes batches w, w + workers, ...: rows stay in order
        shares: list[list[int]] = [[] for _ in range(workers)]
        for i in range(messages):
            shares[(i // batch) % workers].append(i)
        threads = [threading.Thread(target=_insert_rows, args=(url, tag, share, rate, t0, batch, commits))
                   for share in shares]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        insert_s = time.perf_counter() - t0
        sent = _wait_sent(url, tag, messages)
    finally:
        hub.terminate()
        hub.wait(timeout=30)
    latencies = [(sent[f"{tag}-{i}"] - commits[i]) * 1000 for i in range(messages) if f"{tag}-{i}" in sent]
    last_sent = max(sent.values()) if sent else wall0
    raw = _raw_insert_rate(url, 1 if rate else concurrency)
    throughput = len(sent) / (last_sent - wall0) if sent else 0.0
    return {
        "benchmark": "outbox",
        "messages": messages,
        "sent": len(sent),
        "offered_rate_per_s": rate,
        "rows_per_insert": batch,
        "inserting_connections": 1 if rate else max(1, concurrency),
        "insert_rate_per_s": round(messages / insert_s, 1),
        "throughput_per_s": round(throughput, 1),
        "p50_ms": round(_percentile(latencies, 0.50), 2) if latencies else None,
        "p99_ms": round(_percentile(latencies, 0.99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "raw_insert_per_s": round(raw, 1),
        "throughput_to_raw": round(throughput / raw, 3) if raw else None,
        "machine": machine(),
    }


def _wait_sent(url: str, tag: str, messages: int) -> dict[str, float]:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    with connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(QUERIES["bench_sent_times"], {"pattern": f"{tag}-%"}).fetchall()
            if len(rows) >= messages:
                return {r["correlation_id"]: r["sent_at"].timestamp() for r in rows}
            time.sleep(0.2)
        rows = conn.execute(QUERIES["bench_sent_times"], {"pattern": f"{tag}-%"}).fetchall()
    return {r["correlation_id"]: r["sent_at"].timestamp() for r in rows}


def bench_stats(url: str, *, messages: int, days: int) -> dict[str, Any]:
    with connect(url, autocommit=True) as conn:
        conn.execute(QUERIES["bench_stats_connections"])
        t0 = time.perf_counter()
        conn.execute(QUERIES["bench_stats_fill"], {"messages": messages, "days": days})
        fill_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute(QUERIES["stats_rollup"])
        rollup_s = time.perf_counter() - t0
        timings = []
        rows: list[Any] = []
        for _ in range(20):
            t0 = time.perf_counter()
            rows = conn.execute(QUERIES["bench_stats_query"], {"days": days}).fetchall()
            timings.append((time.perf_counter() - t0) * 1000)
        total = conn.execute(QUERIES["bench_stats_total"]).fetchone()
    return {
        "benchmark": "stats",
        "messages": messages,
        "messages_in_database": total["messages"] if total else None,
        "fill_s": round(fill_s, 1),
        "rollup_s": round(rollup_s, 2),
        "query": "messages per day and connection over the whole period (hub.stats_by_connection_day)",
        "result_rows": len(rows),
        "p50_ms": round(_percentile(timings, 0.5), 2),
        "max_ms": round(max(timings), 2),
        "machine": machine(),
    }

