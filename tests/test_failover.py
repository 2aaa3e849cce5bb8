"""PostgreSQL failover, the real thing: a primary and a synchronous
streaming replica (Debian's PostgreSQL 15 as the system user postgres, on
loopback ports), a hub on the multi-host URL with
target_session_attrs=read-write, outbox rows at a steady rate and inbound
messages from the SMSC simulator; the primary dies (immediate stop), the
replica is promoted, and the hub carries on by itself. Afterwards every
queued message was sent, none twice unless flagged possible_duplicate, and
every acknowledged inbound message is stored."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from msghub.devtools.emi.simulator import SimulatorConfig, SimulatorError, SmscSimulator
from msghub.devtools.emi.simulator_thread import SimulatorThread
from tests import pgcluster
from tests.hubproc import start_hub, stop_hub, wait_for

RATE_PER_S = 10.0


@pytest.fixture
def clusters() -> Iterator[tuple[pgcluster.Cluster, pgcluster.Cluster]]:
    reason = pgcluster.available()
    if reason:
        pytest.skip(reason)
    root = pgcluster.make_root()
    primary, replica = pgcluster.Cluster(root, "primary"), pgcluster.Cluster(root, "replica")
    try:
        primary.init_primary()
        primary.start()
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE msghub")
        replica.init_replica(primary)
        replica.start()
        # synchronous from now on (not before: with no standby every commit would wait):
        # a commit the hub saw is on the replica too, so the failover loses nothing
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            conn.execute("SELECT pg_reload_conf()")
            wait_for(lambda: conn.execute("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'").fetchone(),
                     what="the replica to be synchronous")
        yield primary, replica
    finally:
        replica.stop("immediate")
        primary.stop("immediate")
        import shutil

        shutil.rmtree(root, ignore_errors=True)


class _Load(threading.Thread):
    """Outbox rows at a steady rate through the multi-host URL; a row whose
    insert failed is tried again with the same idempotency key, so each is
    queued once, and counted once it is committed."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.queued, self.stop = url, 0, threading.Event()
        self.errors = 0

    def run(self) -> None:
        t0 = time.monotonic()
        conn: psycopg.Connection[Any] | None = None
        while not self.stop.is_set():
            i = self.queued
            delay = t0 + i / RATE_PER_S - time.monotonic()
            if delay > 0 and self.stop.wait(delay):
                break
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
                conn.execute("INSERT INTO hub.outbox (recipient, text, connection, idempotency_key, correlation_id) "
                             "VALUES (%s, %s, 'smsc', %s, %s)", (f"+4470{i:06d}", f"fo {i}", f"fo-{i}", f"fo-{i}"))
                self.queued += 1
            except psycopg.Error:
                self.errors += 1
                if conn is not None:
                    conn.close()
                conn = None
                self.stop.wait(0.5)
        if conn is not None:
            conn.close()


def test_the_hub_survives_a_promotion_under_load(clusters):
    primary, replica = clusters
    url = (f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{replica.port}/msghub"
           "?target_session_attrs=read-write&connect_timeout=5")
    with SimulatorThread(SimulatorConfig(accounts={"f": "f"}, dr_delay_s=0.0, mo_ack_timeout_s=5.0)) as smsc:
        hub = start_hub(url, node="failover-node")
        try:
            def db() -> psycopg.Connection[Any]:
                return psycopg.connect(url, autocommit=True, row_factory=dict_row, options="-c msghub.system=on")

            wait_for(lambda: _one(db, "SELECT 1 FROM hub.nodes"), what="the hub on the primary")
            settings = {"host": "127.0.0.1", "port": smsc.port, "username": "f", "password": "f", "window": 10}
            _run(db, "INSERT INTO hub.connections (name, kind, channels, config, max_attempts) "
                     "VALUES ('smsc', 'emi', '{sms}', %s, 100)", (json.dumps(settings),))
            wait_for(lambda: _one(db, "SELECT 1 FROM hub.connections WHERE state = 'up'"), what="connection up")
            load = _Load(url)
            load.start()
            injected = 0
            try:
                wait_for(lambda: load.queued >= 30, timeout=60, what="load before the failover")
                injected += _inject(smsc, 0, 5)
                primary.stop("immediate")  # the primary dies
                replica.promote()
                wait_for(lambda: load.queued >= 80, timeout=120, what="load after the failover")
                injected += _inject(smsc, injected, 5)
            finally:
                load.stop.set()
                load.join(timeout=30)
            assert load.errors > 0, "the failover was felt by the inserting client"
            queued = load.queued
            wait_for(lambda: _one(db, "SELECT count(*) = %s AS done FROM hub.messages WHERE status = 'sent' "
                                      "AND correlation_id LIKE 'fo-%%'", (queued,))["done"],
                     timeout=180, what="every queued message sent after the failover")
            copies = Counter(smsc.call(lambda sim: [s.text for s in sim.submits if s.scts]))
            assert {f"fo {i}" for i in range(queued)} <= set(copies)
            flagged = {r["body"] for r in _all(db, "SELECT body FROM hub.messages WHERE possible_duplicate")}
            assert {t for t, n in copies.items() if n > 1} <= flagged
            wait_for(lambda: smsc.call(lambda sim: all(r.status != "pending" for r in sim.outbound)),
                     timeout=60, what="inbound answered")
            acked = smsc.call(lambda sim: {str(r.operation.text) for r in sim.outbound
                                           if r.ot == "52" and r.status == "acked"})
            stored = {r["body"] for r in _all(db, "SELECT body FROM hub.messages WHERE direction = 'in'")}
            assert injected > 0 and acked and acked <= stored
            with psycopg.connect(replica.url("msghub")) as conn:
                assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        finally:
            assert stop_hub(hub) == 0


def _inject(smsc: SimulatorThread, start: int, count: int) -> int:
    done = 0
    for n in range(start, start + count):
        async def mo(sim: SmscSimulator, n: int = n) -> int:
            return await sim.inject_mo(f"+4479{n:06d}", "4400", f"fo-mo {n}")
        try:
            smsc.run(mo)
            done += 1
        except SimulatorError:
            pass
    return done


def _one(db: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    try:
        with db() as conn:
            return conn.execute(sql, params).fetchone()
    except psycopg.Error:
        return None


def _all(db: Any, sql: str) -> list[Any]:
    with db() as conn:
        return conn.execute(sql).fetchall()


def _run(db: Any, sql: str, params: tuple[Any, ...]) -> None:
    with db() as conn:
        conn.execute(sql, params)


def test_a_multi_host_url_reaches_alembic_as_one_host_parameter_each():
    from sqlalchemy.engine import make_url

    from msghub.hub.db import sqlalchemy_url

    url = make_url(sqlalchemy_url("postgresql://hub:pw@10.0.0.1:5432,10.0.0.2:5433/msghub"
                                  "?target_session_attrs=read-write"))
    assert url.query["host"] == ("10.0.0.1:5432", "10.0.0.2:5433")
    assert url.query["target_session_attrs"] == "read-write"
    assert (url.username, url.password, url.database) == ("hub", "pw", "msghub")
    assert sqlalchemy_url("postgresql://u@h:1/d") == "postgresql+psycopg://u@h:1/d"
