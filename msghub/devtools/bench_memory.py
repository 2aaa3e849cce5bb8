"""`msghub bench memory --queued N`: the hub's resident memory with N
messages queued.

N messages are queued at once (one INSERT into hub.messages, through the
real triggers) for a loopback connection of their own, a real hub process
(`msghub run --only connectors,scheduler`) starts sending them, and its
resident memory is sampled every second for --seconds. The connection is
disabled afterwards, so the rest stays queued and a later hub leaves it
alone: run this on a database of its own.
"""

from __future__ import annotations

import time
from typing import Any

from msghub.devtools.benchkit import machine, peak_rss_mb, start_hub
from msghub.hub.db import connect
from msghub.hub.queries import QUERIES
from msghub.services.blocking import call
from msghub.services.connections import ensure_connection, get_connection, set_enabled
from msghub.services.tx import SYSTEM

BENCH_CONNECTION = "bench-memory"


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def bench_memory(url: str, *, queued: int, seconds: float) -> dict[str, Any]:
    settings = {"delay_ms": 0, "echo": False, "delivery_reports": False, "window": 200}
    with connect(url) as conn:
        call(conn, ensure_connection, SYSTEM, BENCH_CONNECTION, "loopback", settings)
        conn.commit()
    with connect(url, autocommit=True) as conn:
        t0 = time.perf_counter()
        conn.execute(QUERIES["bench_memory_fill"], {"messages": queued, "connection": BENCH_CONNECTION})
        fill_s = time.perf_counter() - t0
    samples: list[float] = []
    hub = start_hub(url, BENCH_CONNECTION)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and hub.poll() is None:
            rss = _rss_mb(hub.pid)
            if rss is not None:
                samples.append(rss)
            time.sleep(1.0)
        peak = peak_rss_mb(hub)
    finally:
        hub.terminate()
        hub.wait(timeout=30)
        with connect(url) as conn:
            call(conn, set_enabled, SYSTEM, call(conn, get_connection, BENCH_CONNECTION), False)
            conn.commit()
    with connect(url, autocommit=True) as conn:
        row = conn.execute(QUERIES["bench_memory_counts"], {"connection": BENCH_CONNECTION}).fetchone()
    return {
        "benchmark": "memory",
        "queued": queued,
        "fill_s": round(fill_s, 1),
        "seconds": seconds,
        "sent_meanwhile": row["sent"] if row else None,
        "still_queued": row["queued"] if row else None,
        "hub_rss_mb_first": samples[0] if samples else None,
        "hub_rss_mb_last": samples[-1] if samples else None,
        "hub_peak_rss_mb": peak,
        "machine": machine(),
    }
