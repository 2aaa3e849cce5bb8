"""Faults that are not a crash: a connector process stalled (SIGSTOP: alive,
its sessions open, doing nothing) and a network partition to the SMSC (a
proxy that drops every byte). Either way the stuck messages return to the
queue within 90 s (the issue's bound), and are then sent once each, or
again flagged possible_duplicate."""

from __future__ import annotations

import json
import signal
from collections import Counter
from typing import Any

from msghub.devtools.emi.simulator import SimulatorConfig
from msghub.devtools.emi.simulator_thread import SimulatorThread
from tests.faultproxy import DroppingProxy
from tests.hubproc import start_hub, stop_hub, wait_for

BACK_IN_QUEUE_S = 90.0
MESSAGES = 5


def _emi(db: Any, port: int, **extra: Any) -> None:
    settings = {"host": "127.0.0.1", "port": port, "username": "f", "password": "f", "window": 10, **extra}
    db.execute("INSERT INTO hub.connections (name, kind, channels, config, max_attempts) "
               "VALUES ('smsc', 'emi', '{sms}', %s, 100)", (json.dumps(settings),))


def _queue(db: Any, tag: str) -> None:
    db.execute("INSERT INTO hub.outbox (recipient, text, connection, correlation_id) "
               "SELECT '+4470' || g, %s || ' ' || g, 'smsc', %s || '-' || g FROM generate_series(1, %s) g",
               (tag, tag, MESSAGES))


def _statuses(db: Any, tag: str) -> list[dict[str, Any]]:
    return db.execute("SELECT status, attempts, possible_duplicate FROM hub.messages "
                      "WHERE correlation_id LIKE %s ORDER BY id", (f"{tag}-%",)).fetchall()


def _sent_once_or_flagged(db: Any, smsc: SimulatorThread, tag: str) -> None:
    wait_for(lambda: all(r["status"] == "sent" for r in _statuses(db, tag)), timeout=120, what="all sent")
    copies = Counter(smsc.call(lambda sim: [s.text for s in sim.submits if s.scts and (s.text or "").startswith(tag)]))
    assert set(copies) == {f"{tag} {i}" for i in range(1, MESSAGES + 1)}
    flagged = {f"{tag} {i}" for i, r in enumerate(_statuses(db, tag), 1) if r["possible_duplicate"]}
    assert {t for t, n in copies.items() if n > 1} <= flagged


def test_a_stalled_connector_process_gives_its_messages_back(db_url, db):
    with SimulatorThread(SimulatorConfig(accounts={"f": "f"}, dr_delay_s=0.0)) as smsc:
        _emi(db, smsc.port, ack_timeout_s=600.0)
        stalled = start_hub(db_url, node="stalled")
        watcher = None
        try:
            # one after the other: two hubs starting on a fresh database race for its first admin
            wait_for(lambda: db.execute("SELECT 1 FROM hub.nodes WHERE name = 'stalled'").fetchone(), what="stalled")
            # the node that recovers what the stalled one holds (every node runs recovery)
            watcher = start_hub(db_url, roles="scheduler", node="watcher")
            wait_for(lambda: db.execute("SELECT 1 FROM hub.nodes WHERE name = 'watcher'").fetchone(), what="watcher")
            wait_for(lambda: db.execute("SELECT state FROM hub.connections").fetchone()["state"] == "up",
                     what="the connection on the node to stall")
            smsc.call(lambda sim: sim.stop_acking())  # sends stay unanswered: the messages stay `sending`
            _queue(db, "stall")
            wait_for(lambda: all(r["status"] == "sending" for r in _statuses(db, "stall")), what="claimed")
            stalled.send_signal(signal.SIGSTOP)
            back = wait_for(lambda: all(r["status"] == "queued" and r["possible_duplicate"]
                                        for r in _statuses(db, "stall")),
                            timeout=BACK_IN_QUEUE_S, what="the stalled node's messages back in the queue")
            assert back
            # the stalled node still holds the connection's lock: it is ended, another takes over
            stalled.send_signal(signal.SIGKILL)
            stalled.wait(10)
            smsc.call(lambda sim: sim.resume_acking())
            taker = start_hub(db_url, node="taker")
            try:
                _sent_once_or_flagged(db, smsc, "stall")
            finally:
                assert stop_hub(taker) == 0
        finally:
            if stalled.poll() is None:
                stalled.send_signal(signal.SIGKILL)
                stalled.wait(10)
            if watcher is not None:
                assert stop_hub(watcher) == 0


def test_a_network_partition_returns_the_messages_and_heals(db_url, db):
    with SimulatorThread(SimulatorConfig(accounts={"f": "f"}, dr_delay_s=0.0)) as smsc, \
            DroppingProxy(smsc.port) as proxy:
        _emi(db, proxy.port, ack_timeout_s=5.0, keepalive_s=2.0, connect_timeout_s=3.0)
        hub = start_hub(db_url, node="partitioned")
        try:
            wait_for(lambda: db.execute("SELECT state FROM hub.connections").fetchone()["state"] == "up",
                     what="the connection through the proxy")
            proxy.partition()
            _queue(db, "part")
            back = wait_for(lambda: (rows := _statuses(db, "part")) and all(
                r["status"] == "queued" and r["attempts"] >= 1 for r in rows),
                timeout=BACK_IN_QUEUE_S, what="the messages lost in the partition back in the queue")
            assert back
            assert smsc.call(lambda sim: [s for s in sim.submits if (s.text or "").startswith("part")]) == []
            proxy.heal()
            _sent_once_or_flagged(db, smsc, "part")
        finally:
            assert stop_hub(hub) == 0
