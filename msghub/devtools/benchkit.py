"""Helpers shared by the benchmarks that drive a real hub process: start it,
insert outbox rows (paced or flat out), wait for them to be sent, summarise.

Latency is measured from each insert's commit to its "sent" status in
hub.message_status_log (the moment the far side acknowledged the submit).
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
from dataclasses import dataclass
from typing import Any

from msghub.hub.db import connect
from msghub.hub.queries import QUERIES

HUB_START_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 300.0
SENT_POLL_S = 1.0


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_hub(url: str, connection: str | None, roles: str = "connectors,scheduler") -> subprocess.Popen[bytes]:
    """`msghub run --only ROLES`, returned once `connection` is up (or, with
    no connection to wait for, once the process has survived its start)."""
    env = dict(os.environ, MSGHUB_DATABASE_URL=url, MSGHUB_LOG_LEVEL="WARNING",
               MSGHUB_NODE_NAME=f"bench-{uuid.uuid4().hex[:6]}")
    # MSGHUB_BENCH_PROFILE=file runs the hub under cProfile (its main thread,
    # where the event loop runs); the stats are written when it stops on SIGTERM
    profile = os.environ.get("MSGHUB_BENCH_PROFILE")
    python = [sys.executable, "-m", "cProfile", "-o", profile] if profile else [sys.executable]
    # its start-up lines go to stderr: standard output carries only the JSON
    proc = subprocess.Popen([*python, "-m", "msghub.app.cli", "run", "--only", roles],
                            env=env, stdout=sys.stderr)
    if connection is None:
        time.sleep(0.5)
        if proc.poll() is not None:
            raise RuntimeError("the hub process exited during start-up")
        return proc
    deadline = time.monotonic() + HUB_START_TIMEOUT_S
    with connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(QUERIES["connection_by_name"], {"name": connection}).fetchone()
            if row and row["state"] == "up":
                return proc
            if proc.poll() is not None:
                raise RuntimeError("the hub process exited during start-up")
            time.sleep(0.1)
    proc.terminate()
    proc.wait(timeout=30)
    raise RuntimeError(f"the bench connection {connection} did not come up")


def peak_rss_mb(proc: subprocess.Popen[bytes]) -> float | None:
    """The process's peak resident memory so far (Linux: VmHWM), in MiB."""
    try:
        with open(f"/proc/{proc.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def insert_rows(url: str, connection: str, tag: str, indices: list[int], rate: float | None, t0: float,
                batch: int, commits: dict[int, float]) -> None:
    """Inserts the rows into hub.outbox `batch` at a time, one transaction each,
    at `rate` rows per second from t0 if given; commits[i] is each row's
    commit time (wall clock)."""
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
                "connection": connection,
                "correlation_ids": [f"{tag}-{i}" for i in chunk]})
            committed = time.time()
            for i in chunk:
                commits[i] = committed


def insert_all(url: str, connection: str, tag: str, messages: int, rate: float | None, batch: int,
               inserters: int, t0: float, commits: dict[int, float]) -> None:
    """Inserts rows 0..messages-1 from `inserters` threads, `batch` rows per
    insert; inserter w takes batches w, w + inserters, ...: rows stay in order."""
    shares: list[list[int]] = [[] for _ in range(inserters)]
    for i in range(messages):
        shares[(i // batch) % inserters].append(i)
    threads = [threading.Thread(target=insert_rows, args=(url, connection, tag, share, rate, t0, batch, commits))
               for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def wait_sent(url: str, tag: str, messages: int) -> dict[str, float]:
    """correlation_id -> time it was sent, once all are (or the drain timeout)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    with connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(QUERIES["bench_sent_times"], {"pattern": f"{tag}-%"}).fetchall()
            if len(rows) >= messages:
                return {r["correlation_id"]: r["sent_at"].timestamp() for r in rows}
            # the times come from the status log, so how often this looks
            # changes no figure; looking often would: each look reads every
            # row of the run (measured: 7.5 s of the database's 2 cores in a
            # 30 s run when looking every 0.2 s)
            time.sleep(SENT_POLL_S)
        rows = conn.execute(QUERIES["bench_sent_times"], {"pattern": f"{tag}-%"}).fetchall()
    return {r["correlation_id"]: r["sent_at"].timestamp() for r in rows}


@dataclass(frozen=True)
class TimedRun:
    """One run through a hub process: when it started, how long inserting
    took, each row's commit time and each message's sent time."""

    wall0: float
    insert_s: float
    commits: dict[int, float]
    sent: dict[str, float]

    def latencies_ms(self, tag: str, messages: int) -> list[float]:
        return [(self.sent[f"{tag}-{i}"] - self.commits[i]) * 1000 for i in range(messages)
                if f"{tag}-{i}" in self.sent]

    def throughput_per_s(self) -> float:
        last_sent = max(self.sent.values()) if self.sent else self.wall0
        return len(self.sent) / (last_sent - self.wall0) if self.sent and last_sent > self.wall0 else 0.0


def latency_figures(latencies: list[float]) -> dict[str, float | None]:
    """p50, p99, max and mean of latencies in milliseconds, as the benchmarks print them."""
    if not latencies:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    return {"p50_ms": round(percentile(latencies, 0.50), 2), "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(max(latencies), 2), "mean_ms": round(statistics.fmean(latencies), 2)}


def timed_run(url: str, connection: str, tag: str, messages: int, rate: float | None, batch: int,
              inserters: int) -> TimedRun:
    """Starts a hub process, inserts the rows, waits until they are sent, stops the hub."""
    hub = start_hub(url, connection)
    try:
        commits: dict[int, float] = {}
        t0 = time.perf_counter()
        wall0 = time.time()
        insert_all(url, connection, tag, messages, rate, batch, inserters, t0, commits)
        insert_s = time.perf_counter() - t0
        sent = wait_sent(url, tag, messages)
    finally:
        hub.terminate()
        hub.wait(timeout=30)
    return TimedRun(wall0, insert_s, commits, sent)
