"""Shared rule prelude, helpers and a pool fixture for the sandbox tests."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from msghub.rules.sandbox import Limits, SandboxPool, run_once

# A miniature rule API, shaped like the real one will be.
PRELUDE = """var __actions = [];
function reply(text) {
  if (typeof text !== 'string') throw new TypeError('reply() needs a string');
  __actions.push({type: 'reply', text: text});
}
function log(value) { __actions.push({type: 'log', value: value}); }"""
PRELUDE_LINES = PRELUDE.count("\n") + 1
FINISH = "JSON.stringify({actions: __actions})"

# CPU limit for the timing tests: long enough that fixed costs (a fresh
# context and the harness, under 1 ms) are small beside it.
CPU_LIMIT = 0.25
# The limits are CPU time, and the tests measure CPU time: on a shared
# machine a process can be off the CPU for most of its run, so wall-clock
# bounds would test the machine's load, not the limit. CPU-time slack of a
# worker measured from outside (/proc ticks against the kernel's timers,
# measured up to 30 ms apart), beside CPU_ALLOWANCE for in-process runs.
WORKER_CPU_ALLOWANCE = 0.1
# CPU-time slack for in-process runs: context start-up, harness, the check
# interval of the engine's interrupt poll (well under 10 ms).
CPU_ALLOWANCE = 0.01


def run(
    source: str,
    input: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    *,
    prelude: str = PRELUDE,
    finish: str = FINISH,
) -> dict[str, Any]:
    return run_once(prelude, source, input or {}, finish, limits)


def value(expression: str, source: str = "", input: Mapping[str, Any] | None = None) -> Any:
    """What `expression` gives after `source` ran, as JSON."""
    return run(source, input, finish=f"JSON.stringify({{v: ({expression})}})")["v"]


def process_cpu_s(pid: int) -> float:
    """CPU time a live process has used so far (user + system), from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall and CPU time of a block."""

    def __enter__(self) -> Clock:
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = time.process_time() - self.cpu0


class PoolDriver:
    """A pool and the event loop it lives on, for synchronous tests."""

    def __init__(self, runner: asyncio.Runner, pool: SandboxPool) -> None:
        self.runner, self.pool = runner, pool

    def run(
        self,
        source: str,
        input: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
        *,
        prelude: str = PRELUDE,
        finish: str = FINISH,
    ) -> dict[str, Any]:
        return self.runner.run(self.pool.run(prelude, source, input or {}, finish, limits))


@pytest.fixture(scope="module")
def pool() -> Iterator[PoolDriver]:
    with asyncio.Runner() as runner:
        # the wall-clock watchdog is a backstop with its own tests
        # (test_pool.py); out of the way here, so that a loaded machine
        # cannot let it fire before the CPU limit it backs up
        sandbox = SandboxPool(workers=2, grace=600)
        try:
            yield PoolDriver(runner, sandbox)
        finally:
            sandbox.close()
