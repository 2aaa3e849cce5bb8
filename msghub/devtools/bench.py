"""Benchmarks that print JSON (never timed assertions in the test suite).

They write real rows (tagged with correlation ids "bench-...") into the
configured database: run them on a database of their own, e.g.
MSGHUB_DATA_DIR=./var/bench (as `make bench` does).

bench_outbox: rows inserted into hub.outbox, sent through a loopback
connection by a real hub process (`msghub run --only connectors`); latency is
from each insert's commit to its "sent" status. In the same run it measures
the raw rate of single-row inserts into a plain table, so the ratio can be
compared across machines. --fill N first adds N finished messages, to
compare the latency on full tables with that on an empty database.

bench_stats: fills hub.messages with N priced rows over D days and times the
day-by-connection statistics query and the cost queries (p50, p99, max).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from msghub.devtools.benchkit import latency_figures, machine, percentile, timed_run
from msghub.devtools.queries import BENCH_QUERIES
from msghub.hub.db import connect
from msghub.hub.queries import QUERIES
from msghub.services.blocking import call
from msghub.services.connections import ensure_connection
from msghub.services.tx import SYSTEM

BENCH_CONNECTION = "bench-loopback"
RAW_INSERTS = 3000


def _ensure_bench_connection(url: str) -> None:
    settings = {"delay_ms": 0, "echo": False, "delivery_reports": False, "window": 200}
    with connect(url) as conn:
        call(conn, ensure_connection, SYSTEM, BENCH_CONNECTION, "loopback", settings)
        conn.commit()


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


def _fill(url: str, messages: int) -> float:
    """Adds `messages` finished messages (delivered, failed, received; over
    30 days, on ten other connections) through the real triggers, so that
    hub.messages, its status log and change feed are that much fuller;
    returns the seconds it took."""
    with connect(url, autocommit=True) as conn:
        t0 = time.perf_counter()
        conn.execute(QUERIES["bench_stats_connections"])
        conn.execute(QUERIES["bench_stats_fill"], {"messages": messages, "days": 30})
        conn.execute(QUERIES["bench_fill_analyze"])
        return time.perf_counter() - t0


def bench_outbox(url: str, *, messages: int, rate: float | None, concurrency: int,
                 batch: int = 1, fill: int = 0) -> dict[str, Any]:
    fill_s = _fill(url, fill) if fill > 0 else None
    _ensure_bench_connection(url)
    tag = f"bench-{uuid.uuid4().hex[:8]}"
    # a paced run uses one inserting connection; a flat-out run several
    run = timed_run(url, BENCH_CONNECTION, tag, messages, rate, batch, 1 if rate else max(1, concurrency))
    sent, insert_s = run.sent, run.insert_s
    latencies = run.latencies_ms(tag, messages)
    raw = _raw_insert_rate(url, 1 if rate else concurrency)
    throughput = run.throughput_per_s()
    return {
        "benchmark": "outbox",
        "messages": messages,
        "sent": len(sent),
        "offered_rate_per_s": rate,
        "rows_per_insert": batch,
        "inserting_connections": 1 if rate else max(1, concurrency),
        "filled_messages": fill,
        "fill_s": round(fill_s, 1) if fill_s is not None else None,
        "messages_in_database": _messages_in_database(url),
        "insert_rate_per_s": round(messages / insert_s, 1),
        "throughput_per_s": round(throughput, 1),
        **latency_figures(latencies),
        "raw_insert_per_s": round(raw, 1),
        "throughput_to_raw": round(throughput / raw, 3) if raw else None,
        "machine": machine(),
    }


def _messages_in_database(url: str) -> int | None:
    with connect(url, autocommit=True) as conn:
        row = conn.execute(QUERIES["bench_stats_total"]).fetchone()
    return int(row["messages"]) if row else None


STATS_QUERY_RUNS = 50

COST_QUERIES = {
    "bench_cost_by_connection_day": "cost per day and connection over the whole period (hub.stats_costs)",
    "bench_cost_invoice": "this month's invoice per group (sql_examples/cost_invoice_by_group.sql)",
    "bench_cost_top_destinations": "the ten most expensive destinations (sql_examples/cost_top_destinations.sql)",
}


def _time_query(conn: Any, query: str, params: dict[str, Any]) -> dict[str, Any]:
    timings = []
    rows: list[Any] = []
    for _ in range(STATS_QUERY_RUNS):
        t0 = time.perf_counter()
        rows = conn.execute(query, params).fetchall()
        timings.append((time.perf_counter() - t0) * 1000)
    return {"result_rows": len(rows), "p50_ms": round(percentile(timings, 0.5), 2),
            "p99_ms": round(percentile(timings, 0.99), 2), "max_ms": round(max(timings), 2)}


def bench_stats(url: str, *, messages: int, days: int) -> dict[str, Any]:
    """The message and cost statistics at volume: the rows are priced (as
    tariffs would price them), so the cost views have as much to add up."""
    with connect(url, autocommit=True) as conn:
        conn.execute(QUERIES["bench_stats_connections"])
        conn.execute(QUERIES["bench_stats_groups"])
        t0 = time.perf_counter()
        conn.execute(QUERIES["bench_stats_fill"], {"messages": messages, "days": days})
        fill_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute(QUERIES["stats_rollup"])
        conn.execute(QUERIES["cost_rollup"])
        rollup_s = time.perf_counter() - t0
        counts = _time_query(conn, QUERIES["bench_stats_query"], {"days": days})
        costs = [{"query": what, **_time_query(conn, BENCH_QUERIES[name], {"days": days})}
                 for name, what in COST_QUERIES.items()]
        total = conn.execute(QUERIES["bench_stats_total"]).fetchone()
    return {
        "benchmark": "stats",
        "messages": messages,
        "days": days,
        "messages_in_database": total["messages"] if total else None,
        "fill_s": round(fill_s, 1),
        "rollup_s": round(rollup_s, 2),
        "query": "messages per day and connection over the whole period (hub.stats_by_connection_day)",
        **counts,
        "cost_queries": costs,
        "machine": machine(),
    }



def bench_rls(url: str, *, messages: int, runs: int = 300) -> dict[str, Any]:
    """The inbox query of one user under row-level security, against the
    same query with the same filter written out, run by the table owner
    (whom the policies do not apply to). Both must return the same rows."""
    with connect(url, autocommit=True) as conn:
        t0 = time.perf_counter()
        conn.execute(QUERIES["bench_rls_fill"], {"messages": messages})
        conn.execute(QUERIES["bench_rls_analyze"])
        fill_s = time.perf_counter() - t0
        user = conn.execute(QUERIES["bench_rls_user"]).fetchone()
        assert user is not None
        explicit = {"user_id": user["id"], "groups": user["groups"]}
        with_rls = connect(url, autocommit=True)
        with with_rls:
            with_rls.execute(QUERIES["bench_rls_as_hub"])
            with_rls.execute(QUERIES["bench_rls_as_user"], {"user_id": str(user["id"])})
            same = (with_rls.execute(QUERIES["bench_rls_inbox"]).fetchall()
                    == conn.execute(QUERIES["bench_rls_inbox_explicit"], explicit).fetchall())
            timings: dict[str, list[float]] = {"policies": [], "explicit": []}
            for _ in range(runs):  # interleaved, so both see the same machine
                t0 = time.perf_counter()
                with_rls.execute(QUERIES["bench_rls_inbox"]).fetchall()
                timings["policies"].append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                conn.execute(QUERIES["bench_rls_inbox_explicit"], explicit).fetchall()
                timings["explicit"].append((time.perf_counter() - t0) * 1000)
    p99 = {k: percentile(v, 0.99) for k, v in timings.items()}
    return {
        "benchmark": "rls",
        "messages": messages,
        "fill_s": round(fill_s, 1),
        "same_rows": same,
        "runs": runs,
        "p50_ms_policies": round(percentile(timings["policies"], 0.5), 3),
        "p50_ms_without": round(percentile(timings["explicit"], 0.5), 3),
        "p99_ms_policies": round(p99["policies"], 3),
        "p99_ms_without": round(p99["explicit"], 3),
        "p99_ratio": round(p99["policies"] / p99["explicit"], 3),
        "machine": machine(),
    }
