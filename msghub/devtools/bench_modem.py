"""`msghub bench modem --messages N --devices D`: outbox rows sent through D
simulated modems (msghub.devtools.modem, pseudo-terminals served by threads
of this process) by a real hub process over one pooled `modem` connection.

Figures:
- throughput_per_s: messages sent per second, first insert to last "sent";
- p50_ms / p99_ms: each row's commit into hub.outbox to its "sent" status
  (with a backlog this is mostly waiting in the queue);
- hub_overhead_ms: the hub's own time per message on top of the device's:
  under a backlog a device accepts one message after the other, so the gap
  between two accepts of one device is the hub's time (claim, PDU encoding,
  the AT+CMGS exchange over the pty, recording) plus the device's own answer
  time (send_delay_ms); the median gap minus send_delay_ms is the overhead.
  It includes the simulator's own parsing, so it is an upper bound.
- connector_only_ms_per_message: the same exchange without the database:
  the connector's send() against one simulated device, one after the other
  (encoding, AT+CMGS over the pty, the simulator's answer).
- hub_cpu_ms_per_message: CPU time of the hub process per message while it
  sends (start-up excluded): its own cost, whatever the machine's load.
A real modem answers AT+CMGS in 2 to 10 s (6 to 30 SMS a minute); the hub's
cost per message must stay under 5 ms. Figures are for this machine as it
is: a busy machine gives slower ones.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import resource
import statistics
import time
import uuid
from typing import Any

from msghub.devtools.benchkit import insert_all, machine, percentile, start_hub, wait_sent
from msghub.hub.db import connect
from msghub.services.blocking import call
from msghub.services.connections import ensure_connection, get_connection, set_enabled
from msghub.services.tx import SYSTEM

BENCH_CONNECTION = "bench-modem"
INSERT_BATCH = 100


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _ensure_connection(url: str, ports: list[str]) -> None:
    settings = {"port": ",".join(ports), "sweep": False, "status_interval_s": 3600}
    with connect(url) as conn:
        call(conn, ensure_connection, SYSTEM, BENCH_CONNECTION, "modem", settings)
        conn.commit()


def _disable_connection(url: str) -> None:
    # the simulated devices are gone after the run: a later hub should not open them
    with connect(url) as conn:
        call(conn, set_enabled, SYSTEM, call(conn, get_connection, BENCH_CONNECTION), False)
        conn.commit()


def _process_cpu_s(pid: int) -> float | None:
    """CPU seconds a running process has used (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _gaps_ms(accepted: list[float]) -> list[float]:
    ordered = sorted(accepted)
    return [(b - a) * 1000 for a, b in itertools.pairwise(ordered)]


async def _connector_only(messages: int) -> float:
    """Milliseconds per message of the connector alone (no database): send()
    after send() against one simulated device that answers at once."""
    from msghub.connectors.base import OutboundMessage
    from msghub.connectors.memory import MemoryHub
    from msghub.connectors.modem.connector import ModemConnector
    from msghub.connectors.settings import validate_config
    from msghub.devtools.modem import ModemSimulator

    with ModemSimulator("generic") as sim:
        config = validate_config(ModemConnector.settings, {"port": sim.path, "sweep": False})
        connector = ModemConnector(BENCH_CONNECTION, config, MemoryHub())
        await connector.open()
        try:
            start = time.perf_counter()
            for i in range(messages):
                await connector.send(OutboundMessage(id=i, attempt=1, channel="sms", recipient=f"+1555{i:07d}",
                                                     sender=None, subject=None, text=f"bench message {i}"))
            return (time.perf_counter() - start) * 1000 / max(1, messages)
        finally:
            await connector.close()


def bench_modem(db_url: str, messages: int, devices: int, send_delay_s: float = 0.0) -> dict[str, Any]:
    from msghub.devtools.modem import ModemSimulator

    tag = f"bench-modem-{uuid.uuid4().hex[:8]}"
    commits: dict[int, float] = {}
    sims = [ModemSimulator("generic", send_delay_s=send_delay_s, imei=f"35{i:013d}") for i in range(devices)]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    try:
        ports = [sim.start() for sim in sims]
        _ensure_connection(db_url, ports)
        try:
            hub = start_hub(db_url, BENCH_CONNECTION)
            try:
                cpu0 = _process_cpu_s(hub.pid)
                t0 = time.perf_counter()
                wall0 = time.time()
                insert_all(db_url, BENCH_CONNECTION, tag, messages, None, INSERT_BATCH, 1, t0, commits)
                sent = wait_sent(db_url, tag, messages)
                cpu1 = _process_cpu_s(hub.pid)
            finally:
                hub.terminate()
                hub.wait(timeout=30)
        finally:
            _disable_connection(db_url)
        per_device = [[s.at.timestamp() for s in sim.sent] for sim in sims]
    finally:
        for sim in sims:
            sim.stop()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    connector_ms = asyncio.run(_connector_only(min(messages, 500)))
    latencies = [(sent[f"{tag}-{i}"] - commits[i]) * 1000 for i in range(messages) if f"{tag}-{i}" in sent]
    last_sent = max(sent.values()) if sent else wall0
    throughput = len(sent) / (last_sent - wall0) if sent and last_sent > wall0 else 0.0
    # the first accepts of each device include the hub's start of work: skip a few
    gaps = [g for accepted in per_device for g in _gaps_ms(accepted)[3:]]
    cycle = statistics.median(gaps) if gaps else None
    return {
        "benchmark": "modem",
        "messages": messages,
        "devices": devices,
        "sent": len(sent),
        "per_device": [len(a) for a in per_device],
        "send_delay_ms": round(send_delay_s * 1000, 1),
        "throughput_per_s": round(throughput, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
        "device_cycle_p50_ms": round(cycle, 2) if cycle is not None else None,
        "hub_overhead_ms": round(cycle - send_delay_s * 1000, 2) if cycle is not None else None,
        "connector_only_ms_per_message": round(connector_ms, 2),
        "hub_cpu_s": round(_cpu(children) - _cpu(children_before), 2),
        # from the first insert to the last "sent": the hub's start-up not counted
        "hub_cpu_ms_per_message": round((cpu1 - cpu0) * 1000 / max(1, len(sent)), 2)
        if cpu0 is not None and cpu1 is not None else None,
        "bench_process_cpu_s": round(_cpu(own) - _cpu(own_before), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
    }
