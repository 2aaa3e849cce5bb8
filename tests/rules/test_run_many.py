"""Runs shared out among the workers in one round trip each: every run gets
its own fresh context and limits, and its own result or error, in order."""

from __future__ import annotations

import asyncio

from msghub.rules.api import FINISH, PRELUDE, RunResult, settled
from msghub.rules.engine import Limits
from msghub.rules.errors import RuleEngineCrashed, RuleScriptError, RuleTimeout
from msghub.rules.pool import SandboxPool

INPUT = {"event": {"id": 1, "type": "message_received"}, "message": {"sender": "+1", "text": "hi"}, "rule": {}}


def _many(runs, limits=None, workers=2):
    async def go():
        async with SandboxPool(workers) as sandbox:
            return await sandbox.run_many(PRELUDE, runs, FINISH, limits)
    return asyncio.run(go())


def test_each_run_has_its_own_result_or_error_in_order():
    runs = [(f"reply('n{i}')", INPUT) for i in range(7)]
    runs[3] = ("throw new Error('three')", INPUT)
    runs[5] = ("var leaked = 1; reply(typeof leaked)", INPUT)
    runs[6] = ("reply(typeof leaked)", INPUT)  # nothing survives from another run
    out = _many(runs)
    assert isinstance(out[3], RuleScriptError) and "three" in str(out[3])
    texts = [o["actions"][0]["text"] for i, o in enumerate(out) if i != 3]
    assert texts == ["n0", "n1", "n2", "n4", "number", "undefined"]


def test_a_run_that_needs_a_lookup_is_left_for_later():
    out = _many([("reply(String(state.get('n')))", INPUT), ("reply('x')", INPUT)])
    assert settled(out[0]) is None
    done = settled(out[1])
    assert isinstance(done, RunResult) and done.actions == [{"type": "reply", "text": "x"}]


def test_a_runaway_run_fails_its_whole_batch_and_is_rerun_alone():
    runs = [("reply('a')", INPUT), ("for (;;) {}", INPUT), ("reply('b')", INPUT)]
    out = _many(runs, Limits(cpu_seconds=0.05), workers=1)
    # the engine stops the loop itself: only that run fails
    assert isinstance(out[1], RuleTimeout)
    assert [o["actions"][0]["text"] for o in (out[0], out[2])] == ["a", "b"]
    # an engine failure is never taken as the rule's own result
    assert settled(RuleEngineCrashed("worker died", phase="engine")) is None
    assert settled(out[1]) is None


def test_empty_batch():
    assert _many([]) == []
