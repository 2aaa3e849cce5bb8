"""`msghub bench emi`: outbox rows sent over EMI to the SMSC simulator.

The simulator runs in this process (on a thread of its own, loopback only),
acknowledging every submit at once and sending no delivery reports. An
`emi` connection (bench-emi) points at it, a real hub process
(`msghub run --only connectors,scheduler`) sends, and N rows are inserted
into hub.outbox. Latency is from each insert's commit to the message's
"sent" status, which the hub records once the submit was acknowledged.
The figures are for this machine as it is: a busy machine gives slower ones.

Also runnable as `python -m msghub.devtools.bench_emi --messages N --window W [--rate R]`.
"""

from __future__ import annotations

import os
import resource
import uuid
from typing import Any

from msghub.devtools.benchkit import latency_figures, machine, timed_run
from msghub.devtools.emi.simulator import SimulatorConfig
from msghub.devtools.emi.simulator_thread import SimulatorThread
from msghub.hub.db import connect
from msghub.services.blocking import call
from msghub.services.connections import ensure_connection, get_connection, set_enabled
from msghub.services.tx import SYSTEM

BENCH_CONNECTION = "bench-emi"
BENCH_ACCOUNT = ("bench", "bench")
FLAT_OUT_BATCH = 100  # rows per insert when not paced, so inserting is not what is measured
FLAT_OUT_INSERTERS = 2


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _ensure_connection(url: str, port: int, window: int) -> None:
    settings = {"host": "127.0.0.1", "port": port, "username": BENCH_ACCOUNT[0], "password": BENCH_ACCOUNT[1],
                "window": window}
    with connect(url) as conn:
        call(conn, ensure_connection, SYSTEM, BENCH_CONNECTION, "emi", settings)
        conn.commit()


def _disable_connection(url: str) -> None:
    # the simulator is gone after the run: a later hub should not dial it
    with connect(url) as conn:
        call(conn, set_enabled, SYSTEM, call(conn, get_connection, BENCH_CONNECTION), False)
        conn.commit()


def bench_emi(db_url: str, messages: int, window: int, rate: float | None = None) -> dict[str, Any]:
    """Runs the benchmark (see the module docstring) and returns its figures."""
    config = SimulatorConfig(accounts=dict([BENCH_ACCOUNT]), ack_delay_s=0.0, dr_delay_s=0.0,
                             history_limit=max(1000, messages))
    tag = f"bench-emi-{uuid.uuid4().hex[:8]}"
    batch = 1 if rate else FLAT_OUT_BATCH
    inserters = 1 if rate else FLAT_OUT_INSERTERS
    # CPU seconds, to read the figures on a shared machine: the hub process
    # (children), and this one (the simulator and the inserting threads)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    with SimulatorThread(config) as smsc:
        _ensure_connection(db_url, smsc.port, window)
        try:
            run = timed_run(db_url, BENCH_CONNECTION, tag, messages, rate, batch, inserters)
        finally:
            _disable_connection(db_url)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = resource.getrusage(resource.RUSAGE_SELF)
        acknowledged = smsc.call(lambda sim: len(sim.submits))
        max_outstanding = smsc.call(lambda sim: sim.max_outstanding)
    sent, insert_s = run.sent, run.insert_s
    latencies = run.latencies_ms(tag, messages)
    throughput = run.throughput_per_s()
    return {
        "benchmark": "emi",
        "messages": messages,
        "sent": len(sent),
        "submits_acknowledged": acknowledged,
        "window": window,
        "offered_rate_per_s": rate,
        "rows_per_insert": batch,
        "insert_rate_per_s": round(messages / insert_s, 1),
        "throughput_per_s": round(throughput, 1),
        **latency_figures(latencies),
        "simulator_max_outstanding": max_outstanding,
        "hub_cpu_s": round(_cpu(children) - _cpu(children_before), 2),
        "bench_process_cpu_s": round(_cpu(own) - _cpu(own_before), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
    }
