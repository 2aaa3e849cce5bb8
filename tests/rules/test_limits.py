"""CPU, memory and stack limits: each stops a rule, in-process and in the pool."""

from __future__ import annotations

import contextlib

import pytest

from msghub.errors import HubError
from msghub.rules.sandbox import (
    Limits,
    RuleError,
    RuleMemoryError,
    RuleScriptError,
    RuleStackOverflow,
    RuleTimeout,
)
from tests.rules.conftest import (
    CPU_ALLOWANCE,
    CPU_LIMIT,
    WORKER_CPU_ALLOWANCE,
    Clock,
    PoolDriver,
    process_cpu_s,
    run,
)

TIMED = Limits(cpu_seconds=CPU_LIMIT)

# Rules that never stop on their own, each a different way of trying.
RUNAWAYS = {
    "loop": "while (true) {}",
    "catch and continue": "for (;;) { try { while (true) {} } catch (e) { reply('caught') } }",
    "loop in finally": "try { while (true) {} } finally { while (true) {} }",
    "recursive catch": "function f() { try { for (;;) {} } catch (e) { f() } } f()",
    "promise chain": "function f() { Promise.resolve().then(f) } f()",
    "async loop": "(async () => { for (;;) { await null } })()",
    "microtask loop": "queueMicrotask(function f() { queueMicrotask(f) })",
    "regex backtracking": "/(a+)+$/.test('a'.repeat(40) + '!')",
    # The binding turns escaping errors into text with no CPU limit; these try
    # to run code during that conversion.
    "throw looping toString": "throw {toString() { for (;;) {} }}",
    "Error.prototype.toString": "Error.prototype.toString = () => { for (;;) {} }; for (;;) {}",
    "toPrimitive": "Object.prototype[Symbol.toPrimitive] = () => { for (;;) {} }; for (;;) {}",
    "error name": "InternalError.prototype.name = {toString() { for (;;) {} }}; for (;;) {}",
    "prepareStackTrace": ("Error.prepareStackTrace = () => ({toString() { for (;;) {} }}); for (;;) {}"),
    "microtask throws": "queueMicrotask(() => { throw {toString() { for (;;) {} }} })",
    "finish loops": "JSON.stringify = () => { for (;;) {} }",
}

BOMBS = {
    "string doubling": "var s = 'x'; for (;;) { s = s + s; s.indexOf('y') }",
    "string repeat": "var parts = []; for (;;) parts.push('y'.repeat(1 << 20))",
    "array growth": "var a = []; for (;;) a.push(new Array(1e5).fill(1.5))",
    "typed arrays": "var a = []; for (;;) a.push(new Float64Array(1 << 16))",
    "one big buffer": "new ArrayBuffer(64 * 1024 * 1024)",
    "object keys": "var o = {}; for (var i = 0; ; i++) o['key' + i] = {i: i}",
    "result text": "for (var i = 0; i < 200; i++) log('z'.repeat(1 << 17))",
    # These two fail without an error object (null / an internal value).
    "replace": "'x'.repeat(1 << 22).replace(/x/g, 'yy').length",
    "normalize": "'a'.repeat(3e6).normalize('NFKD').length",
}
# Generous CPU, so it is the memory limit that stops them.
BOMB_LIMITS = Limits(memory_bytes=16 * 1024 * 1024, cpu_seconds=2.0)


@pytest.mark.parametrize("source", RUNAWAYS.values(), ids=RUNAWAYS.keys())
def test_runaway_is_stopped_within_twice_the_cpu_limit(source: str) -> None:
    with Clock() as clock, pytest.raises(RuleTimeout) as caught:
        run(source, limits=TIMED)
    assert clock.cpu < 2 * CPU_LIMIT + CPU_ALLOWANCE
    assert "CPU-time limit of 250 ms" in str(caught.value)


def test_growing_promise_chain_ends_within_the_limits() -> None:
    # Each link keeps the previous one alive, so memory runs out inside a
    # promise job; that rejects a promise nobody handles, which (as in any JS
    # host without a rejection tracker) ends the chain silently.
    with Clock() as clock, contextlib.suppress(RuleTimeout, RuleMemoryError):
        run("Promise.resolve().then(function f() { return Promise.resolve().then(f) })")
    assert clock.cpu < 2 * Limits().cpu_seconds + CPU_ALLOWANCE


def test_timeout_names_the_function_that_ran() -> None:
    with pytest.raises(RuleTimeout) as caught:
        run("reply('ok')\nfunction spin() {\n  for (;;) {}\n}\nspin()", limits=TIMED)
    # An interrupt records the running function's first line.
    assert caught.value.line == 2
    assert caught.value.phase == "rule"


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_allocation_bomb_is_a_memory_error(source: str) -> None:
    with Clock() as clock, pytest.raises(RuleMemoryError) as caught:
        run(source, limits=BOMB_LIMITS)
    assert clock.cpu < 2 * BOMB_LIMITS.cpu_seconds
    assert "memory limit of 16 MiB" in str(caught.value)


def test_throw_null_reads_as_out_of_memory() -> None:
    # Indistinguishable from the engine's own null; documented.
    with pytest.raises(RuleMemoryError):
        run("throw null")


def test_memory_limit_is_per_call() -> None:
    source = "var b = new Uint8Array(4 * 1024 * 1024); log(b.length)"
    with pytest.raises(RuleMemoryError, match="memory limit of 2 MiB"):
        run(source, limits=Limits(memory_bytes=2 * 1024 * 1024))
    assert run(source)["actions"] == [{"type": "log", "value": 4 * 1024 * 1024}]


def test_caught_out_of_memory_that_frees_its_memory_may_carry_on() -> None:
    # Within the limit again, the rule did nothing wrong.
    source = """
    var keep = [];
    try { for (;;) keep.push(new Float64Array(1 << 16)) } catch (e) { keep = null; log(String(e)) }
    reply('still here')"""
    actions = run(source, limits=BOMB_LIMITS)["actions"]
    assert actions == [
        {"type": "log", "value": "InternalError: out of memory"},
        {"type": "reply", "text": "still here"},
    ]


def test_deep_recursion_is_a_stack_overflow_with_its_line() -> None:
    with pytest.raises(RuleStackOverflow) as caught:
        run("reply('start')\nfunction down(n) { return down(n + 1) + 1 }\ndown(0)")
    assert caught.value.line == 2
    assert "stack limit of 256 KiB" in str(caught.value)


def test_stack_limit_is_per_call() -> None:
    source = "function depth(n) { return n ? depth(n - 1) + 1 : 0 } log(depth(300))"
    with pytest.raises(RuleStackOverflow):
        run(source)
    assert run(source, limits=Limits(stack_bytes=1024 * 1024))["actions"][0]["value"] == 300


def test_deeply_nested_data_is_a_stack_overflow() -> None:
    with pytest.raises(RuleStackOverflow) as caught:
        run("var a = []; for (var i = 0; i < 100000; i++) a = [a]; log(a)")
    assert caught.value.phase == "finish"  # JSON.stringify recursed


def test_deeply_nested_input_is_a_stack_overflow() -> None:
    nested: list[object] = []
    for _ in range(900):  # Python's own json stops near 1000
        nested = [nested]
    with pytest.raises(RuleStackOverflow) as caught:
        run("reply('unreached')", {"n": nested}, Limits(stack_bytes=64 * 1024))
    assert caught.value.phase == "input"
    assert "while reading its input" in str(caught.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"memory_bytes": 1024},
        {"cpu_seconds": 0},
        {"cpu_seconds": -1},
        {"stack_bytes": 8 * 1024},
        {"stack_bytes": 64 * 1024 * 1024},
    ],
)
def test_nonsense_limits_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Limits(**kwargs)  # type: ignore[arg-type]


def test_errors_are_hub_errors() -> None:
    for cls in (RuleTimeout, RuleMemoryError, RuleStackOverflow, RuleScriptError):
        assert issubclass(cls, RuleError)
        assert issubclass(cls, HubError)


# --- the same through the pool: stopped, and the worker carries on ----------


def _same_workers_still_serve(pool: PoolDriver, pids: list[int]) -> None:
    assert pool.run("reply('after')")["actions"] == [{"type": "reply", "text": "after"}]
    assert pool.pool.worker_pids() == pids  # nobody had to be restarted


@pytest.mark.parametrize("name", ["loop", "catch and continue", "throw looping toString"])
def test_pool_stops_runaway_and_keeps_the_worker(pool: PoolDriver, name: str) -> None:
    pool.run("reply('warm')")
    pids = pool.pool.worker_pids()
    before = sum(process_cpu_s(pid) for pid in pids)
    with pytest.raises(RuleTimeout, match="CPU-time limit of 250 ms"):
        pool.run(RUNAWAYS[name], limits=TIMED)
    # the workers' CPU time: the run's, and IPC and JSON's (well under a millisecond)
    assert sum(process_cpu_s(pid) for pid in pids) - before < 2 * CPU_LIMIT + WORKER_CPU_ALLOWANCE
    _same_workers_still_serve(pool, pids)


@pytest.mark.parametrize("name", ["string doubling", "array growth", "typed arrays"])
def test_pool_reports_memory_bomb_and_keeps_the_worker(pool: PoolDriver, name: str) -> None:
    pool.run("reply('warm')")
    pids = pool.pool.worker_pids()
    with pytest.raises(RuleMemoryError):
        pool.run(BOMBS[name], limits=BOMB_LIMITS)
    _same_workers_still_serve(pool, pids)


def test_pool_reports_stack_overflow_and_keeps_the_worker(pool: PoolDriver) -> None:
    pool.run("reply('warm')")
    pids = pool.pool.worker_pids()
    with pytest.raises(RuleStackOverflow) as caught:
        pool.run("\nfunction down() { down() }\ndown()")
    assert caught.value.line == 2
    _same_workers_still_serve(pool, pids)
