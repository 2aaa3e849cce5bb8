"""`msghub bench chaos`: a hub killed with SIGKILL again and again while
messages are queued through SQL at a steady rate and inbound messages
arrive from the SMSC simulator; then what became of every one.

The simulator runs in this process (its own thread, loopback only) and is
the witness: it records every submit it acknowledged (so a message sent
twice is seen twice) and every inbound message (52) the hub acknowledged.
Each round starts `msghub run --only connectors,scheduler` under a node
name of its own, waits until that node holds the connection, lets it work
for a random moment, and kills it. A last hub then runs until nothing of
the run is queued or sending and every inbound message was acknowledged;
messages a killed node left in `sending` come back through the node
heartbeat's recovery (30 s) flagged `possible_duplicate`.

The summary: `queued` (rows committed to hub.outbox), `sent`, `failed`,
`lost` (queued but not final), `duplicates` (submitted more than once),
`flagged_possible_duplicate` (of those, flagged), `unflagged_duplicates`,
`kills`, and for inbound `inbound_acknowledged`, `inbound_lost` (acknowledged,
not stored) and `inbound_duplicates` (stored more than once).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from msghub.devtools.emi.simulator import SimulatorConfig, SimulatorError, SmscSimulator
from msghub.devtools.emi.simulator_thread import SimulatorThread
from msghub.devtools.queries import CHAOS_QUERIES
from msghub.hub.db import DatabaseError, connect
from msghub.services.blocking import call
from msghub.services.connections import ensure_connection, get_connection, set_enabled
from msghub.services.tx import SYSTEM

CONNECTION = "chaos-emi"
ACCOUNT = ("chaos", "chaos")
TAKE_TIMEOUT_S = 60.0  # a fresh node holds the connection within this, or the round is given up
DRAIN_TIMEOUT_S = 300.0  # the last hub finishes the run within this (recovery alone takes 30-40 s)
POLL_S = 0.1
HUB_NUMBER = "4400"  # the short number handsets write to
RETRY_S = 0.5  # pause of the load after a failed insert
RECOVER_TIMEOUT_S = 120.0  # after a database restart, the hub holds its connection again within this


class _Load:
    """Outbox rows at a steady rate and inbound messages from the simulator,
    each on its own thread until stopped."""

    def __init__(self, url: str, smsc: SimulatorThread, tag: str, rate: float, mo_rate: float) -> None:
        self.url, self.smsc, self.tag = url, smsc, tag
        self.rate, self.mo_rate = rate, mo_rate
        self.queued = 0
        self.injected = 0
        self.errors = 0  # inserts that failed and were tried again
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._outbox, daemon=True),
                        threading.Thread(target=self._inbound, daemon=True)]

    def __enter__(self) -> _Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _outbox(self) -> None:
        # a broken connection (the database restarted) is opened again and the
        # same row tried again: its idempotency key queues it once
        conn: psycopg.Connection[Any] | None = None
        t0 = time.monotonic()
        try:
            while not self.stop.is_set():
                i = self.queued
                delay = t0 + i / self.rate - time.monotonic()
                if delay > 0 and self.stop.wait(delay):
                    return
                try:
                    if conn is None or conn.closed:
                        conn = connect(self.url, autocommit=True)
                    conn.execute(CHAOS_QUERIES["chaos_insert"], {
                        "recipient": f"+4477{i % 10_000_000:07d}", "text": f"chaos {self.tag} {i}",
                        "connection": CONNECTION, "correlation_id": f"{self.tag}-{i}"})
                except (psycopg.Error, DatabaseError):
                    self.errors += 1
                    if conn is not None:
                        conn.close()
                    conn = None
                    self.stop.wait(RETRY_S)
                    continue
                self.queued += 1  # committed: autocommit
        finally:
            if conn is not None:
                conn.close()

    def _inbound(self) -> None:
        while not self.stop.wait(1 / self.mo_rate):
            n = self.injected
            text = f"mo {self.tag} {n}"

            async def inject(sim: SmscSimulator, text: str = text, n: int = n) -> int:
                return await sim.inject_mo(f"+4479{n % 10_000_000:07d}", HUB_NUMBER, text)

            try:
                self.smsc.run(inject)
            except SimulatorError:
                continue  # no hub bound right now: this one was never offered
            self.injected += 1


def _holder(url: str) -> tuple[str, str]:
    with connect(url, autocommit=True) as conn:
        row = conn.execute(CHAOS_QUERIES["chaos_holder"], {"name": CONNECTION}).fetchone()
    return (row["state"], row["node"]) if row else ("", "")


def _start(url: str, node: str, roles: str = "connectors,scheduler", log: Path | None = None,
           **env: str) -> subprocess.Popen[bytes]:
    full_env = {**os.environ, "MSGHUB_DATABASE_URL": url, "MSGHUB_LOG_LEVEL": "ERROR", "MSGHUB_NODE_NAME": node,
                "MSGHUB_POLL_INTERVAL_S": "0.5", **env}
    command = [sys.executable, "-m", "msghub.app.cli", "run", "--only", roles]
    if log is None:
        return subprocess.Popen(command, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(command, env=full_env, stdout=out, stderr=subprocess.STDOUT)


def _wait_holding(url: str, proc: subprocess.Popen[bytes], node: str) -> bool:
    deadline = time.monotonic() + TAKE_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        if _holder(url) == ("up", node):
            return True
        time.sleep(POLL_S)
    return False


def _acked_inbound(smsc: SimulatorThread) -> set[str]:
    def acked(sim: SmscSimulator) -> set[str]:
        return {str(getattr(r.operation, "text", "") or "") for r in sim.outbound
                if r.ot == "52" and r.status == "acked"}
    return smsc.call(acked)


def _prepare(db_url: str, smsc: SimulatorThread) -> None:
    settings = {"host": "127.0.0.1", "port": smsc.port, "username": ACCOUNT[0], "password": ACCOUNT[1],
                "window": 10, "ack_timeout_s": 5.0}
    with connect(db_url) as conn:
        call(conn, ensure_connection, SYSTEM, CONNECTION, "emi", settings)
        conn.execute(CHAOS_QUERIES["chaos_max_attempts"], {"name": CONNECTION})
        conn.commit()


def _simulator() -> SimulatorThread:
    return SimulatorThread(SimulatorConfig(accounts=dict([ACCOUNT]), dr_delay_s=0.0, history_limit=1_000_000,
                                           mo_ack_timeout_s=5.0))


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _disable(db_url: str) -> None:
    with connect(db_url) as conn:  # the simulator goes: no later hub should dial it
        with contextlib.suppress(psycopg.Error):
            call(conn, set_enabled, SYSTEM, call(conn, get_connection, CONNECTION), False)
        conn.commit()


def _drain_and_count(db_url: str, smsc: SimulatorThread, load: _Load, tag: str) -> dict[str, Any]:
    """Waits (bounded) until nothing of the run is queued or sending and every
    inbound message was answered, then counts what became of each."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    pattern = {"pattern": f"{tag}-%"}
    while time.monotonic() < deadline:
        with connect(db_url, autocommit=True) as conn:
            unfinished = conn.execute(CHAOS_QUERIES["chaos_unfinished"], pattern).fetchone()
        pending_mo = smsc.call(lambda sim: sum(1 for r in sim.outbound if r.status == "pending")
                               + sum(len(v) for v in sim._held.values()))
        if unfinished and unfinished["unfinished"] == 0 and pending_mo == 0:
            break
        time.sleep(0.5)
    queued, injected = load.queued, load.injected
    with connect(db_url, autocommit=True) as conn:
        outcomes = conn.execute(CHAOS_QUERIES["chaos_outcomes"], pattern).fetchall()
        stored = {r["body"]: r["copies"] for r in conn.execute(
            CHAOS_QUERIES["chaos_inbound"], {"pattern": f"mo {tag} %"}).fetchall()}
    submitted = Counter(smsc.call(lambda sim: [s.text or "" for s in sim.submits
                                               if s.scts and (s.text or "").startswith(f"chaos {tag} ")]))
    acked = {t for t in _acked_inbound(smsc) if t.startswith(f"mo {tag} ")}
    final = {r["correlation_id"]: r for r in outcomes if r["status"] in ("sent", "delivered", "failed")}
    flagged = {r["correlation_id"] for r in outcomes if r["possible_duplicate"]}
    twice = [text for text, n in submitted.items() if n > 1]
    twice_ids = {f"{tag}-{text.rsplit(' ', 1)[1]}" for text in twice}
    return {
        "queued": queued,
        "sent": sum(1 for r in final.values() if r["status"] in ("sent", "delivered")),
        "failed": sum(1 for r in final.values() if r["status"] == "failed"),
        "lost": queued - len(final),
        "duplicates": len(twice),
        "flagged_possible_duplicate": len(twice_ids & flagged),
        "unflagged_duplicates": len(twice_ids - flagged),
        "messages_flagged_possible_duplicate": len(flagged),
        "inbound_offered": injected,
        "inbound_acknowledged": len(acked),
        "inbound_stored": len(stored),
        "inbound_lost": len(acked - set(stored)),
        "inbound_duplicates": sum(1 for n in stored.values() if n > 1),
        "insert_errors": load.errors,
    }


def run_chaos(db_url: str, kills: int = 20, rate: float = 20.0, mo_rate: float = 4.0,
              min_up_s: float = 0.3, max_up_s: float = 3.0, seed: int | None = None) -> dict[str, Any]:
    """Runs the chaos (see the module docstring) and returns its summary."""
    rng = random.Random(seed)
    tag = f"chaos-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    done_kills = 0
    with _simulator() as smsc:
        _prepare(db_url, smsc)
        last: subprocess.Popen[bytes] | None = None
        try:
            with _Load(db_url, smsc, tag, rate, mo_rate) as load:
                for round_ in range(kills):
                    node = f"{tag}-{round_}"
                    proc = _start(db_url, node)
                    _wait_holding(db_url, proc, node)
                    time.sleep(rng.uniform(min_up_s, max_up_s))
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=30)
                    done_kills += 1
            last = _start(db_url, f"{tag}-last")
            _wait_holding(db_url, last, f"{tag}-last")
            counts = _drain_and_count(db_url, smsc, load, tag)
        finally:
            _stop(last)
            _disable(db_url)
    return {"benchmark": "chaos", "kills": done_kills, **counts,
            "duration_s": round(time.monotonic() - started, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def _until(check: Callable[[], bool], timeout: float) -> bool:
    """Polls check() (a database error counts as not yet) until true or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.Error, DatabaseError):
            if check():
                return True
        time.sleep(POLL_S)
    return False


def _more(load: _Load, n: int) -> Callable[[], bool]:
    target = load.queued + n
    return lambda: load.queued >= target


def run_db_restarts(db_url: str, restart: Callable[[str, Callable[[], int]], None],
                    modes: tuple[str, ...] = ("fast", "immediate"), rate: float = 10.0, mo_rate: float = 2.0,
                    between: int = 20, roles: str = "connectors,scheduler",
                    log: Path | None = None, **hub_env: str) -> dict[str, Any]:
    """One hub process while its PostgreSQL is restarted under load:
    restart(mode, refused) is called for each mode (pg_ctl's -m: fast,
    immediate) once `between` more rows were queued, refused() telling how
    many of the load's inserts failed so far (a fault that must be felt
    holds until it grows); after each the hub must hold its
    connection again by itself (same process, never restarted). Returns the
    summary of run_chaos with `restarts` and `recovered` (restarts after
    which the hub was holding its connection again) instead of `kills`.
    Any other database fault fits too: restart(mode) may fill the disk,
    look at the hub and free it again (tests/test_db_disk_full.py). roles,
    log (the hub's output) and hub_env go to the hub process."""
    tag = f"pgrestart-{uuid.uuid4().hex[:8]}"
    node = f"{tag}-node"
    started = time.monotonic()
    restarts = recovered = 0
    with _simulator() as smsc:
        hub = _start(db_url, node, roles, log, **hub_env)
        try:
            def ready() -> bool:
                with connect(db_url, autocommit=True) as conn:
                    return conn.execute(CHAOS_QUERIES["chaos_ready"], {"node": node}).fetchone() is not None
            if not _until(ready, TAKE_TIMEOUT_S):
                raise RuntimeError("the hub did not start on the database")
            _prepare(db_url, smsc)
            if not _wait_holding(db_url, hub, node):
                raise RuntimeError("the hub did not take the connection")
            with _Load(db_url, smsc, tag, rate, mo_rate) as load:
                for mode in modes:
                    _until(_more(load, between), RECOVER_TIMEOUT_S)
                    restart(mode, lambda: load.errors)
                    restarts += 1
                    # the load gets through again, and the hub (the same process) holds its link
                    if _until(_more(load, between), RECOVER_TIMEOUT_S) and _until(
                            lambda: hub.poll() is None and _holder(db_url) == ("up", node), RECOVER_TIMEOUT_S):
                        recovered += 1
                _until(_more(load, between), RECOVER_TIMEOUT_S)
            counts = _drain_and_count(db_url, smsc, load, tag)
            hub_alive = hub.poll() is None
        finally:
            _stop(hub)
            with contextlib.suppress(psycopg.Error, DatabaseError):
                _disable(db_url)
    return {"benchmark": "db-restarts", "restarts": restarts, "recovered": recovered, "hub_alive": hub_alive,
            **counts, "duration_s": round(time.monotonic() - started, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()]}
