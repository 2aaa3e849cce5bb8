"""The "rules" role of a hub node: the sandbox workers, the rule runners
and the dispatchers that act after commit (HTTP calls, external writes,
imports from external databases, schedules)."""

from __future__ import annotations

import asyncio
import logging

from msghub.hub.config import Config
from msghub.hub.db import Pool
from msghub.hub.notify import Listener
from msghub.rules.dispatch_loop import PollingLoop
from msghub.rules.engine import MIB, Limits
from msghub.rules.pool import SandboxPool
from msghub.rules.runner import BatchResult, RuleRunner

log = logging.getLogger(__name__)


class RulesService:
    def __init__(self, url: str, pool: Pool, listener: Listener, config: Config) -> None:
        self.url = url
        self.pool = pool
        self.listener = listener
        self.config = config
        limits = Limits(memory_bytes=config.rule_memory_mb * MIB, cpu_seconds=config.rule_cpu_ms / 1000)
        self.sandbox = SandboxPool(config.rule_workers, limits=limits)
        # one runner per worker: while one applies actions, another evaluates
        self.runners = [
            RuleRunner(
                pool,
                self.sandbox,
                config.node_name,
                poll_interval_s=config.poll_interval_s,
                on_after_commit=self._after_commit,
            )
            for _ in range(config.rule_workers)
        ]
        self.dispatchers = _dispatchers(url, pool, config)
        for runner in self.runners:
            listener.subscribe("msghub_events", runner.notify)
            listener.subscribe("msghub_rules", runner.rules_changed)

    def _after_commit(self, result: BatchResult) -> None:
        for dispatcher in self.dispatchers:
            dispatcher.wake()

    def start(self) -> list[asyncio.Task[None]]:
        tasks = [asyncio.create_task(r.run(), name=f"rules-{n}") for n, r in enumerate(self.runners)]
        tasks += [asyncio.create_task(d.run(), name=f"dispatch-{type(d).__name__}") for d in self.dispatchers]
        return tasks

    def stop(self) -> None:
        for runner in self.runners:
            runner.stop()
        for dispatcher in self.dispatchers:
            dispatcher.stop()

    def close(self) -> None:
        from msghub.rules.external_sql import dispose_all

        self.sandbox.close()
        dispose_all()


def _dispatchers(url: str, pool: Pool, config: Config) -> list[PollingLoop]:
    """The after-commit workers: HTTP calls, external writes, imports, schedules."""
    from msghub.rules.dispatch import Dispatchers

    return Dispatchers(pool, config.node_name, http_private=config.rule_http_private).loops
