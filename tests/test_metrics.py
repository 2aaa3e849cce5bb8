"""/metrics, /healthz, /readyz and JSON logs of a real hub process
(connectors, scheduler and web roles) against a real PostgreSQL; the metric
names and the Grafana dashboard against docs/OPERATIONS.md."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from msghub.hub.metrics import RULE_FAILURES, RULE_RUNS, SANDBOX_RESTARTS
from msghub.web.pages.ops import METRICS
from tests.hubproc import stop_hub, wait_for

DOCS = Path(__file__).resolve().parent.parent / "docs"
NODE = "metrics-node"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connection(db: Any, name: str, enabled: bool = True, **config: Any) -> None:
    settings = {"delay_ms": 50, "echo": True, "delivery_reports": True, "reply_prefix": "echo: ",
                "own_number": "hub", "fail_prefix": "+999", "window": 10, **config}
    db.execute("INSERT INTO hub.connections (name, kind, channels, config, enabled) "
               "VALUES (%s, 'loopback', '{sms}', %s, %s)", (name, json.dumps(settings), enabled))


@pytest.fixture
def hub(db_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A hub with the web role; yields its base URL and its log file."""
    port = _free_port()
    log_file = tmp_path / "hub.log"
    env = {**os.environ, "MSGHUB_DATABASE_URL": db_url, "MSGHUB_NODE_NAME": NODE, "MSGHUB_POLL_INTERVAL_S": "0.5",
           "MSGHUB_LOG_LEVEL": "INFO", "MSGHUB_LOG_FORMAT": "json", "MSGHUB_HTTP_PORT": str(port),
           "MSGHUB_ADMIN_PASSWORD": "metrics-admin-pw"}
    with log_file.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "msghub.app.cli", "run", "--only",
                                 "connectors,scheduler,web"], env=env, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _get(base, "/healthz") == 200, what="the web role")
            yield base, log_file
        finally:
            stop_hub(proc)


def _get(base: str, path: str) -> int | None:
    try:
        return httpx.get(base + path, timeout=5).status_code
    except httpx.HTTPError:
        return None


def _scrape(base: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """sample name -> {sorted labels: value}"""
    response = httpx.get(base + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return samples


def _value(samples: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str, **labels: str) -> float | None:
    for key, value in samples.get(name, {}).items():
        if all((k, v) in key for k, v in labels.items()):
            return value
    return None


def test_metrics_of_a_real_hub_count_what_the_database_holds(hub, db):
    base, log_file = hub
    _connection(db, "loop")
    _connection(db, "parked", enabled=False)
    wait_for(lambda: db.execute("SELECT state FROM hub.connections WHERE name = 'loop'").fetchone()["state"] == "up",
             what="the loopback connection to come up")
    db.execute("INSERT INTO hub.outbox (recipient, text, connection, delivery_report) VALUES "
               "('+4470001', 'one', 'loop', true), ('+4470002', 'two', 'loop', true), "
               "('+9990003', 'refused', 'loop', false)")
    db.execute("INSERT INTO hub.outbox (recipient, text, connection) "
               "SELECT '+4471' || g, 'waits', 'parked' FROM generate_series(1, 3) g")
    wait_for(lambda: db.execute("SELECT count(*) AS n FROM hub.messages WHERE direction = 'out' "
                                "AND status IN ('delivered', 'failed')").fetchone()["n"] == 3,
             timeout=30, what="two delivered and one failed")
    wait_for(lambda: db.execute("SELECT count(*) AS n FROM hub.messages WHERE direction = 'in'").fetchone()["n"] == 2,
             timeout=30, what="the two echoes")

    samples = _scrape(base)
    assert _value(samples, "msghub_up") == 1
    assert _value(samples, "msghub_queue_depth", connection="parked") == 3
    assert _value(samples, "msghub_queue_depth", connection="loop") == 0
    assert _value(samples, "msghub_queue_sending", connection="parked") == 0
    assert (_value(samples, "msghub_queue_oldest_age_seconds", connection="parked") or -1) >= 0
    assert _value(samples, "msghub_queue_oldest_age_seconds", connection="loop") == 0
    assert _value(samples, "msghub_connection_up", connection="loop", node=NODE, state="up") == 1
    assert _value(samples, "msghub_connection_up", connection="parked") == 0
    assert _value(samples, "msghub_submitted_total", connection="loop", channel="sms") == 2
    assert _value(samples, "msghub_failed_total", connection="loop", channel="sms") == 1
    assert _value(samples, "msghub_received_total", connection="loop", channel="sms") == 2
    assert _value(samples, "msghub_messages", connection="loop", direction="out", status="delivered") == 2
    assert _value(samples, "msghub_messages", connection="parked", direction="out", status="queued") == 3
    assert _value(samples, "msghub_failures_recent", connection="loop", code="refused") == 1
    assert _value(samples, "msghub_delivery_reports_recent", connection="loop") == 2
    for quantile in ("0.5", "0.9", "0.99"):
        latency = _value(samples, "msghub_delivery_report_latency_seconds", connection="loop", quantile=quantile)
        assert latency is not None and 0 <= latency < 600
    assert (_value(samples, "msghub_node_heartbeat_timestamp_seconds", node=NODE) or 0) > 1.7e9
    assert (_value(samples, "msghub_node_heartbeat_age_seconds", node=NODE) or -1) >= 0
    assert (_value(samples, "msghub_events_pending") or -1) >= 0  # no rules role here: events wait
    assert _value(samples, "msghub_sse_clients") == 0
    size, maximum = _value(samples, "msghub_db_pool_size"), _value(samples, "msghub_db_pool_max")
    assert size is not None and maximum is not None and 1 <= size <= maximum
    assert _value(samples, "msghub_sandbox_restarts_total") == 0  # this process runs no rules

    # every msghub family served is declared (and so documented, below)
    served = {re.sub(r"_total$|_created$", "", name) for name in samples if name.startswith("msghub_")}
    assert served <= set(METRICS), served - set(METRICS)

    # the JSON log lines carry the connection's ids
    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line.startswith("{")]
    taken = [x for x in lines if x.get("connection") == "loop" and "takes connection" in x["message"]]
    assert taken and taken[0]["node"] == NODE and isinstance(taken[0]["connection_id"], int)
    assert {"time", "level", "logger", "message"} <= set(taken[0])


def test_readyz_says_what_is_not_ready(hub, db):
    base, _ = hub
    assert httpx.get(base + "/healthz", timeout=5).json() == {"ok": True}
    ready = wait_for(lambda: httpx.get(base + "/readyz", timeout=5).status_code == 200, what="ready")
    assert ready
    body = httpx.get(base + "/readyz", timeout=5).json()
    assert body["ready"] is True and body["node"] == NODE and body["problems"] == []

    # a connection this node holds that cannot come up
    _connection(db, "broken", window=0)  # out of range: the runner reports bad settings
    def not_ready() -> Any:
        r = httpx.get(base + "/readyz", timeout=5)
        return r.status_code == 503 and r.json()

    body = wait_for(not_ready, what="readyz to report the broken connection")
    assert any(p.startswith("connection broken is down: bad settings") for p in body["problems"])
    db.execute("DELETE FROM hub.connections WHERE name = 'broken'")
    wait_for(lambda: httpx.get(base + "/readyz", timeout=5).status_code == 200, what="ready again")

    # a schema this code does not expect
    revision = db.execute("SELECT version_num FROM hub.alembic_version").fetchone()["version_num"]
    db.execute("UPDATE hub.alembic_version SET version_num = 'elsewhere'")
    try:
        r = httpx.get(base + "/readyz", timeout=5)
        assert r.status_code == 503
        assert "schema at revision elsewhere" in r.json()["problems"][0]
    finally:
        db.execute("UPDATE hub.alembic_version SET version_num = %s", (revision,))


def test_every_metric_is_documented():
    text = (DOCS / "OPERATIONS.md").read_text()
    assert [name for name in METRICS if f"`{name}" not in text] == []
    # the in-process counters are the ones the table declares
    for counter in (RULE_RUNS, RULE_FAILURES, SANDBOX_RESTARTS):
        assert counter._name in METRICS


def test_the_grafana_dashboard_uses_only_served_metrics():
    dashboard = json.loads((DOCS / "grafana-msghub.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    used = {re.sub(r"_total$", "", n) for e in exprs for n in re.findall(r"\bmsghub_[a-z_]+", e)}
    assert used and used <= set(METRICS), used - set(METRICS)
    # and it shows every metric but the pool's maximum, which only bounds the pool panel
    assert set(METRICS) - used <= {"msghub_db_pool_max", "msghub_up"}
