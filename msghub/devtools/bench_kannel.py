"""`msghub bench kannel`: msghub and Kannel side by side, against the same
SMSC simulator, in one run.

1. Kannel (Debian's bearerbox and smsbox, when installed; nothing is
   installed here) connects to msghub's SMSC simulator over EMI with a window
   of W, its store in a file; 50 keep-alive HTTP clients send N messages
   through smsbox's sendsms. Kannel's figure runs from the first request to
   the simulator's acknowledgement of the last submit. Kannel is stopped.
2. msghub sends N messages through an `emi` connection with the same window
   to the same simulator (a real hub process, `msghub run --only
   connectors,scheduler`), twice: inserted into hub.outbox one row per
   transaction by 50 clients while the hub runs (throughput from the first
   insert to the last `sent`; latency from each insert's commit to its
   `sent`), and from a backlog (all rows queued first; throughput from the
   first `sent` to the last; the hub's peak resident memory with the
   whole backlog queued).

msghub commits every state change before the next step (queued, sending,
sent are rows in PostgreSQL); Kannel's file store is written behind.
The figures are for this machine as it is: a busy machine gives slower ones.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from msghub.devtools.bench_emi import BENCH_ACCOUNT, BENCH_CONNECTION, _disable_connection, _ensure_connection
from msghub.devtools.benchkit import (
    insert_all,
    latency_figures,
    machine,
    peak_rss_mb,
    start_hub,
    timed_run,
    wait_sent,
)
from msghub.devtools.emi.simulator import SimulatorConfig
from msghub.devtools.emi.simulator_thread import SimulatorThread

CLIENTS = 50
KANNEL_ACCOUNT = ("kannel", "kannel-bench")
SENDSMS_ACCOUNT = ("bench", "bench-pw")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
DRAIN_TIMEOUT_S = 300.0
BACKLOG_BATCH = 100  # rows per insert while queueing the backlog (not what is measured)
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])


class KannelMissing(RuntimeError):
    """bearerbox or smsbox is not installed."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kannel_conf(tmp: Path, smsc_port: int, window: int) -> tuple[str, int, int]:
    """kannel.conf, bearerbox's smsbox port and smsbox's sendsms port. Logs
    at error level and no access logs: per-message log lines would be what
    is measured."""
    admin, box, sendsms = _free_port(), _free_port(), _free_port()
    conf = f"""
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = bench-admin
admin-allow-ip = "127.0.0.1"
smsbox-port = {box}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{tmp}/bearerbox.log"
log-level = 3
store-type = file
store-location = "{tmp}/kannel.store"
dlr-storage = internal

group = smsc
smsc = emi
smsc-id = sim
host = 127.0.0.1
port = {smsc_port}
smsc-username = "{KANNEL_ACCOUNT[0]}"
smsc-password = "{KANNEL_ACCOUNT[1]}"
window = {window}
keepalive = 30
wait-ack = 30

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{tmp}/smsbox.log"
log-level = 3

group = sendsms-user
username = {SENDSMS_ACCOUNT[0]}
password = {SENDSMS_ACCOUNT[1]}
max-messages = 10
"""
    return conf, box, sendsms


def _binaries() -> tuple[str, str]:
    bearerbox, smsbox = (shutil.which(name, path=SBIN_PATH) for name in ("bearerbox", "smsbox"))
    if bearerbox is None or smsbox is None:
        raise KannelMissing("Kannel (bearerbox, smsbox) is not installed: run scripts/install-test-deps")
    return bearerbox, smsbox


def _wait_port(port: int, proc: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with status {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on port {port} within {START_TIMEOUT_S:.0f} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)


async def _sendsms_client(port: int, targets: list[str], failures: list[str]) -> None:
    """One keep-alive HTTP/1.1 connection sending its share of GET /cgi-bin/sendsms."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for target in targets:
            writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode("ascii"))
            head = await reader.readuntil(b"\r\n\r\n")
            status, *headers = head.decode("latin-1").split("\r\n")
            fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in headers if h)}
            await reader.readexactly(int(fields.get("content-length", "0")))
            if not status.split(" ")[1].startswith("2"):
                failures.append(status)
            if fields.get("connection", "").lower() == "close":
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def _send_through_kannel(port: int, tag: str, messages: int) -> list[str]:
    def target(i: int) -> str:
        query = urlencode({"username": SENDSMS_ACCOUNT[0], "password": SENDSMS_ACCOUNT[1],
                           "from": "12345", "to": f"+1555{i % 10_000_000:07d}", "text": f"{tag} message {i}"})
        return f"/cgi-bin/sendsms?{query}"

    failures: list[str] = []
    shares = [[target(i) for i in range(c, messages, CLIENTS)] for c in range(CLIENTS)]
    await asyncio.gather(*(_sendsms_client(port, share, failures) for share in shares if share))
    return failures


def _kannel_submits(smsc: SimulatorThread) -> list[float]:
    return smsc.call(lambda sim: [s.received_at for s in sim.submits if s.username == KANNEL_ACCOUNT[0]])


def run_kannel(smsc: SimulatorThread, messages: int, window: int) -> dict[str, Any]:
    bearerbox, smsbox = _binaries()
    with tempfile.TemporaryDirectory(prefix="msghub-bench-kannel-") as tmp_dir:
        tmp = Path(tmp_dir)
        conf, box_port, sendsms_port = _kannel_conf(tmp, smsc.port, window)
        (tmp / "kannel.conf").write_text(conf)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for name, binary, port in (("bearerbox", bearerbox, box_port), ("smsbox", smsbox, sendsms_port)):
                with (tmp / f"{name}.out").open("wb") as out:
                    procs.append(subprocess.Popen([binary, str(tmp / "kannel.conf")], stdout=out,
                                                  stderr=subprocess.STDOUT))
                _wait_port(port, procs[-1], name)  # smsbox gives up when bearerbox is not listening yet
            smsc.run(lambda sim: sim.wait_for(lambda: any(s.username == KANNEL_ACCOUNT[0] for s in sim.sessions),
                                              timeout=START_TIMEOUT_S), timeout=START_TIMEOUT_S + 5)
            before = len(_kannel_submits(smsc))
            wall0 = time.time()
            failures = asyncio.run(_send_through_kannel(sendsms_port, uuid.uuid4().hex[:8], messages))
            accepted_s = time.time() - wall0
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            submits = _kannel_submits(smsc)[before:]
            while len(submits) < messages - len(failures) and time.monotonic() < deadline:
                time.sleep(0.1)
                submits = _kannel_submits(smsc)[before:]
        finally:
            for proc in reversed(procs):  # smsbox first
                _stop(proc)
    span = (max(submits) - wall0) if submits else 0.0
    return {
        "messages": messages,
        "http_clients": CLIENTS,
        "window": window,
        "accepted_by_sendsms_per_s": round((messages - len(failures)) / accepted_s, 1) if accepted_s else None,
        "refused_by_sendsms": len(failures),
        "submitted": len(submits),
        "throughput_per_s": round(len(submits) / span, 1) if span > 0 else None,
        "store": "file (written behind)",
    }


def run_msghub_clients(db_url: str, messages: int) -> dict[str, Any]:
    tag = f"bench-kannel-{uuid.uuid4().hex[:8]}"
    run = timed_run(db_url, BENCH_CONNECTION, tag, messages, None, 1, CLIENTS)
    return {
        "mode": f"hub.outbox inserts from {CLIENTS} clients, one row per transaction",
        "sent": len(run.sent),
        "insert_rate_per_s": round(messages / run.insert_s, 1),
        "throughput_per_s": round(run.throughput_per_s(), 1),
        **latency_figures(run.latencies_ms(tag, messages)),
    }


def run_msghub_backlog(db_url: str, messages: int) -> dict[str, Any]:
    tag = f"bench-kannel-{uuid.uuid4().hex[:8]}"
    commits: dict[int, float] = {}
    insert_all(db_url, BENCH_CONNECTION, tag, messages, None, BACKLOG_BATCH, 2, time.perf_counter(), commits)
    hub = start_hub(db_url, BENCH_CONNECTION)
    try:
        sent = wait_sent(db_url, tag, messages)
        rss = peak_rss_mb(hub)
    finally:
        hub.terminate()
        hub.wait(timeout=30)
    times = sorted(sent.values())
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "mode": "a backlog queued before the hub starts",
        "sent": len(sent),
        "throughput_per_s": round((len(times) - 1) / span, 1) if span > 0 else None,
        "hub_peak_rss_mb": rss,
    }


def _ratio(ours: Any, theirs: Any) -> float | None:
    return round(ours / theirs, 3) if ours and theirs else None


def bench_kannel(db_url: str, messages: int, window: int) -> dict[str, Any]:
    """Runs the benchmark (see the module docstring) and returns its figures."""
    config = SimulatorConfig(accounts=dict([KANNEL_ACCOUNT, BENCH_ACCOUNT]), ack_delay_s=0.0, dr_delay_s=0.0,
                             window=window, history_limit=max(100_000, 4 * messages))
    with SimulatorThread(config) as smsc:
        try:
            kannel: dict[str, Any] = run_kannel(smsc, messages, window)
        except KannelMissing as exc:
            kannel = {"skipped": str(exc), "throughput_per_s": None}
        _ensure_connection(db_url, smsc.port, window)
        try:
            clients = run_msghub_clients(db_url, messages)
            backlog = run_msghub_backlog(db_url, messages)
        finally:
            _disable_connection(db_url)
    return {
        "benchmark": "kannel",
        "messages": messages,
        "window": window,
        "kannel": kannel,
        "msghub_clients": {**clients, "ratio_to_kannel": _ratio(clients["throughput_per_s"],
                                                                 kannel["throughput_per_s"])},
        "msghub_backlog": {**backlog, "ratio_to_kannel": _ratio(backlog["throughput_per_s"],
                                                                 kannel["throughput_per_s"])},
        "ratio_to_kannel": _ratio(backlog["throughput_per_s"], kannel["throughput_per_s"]),
        "p50_ms": clients["p50_ms"],
        "p99_ms": clients["p99_ms"],
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
    }
