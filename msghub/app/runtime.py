"""`msghub run`: the whole hub in one process, or the roles asked for.

Roles: connectors (the supervisor and its workers), scheduler (timed
housekeeping) and web (the web app). All share one connection pool and one
notification listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import uvicorn
from psycopg.rows import dict_row

from msghub.app.scheduler import Housekeeping
from msghub.app.supervisor import Supervisor
from msghub.hub.config import Config
from msghub.hub.db import HubPool, Pool, Row, connect, redact
from msghub.hub.embedded import start_embedded
from msghub.hub.migrate import migrate
from msghub.hub.notify import Listener
from msghub.hub.queries import QUERIES
from msghub.services.blocking import call
from msghub.services.users import FirstAdmin, ensure_first_admin

log = logging.getLogger(__name__)

ROLES = ("connectors", "rules", "scheduler", "web")


@dataclass
class Database:
    url: str
    embedded: Any  # the pgserver handle, kept referenced while in use


@contextmanager
def open_database(config: Config) -> Iterator[Database]:
    """The configured PostgreSQL, or the embedded one (started, and stopped
    on exit unless another msghub process still uses it)."""
    if config.database_url:
        yield Database(config.database_url, None)
        return
    url, handle = start_embedded(config.data_dir)
    try:
        yield Database(url, handle)
    finally:
        handle.cleanup()


async def _as_hub(conn: psycopg.AsyncConnection[Row]) -> None:
    """Every pooled connection works as msghub_app, so row-level security
    applies to it, in system mode (all rows) unless a web request narrows
    it to one user for its transaction (msghub.web.app.as_user)."""
    await conn.execute(QUERIES["set_role_app"])
    await conn.execute(QUERIES["set_system_mode"])


def make_pool(url: str, max_size: int = 10) -> Pool:
    return HubPool(url, min_size=2, max_size=max_size, open=False,
                               connection_class=psycopg.AsyncConnection[Row], configure=_as_hub,
                               kwargs={"autocommit": True, "row_factory": dict_row})


def prepare(config: Config, url: str) -> FirstAdmin:
    """Migrates and creates the first admin when there is no user."""
    migrate(url)
    with connect(url) as conn:
        return call(conn, ensure_first_admin, config.admin_password)


async def serve(config: Config, url: str, roles: tuple[str, ...],
                on_ready: Any = None) -> None:
    pool = make_pool(url)
    await pool.open(wait=True)
    listener = Listener(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    tasks: list[asyncio.Task[None]] = [asyncio.create_task(listener.run(), name="listener")]
    housekeeping = Housekeeping(pool, config.node_name, list(roles), config.node_site)
    await housekeeping.start() if "scheduler" in roles else await housekeeping.heartbeat()
    supervisor = None
    if "connectors" in roles:
        supervisor = Supervisor(url, pool, listener, config.node_name, config.poll_interval_s,
                                site=config.node_site)
        tasks.append(asyncio.create_task(supervisor.run(), name="supervisor"))
        from msghub.app.modem_autodetect import Watcher  # hub.settings modem_autodetect

        tasks.append(asyncio.create_task(Watcher(url).run(), name="modem-autodetect"))
    rules = None
    if "rules" in roles:
        from msghub.rules.service import RulesService

        rules = RulesService(pool, listener, config)
        tasks += rules.start()
    server = None
    gateway_loops: list[Any] = []  # the gateway's PollingLoops
    if "web" in roles:
        from msghub.app.inbound import inbound_routes
        from msghub.web.app import create_app

        app = create_app(pool, secure_cookies=config.secure_cookies, listener=listener,
                         extra_routes=inbound_routes(config.node_name))
        app.state.node_name = config.node_name  # /readyz checks this node's connections
        server = uvicorn.Server(uvicorn.Config(app, host=config.http_host, port=config.http_port,
                                               log_level="warning", lifespan="off"))
        # we own the signals: uvicorn must neither take nor re-raise them
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        tasks.append(asyncio.create_task(server.serve(), name="web"))
        from msghub.gateway.dlr_dispatch import DlrDispatcher
        from msghub.gateway.webhooks import WebhookDispatcher

        # the gateway's after-commit calls: sendsms dlr-url callbacks and webhooks
        gateway_loops = [DlrDispatcher(pool), WebhookDispatcher(pool)]
        tasks += [asyncio.create_task(gw.run(), name=f"gateway-{i}") for i, gw in enumerate(gateway_loops)]
    log.info("msghub node %s running (%s) on %s", config.node_name, ", ".join(roles), redact(url))
    if on_ready is not None:
        tasks.append(asyncio.create_task(on_ready(pool), name="on-ready"))

    stopper = asyncio.create_task(stop.wait())
    watched = [t for t in tasks if t.get_name() != "on-ready"]
    done, _ = await asyncio.wait([stopper, *watched], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not stopper and not task.cancelled() and task.exception():
            log.error("%s stopped with an error", task.get_name(), exc_info=task.exception())
    log.info("msghub node %s stopping", config.node_name)
    if supervisor:
        supervisor.stop()
    if rules:
        rules.stop()
    for gw in gateway_loops:
        gw.stop()
    if server:
        server.should_exit = True
        from msghub.web.live import close_streams

        close_streams(server.config.app)  # open live pages would hold the shutdown
    listener.stop()
    for task in tasks:
        if task.get_name() in ("listener", "on-ready", "modem-autodetect"):
            task.cancel()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=15)
    if rules:
        rules.close()
    for gw in gateway_loops:
        await gw.aclose()
    await housekeeping.stop()
    await pool.close()
