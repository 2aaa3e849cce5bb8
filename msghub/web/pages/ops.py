"""What an operations team scrapes: /metrics (Prometheus text format) and
/readyz (may this node take traffic?); /healthz (alive) is in app.py.

/metrics reads what the database knows at each scrape (queues, messages by
status, failures, delivery-report latency, nodes, pending events, rule
errors), so every node reports the same truth, and adds the counters only
this process knows (msghub/hub/metrics.py: rule runs, sandbox restarts; SSE
clients and the pool's use). Unauthenticated like /healthz: aggregate
figures and connection names only; keep the port off the public network or
filter /metrics at the proxy (docs/OPERATIONS.md, "Metrics").
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.hub.db import RESOURCE_ERRORS
from msghub.hub.metrics import RULE_FAILURES, RULE_RUNS, SANDBOX_RESTARTS
from msghub.hub.migrate import head_revision
from msghub.hub.queries import QUERIES
from msghub.web.common import pool_of
from msghub.web.queries import METRICS_QUERIES

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# failures, delivery reports and rule errors are counted over this window
RECENT_WINDOW_S = 3600
QUANTILES = ("p50", "p90", "p99")

# every family /metrics serves, with its help text (tests/test_docs.py checks
# each name is in docs/OPERATIONS.md); counters are exposed with _total
DB_METRICS: dict[str, str] = {
    "msghub_queue_depth": "messages queued, by connection",
    "msghub_queue_sending": "messages claimed and being sent, by connection",
    "msghub_queue_oldest_age_seconds": "how long the oldest due queued message has waited, by connection",
    "msghub_connection_up": "1 when the connection's link is up, by connection, kind, holding node and state",
    "msghub_messages": "messages by connection, channel, direction and their status now",
    "msghub_submitted": "outbound messages the far side accepted (sent or delivered), by connection and channel",
    "msghub_received": "inbound messages stored, by connection and channel",
    "msghub_failed": "outbound messages that failed, by connection and channel",
    "msghub_failures_recent": "outbound messages created in the last hour that failed, by connection and code",
    "msghub_delivery_report_latency_seconds": "sent to delivered, for the last hour's delivered messages, "
                                              "by connection and quantile (0.5, 0.9, 0.99)",
    "msghub_delivery_reports_recent": "messages created in the last hour and delivered, by connection",
    "msghub_node_heartbeat_timestamp_seconds": "a node's last heartbeat (Unix time), by node and host",
    "msghub_node_heartbeat_age_seconds": "seconds since a node's last heartbeat, by node",
    "msghub_events_pending": "events the rule runners have not processed yet",
    "msghub_rule_errors_recent": "rule failures every node logged in the last hour, by rule",
    "msghub_up": "1 when /metrics could read the database",
}
PROCESS_METRICS: dict[str, str] = {
    "msghub_rule_runs": "rule runs by this process, by rule",
    "msghub_rule_failures": "failed rule runs by this process, by rule",
    "msghub_sandbox_restarts": "rule sandbox workers of this process started again after one died",
    "msghub_sse_clients": "live pages (server-sent event streams) open on this process",
    "msghub_db_pool_size": "connections in this process's database pool",
    "msghub_db_pool_available": "idle connections in this process's database pool",
    "msghub_db_pool_max": "the most connections this process's pool may open",
    "msghub_db_pool_waiting": "requests waiting for a connection of this process's pool",
}
METRICS = {**DB_METRICS, **PROCESS_METRICS}
# the in-process counters live in the default registry: named here so the
# table above and the counters cannot drift apart unnoticed
_COUNTERS = {"msghub_rule_runs": RULE_RUNS, "msghub_rule_failures": RULE_FAILURES,
             "msghub_sandbox_restarts": SANDBOX_RESTARTS}


class _Snapshot(Collector):
    """One scrape's families, collected before the registry asks for them."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _gauge(name: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, METRICS[name], labels=labels)


async def _database_families(request: Request) -> list[Metric]:
    params = {"window_s": RECENT_WINDOW_S}
    async with pool_of(request).connection() as conn:
        connections = await (await conn.execute(METRICS_QUERIES["metrics_connections"])).fetchall()
        messages = await (await conn.execute(METRICS_QUERIES["metrics_messages"])).fetchall()
        failures = await (await conn.execute(METRICS_QUERIES["metrics_failures"], params)).fetchall()
        latency = await (await conn.execute(METRICS_QUERIES["metrics_report_latency"], params)).fetchall()
        nodes = await (await conn.execute(METRICS_QUERIES["metrics_nodes"])).fetchall()
        events = await (await conn.execute(METRICS_QUERIES["metrics_events_pending"])).fetchone()
        rule_errors = await (await conn.execute(METRICS_QUERIES["metrics_rule_errors"], params)).fetchall()

    depth = _gauge("msghub_queue_depth", ["connection"])
    sending = _gauge("msghub_queue_sending", ["connection"])
    age = _gauge("msghub_queue_oldest_age_seconds", ["connection"])
    up = _gauge("msghub_connection_up", ["connection", "kind", "node", "state"])
    for c in connections:
        depth.add_metric([c["connection"]], c["queued"])
        sending.add_metric([c["connection"]], c["sending"])
        age.add_metric([c["connection"]], c["oldest_s"])
        up.add_metric([c["connection"], c["kind"], c["node"], c["state"]], 1 if c["state"] == "up" else 0)

    by_status = _gauge("msghub_messages", ["connection", "channel", "direction", "status"])
    totals: dict[str, dict[tuple[str, str], float]] = {"submitted": {}, "received": {}, "failed": {}}
    for m in messages:
        by_status.add_metric([m["connection"], m["channel"], m["direction"], m["status"]], m["messages"])
        kind = ("received" if m["direction"] == "in" else
                "submitted" if m["status"] in ("sent", "delivered") else
                "failed" if m["status"] == "failed" else None)
        if kind is not None:
            key = (m["connection"], m["channel"])
            totals[kind][key] = totals[kind].get(key, 0) + m["messages"]
    counters: list[Metric] = []
    for kind, values in totals.items():
        family = CounterMetricFamily(f"msghub_{kind}", METRICS[f"msghub_{kind}"], labels=["connection", "channel"])
        for key, value in sorted(values.items()):
            family.add_metric(list(key), value)
        counters.append(family)

    failed = _gauge("msghub_failures_recent", ["connection", "code"])
    for f in failures:
        failed.add_metric([f["connection"], f["code"]], f["failed"])
    dr_latency = _gauge("msghub_delivery_report_latency_seconds", ["connection", "quantile"])
    dr_count = _gauge("msghub_delivery_reports_recent", ["connection"])
    for r in latency:
        for q, label in zip(QUANTILES, ("0.5", "0.9", "0.99"), strict=True):
            dr_latency.add_metric([r["connection"], label], r[q])
        dr_count.add_metric([r["connection"]], r["reports"])

    heartbeat = _gauge("msghub_node_heartbeat_timestamp_seconds", ["node", "host"])
    heartbeat_age = _gauge("msghub_node_heartbeat_age_seconds", ["node"])
    for n in nodes:
        heartbeat.add_metric([n["node"], n["host"]], n["heartbeat_s"])
        heartbeat_age.add_metric([n["node"]], max(0.0, n["age_s"]))
    pending = _gauge("msghub_events_pending", [])
    pending.add_metric([], events["pending"] if events else 0)
    errors = _gauge("msghub_rule_errors_recent", ["rule"])
    for e in rule_errors:
        errors.add_metric([e["rule"]], e["errors"])
    return [depth, sending, age, up, by_status, *counters, failed, dr_latency, dr_count,
            heartbeat, heartbeat_age, pending, errors]


def _process_families(request: Request) -> list[Metric]:
    live = getattr(request.app.state, "live", None)
    clients = _gauge("msghub_sse_clients", [])
    clients.add_metric([], len(live.subscribers) if live is not None else 0)
    stats = pool_of(request).get_stats()
    families: list[Metric] = [clients]
    for name, key in (("msghub_db_pool_size", "pool_size"), ("msghub_db_pool_available", "pool_available"),
                      ("msghub_db_pool_max", "pool_max"), ("msghub_db_pool_waiting", "requests_waiting")):
        family = _gauge(name, [])
        family.add_metric([], stats.get(key, 0))
        families.append(family)
    return families


async def metrics(request: Request) -> Response:
    try:
        families = await _database_families(request)
    except Exception as exc:
        # the process's own figures are still worth a scrape; msghub_up says why the rest is missing
        log.warning("metrics: the database cannot be read: %s", exc)
        families = []
    up = GaugeMetricFamily("msghub_up", METRICS["msghub_up"], value=1 if families else 0)
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Snapshot([up, *families, *_process_families(request)]))
    body = generate_latest(scrape) + generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE)


@functools.cache
def _head() -> str:
    return head_revision()


async def readyz(request: Request) -> Response:
    """200 when the database answers, its schema is this code's, it has not
    refused this process's work for lack of a resource (disk, memory) within
    the last RESOURCE_ERROR_WINDOW_S, and every connection this node holds is
    up; 503 with the reasons otherwise."""
    node = getattr(request.app.state, "node_name", None)
    problems: list[str] = []
    detail: dict[str, Any] = {"node": node}
    try:
        async with pool_of(request).connection() as conn:
            await conn.execute(QUERIES["ping"])
            row = await (await conn.execute(QUERIES["schema_revision"])).fetchone()
            down = (await (await conn.execute(METRICS_QUERIES["ready_connections"], {"node": node})).fetchall()
                    if node else [])
    except Exception as exc:
        return JSONResponse({"ready": False, "problems": [f"database: {exc}"], **detail}, status_code=503)
    revision = row["version_num"] if row else None
    detail["schema_revision"] = revision
    if revision != _head():
        problems.append(f"schema at revision {revision}, this msghub expects {_head()}: run msghub migrate")
    refused = RESOURCE_ERRORS.recent()
    if refused is not None:
        problems.append(f"database refused this node's work {refused[0]:.0f} s ago: {refused[1]}")
    problems += [f"connection {d['name']} is {d['state']}" + (f": {d['last_error']}" if d["last_error"] else "")
                 for d in down]
    return JSONResponse({"ready": not problems, "problems": problems, **detail},
                        status_code=200 if not problems else 503)


routes: list[BaseRoute] = [Route("/metrics", metrics), Route("/readyz", readyz)]
