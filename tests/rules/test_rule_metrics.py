"""The in-process rule counters /metrics serves (msghub/hub/metrics.py):
runs and failures by rule, counted by the real runner; sandbox restarts
when a worker dies."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from tests.rules.runner_support import Runner, add_rule, connection, receive, runner_for


@pytest.fixture
def runner(db_url: str) -> Iterator[Runner]:
    yield from runner_for(db_url)


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_runs_and_failures_are_counted_by_rule(db, runner):
    gsm = connection(db)
    add_rule(db, "metrics-fine", "move('Seen')", position=1)
    add_rule(db, "metrics-broken", "undefinedFunction();", position=2)
    runs = {r: _value("msghub_rule_runs_total", rule=r) for r in ("metrics-fine", "metrics-broken")}
    failures = {r: _value("msghub_rule_failures_total", rule=r) for r in ("metrics-fine", "metrics-broken")}
    for n in range(3):
        receive(db, gsm, "+447700900001", f"hi {n}")
    assert runner.drain() == 3
    assert _value("msghub_rule_runs_total", rule="metrics-fine") - runs["metrics-fine"] == 3
    assert _value("msghub_rule_runs_total", rule="metrics-broken") - runs["metrics-broken"] == 3
    assert _value("msghub_rule_failures_total", rule="metrics-broken") - failures["metrics-broken"] == 3
    assert _value("msghub_rule_failures_total", rule="metrics-fine") - failures["metrics-fine"] == 0


def test_a_worker_that_dies_counts_a_sandbox_restart(db, runner):
    gsm = connection(db)
    add_rule(db, "metrics-echo", "move('Seen')")
    receive(db, gsm, "+447700900001", "first")
    runner.drain()  # the worker is up and has served
    before = _value("msghub_sandbox_restarts_total")
    (victim,) = runner.sandbox.worker_pids()
    os.kill(victim, signal.SIGKILL)
    receive(db, gsm, "+447700900001", "second")
    runner.drain()
    assert runner.sandbox.worker_pids() != [victim]
    assert _value("msghub_sandbox_restarts_total") - before == 1
