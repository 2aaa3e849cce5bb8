"""The "rules" role of a hub node: the sandbox workers, the rule runners
and the dispatchers that act after commit (HTTP calls, external writes,
imports from external databases, schedules)."""

from __future__ import annotations

import asyncio

from msghub.hub.config import Config
from msghub.hub.db import Pool
from msghub.hub.notify import Listener
from msghub.rules.dispatch import Dispatchers
from msghub.rules.engine import MIB, Limits
from msghub.rules.pool import SandboxPool
from msghub.rules.runner import RuleRunner


class RulesService:
    def __init__(self, pool: Pool, listener: Listener, config: Config) -> None:
        limits = Limits(memory_bytes=config.rule_memory_mb * MIB, cpu_seconds=config.rule_cpu_ms / 1000)
        self.sandbox = SandboxPool(config.rule_workers, limits=limits)
        self.dispatchers = Dispatchers(pool, config.node_name, http_private=config.rule_http_private)
        # one runner per worker: while one applies actions, another evaluates
        self.runners = [
            RuleRunner(
                pool,
                self.sandbox,
                config.node_name,
                poll_interval_s=config.poll_interval_s,
                # a commit that wrote HTTP requests or external rows wakes
                # their dispatchers (imports and schedules keep their own time)
                on_after_commit=self.dispatchers.wake,
            )
            for _ in range(config.rule_workers)
        ]
        for runner in self.runners:
            listener.subscribe("msghub_events", runner.notify)
            listener.subscribe("msghub_rules", runner.rules_changed)

    def start(self) -> list[asyncio.Task[None]]:
        tasks = [asyncio.create_task(r.run(), name=f"rules-{n}") for n, r in enumerate(self.runners)]
        tasks += [asyncio.create_task(d.run(), name=f"dispatch-{type(d).__name__}") for d in self.dispatchers.loops]
        return tasks

    def stop(self) -> None:
        for runner in self.runners:
            runner.stop()
        self.dispatchers.stop()

    def close(self) -> None:
        from msghub.rules.external_sql import dispose_all

        self.sandbox.close()
        dispose_all()
