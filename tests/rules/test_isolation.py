"""A rule reaches its input and the prelude's API, and nothing else."""

from __future__ import annotations

import asyncio

import pytest

from msghub.rules.sandbox import Limits, RuleScriptError, RuleTimeout, SandboxPool
from tests.rules.conftest import FINISH, PRELUDE, PoolDriver, run, value

# Every global a rule can see. A quickjs-ng upgrade that adds one fails this
# test on purpose: look at what it is before allowing it.
STANDARD_GLOBALS = {
    "AggregateError", "Array", "ArrayBuffer", "AsyncDisposableStack", "Atomics", "BigInt",
    "BigInt64Array", "BigUint64Array", "Boolean", "DOMException", "DataView", "Date",
    "DisposableStack", "Error", "EvalError", "Float16Array", "Float32Array", "Float64Array",
    "Function", "Infinity", "Int16Array", "Int32Array", "Int8Array", "InternalError", "Iterator",
    "JSON", "Map", "Math", "NaN", "Number", "Object", "Promise", "Proxy", "RangeError",
    "ReferenceError", "Reflect", "RegExp", "Set", "SharedArrayBuffer", "String",
    "SuppressedError", "Symbol", "SyntaxError", "TypeError", "URIError", "Uint16Array",
    "Uint32Array", "Uint8Array", "Uint8ClampedArray", "WeakMap", "WeakSet", "atob", "btoa",
    "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "eval",
    "globalThis", "isFinite", "isNaN", "parseFloat", "parseInt", "performance",
    "queueMicrotask", "undefined", "unescape",
}  # fmt: skip
PRELUDE_GLOBALS = {"__actions", "reply", "log"}


def test_globals_are_the_standard_ones_plus_input_and_the_prelude() -> None:
    names = value("Object.getOwnPropertyNames(globalThis)")
    assert set(names) == STANDARD_GLOBALS | PRELUDE_GLOBALS | {"input"}


def test_symbol_keyed_globals_are_standard() -> None:
    assert value("Object.getOwnPropertySymbols(globalThis).map(String)") == ["Symbol(Symbol.toStringTag)"]


@pytest.mark.parametrize(
    "name",
    ["require", "std", "os", "print", "console", "fetch", "XMLHttpRequest", "process",
     "setTimeout", "scriptArgs", "bjson", "FinalizationRegistry", "WeakRef"],
)  # fmt: skip
def test_host_objects_are_absent(name: str) -> None:
    assert value(f"typeof {name}") == "undefined"


@pytest.mark.parametrize("module", ["os", "std", "qjs:os", "qjs:std", "/etc/passwd", "./x.js"])
def test_dynamic_import_loads_nothing(module: str) -> None:
    source = f"import({module!r}).then(m => log('loaded ' + Object.keys(m)), e => log(String(e)))"
    (action,) = run(source)["actions"]
    assert action["value"].startswith("ReferenceError: could not load module")


def test_static_import_is_a_syntax_error() -> None:
    with pytest.raises(RuleScriptError, match="SyntaxError"):
        run("import * as os from 'os'")


def test_function_constructor_gives_back_the_same_sandbox() -> None:
    assert value("Function('return this')() === globalThis") is True
    assert value("Function('return typeof require + typeof std')()") == "undefinedundefined"
    assert value("(0, eval)('typeof os')") == "undefined"
    # Reaching the constructor through a prototype changes nothing either.
    assert value("(() => {}).constructor('return this')() === globalThis") is True


def test_eval_runs_under_the_same_limits() -> None:
    with pytest.raises(RuleTimeout):
        run("eval('while (true) {}')", limits=Limits(cpu_seconds=0.05))


def test_input_is_plain_data() -> None:
    found = value(
        "[Object.getPrototypeOf(input) === Object.prototype, Object.values(input).map(v => typeof v)]",
        input={"a": "text", "b": 1, "c": None, "d": [1], "e": {"f": True}},
    )
    assert found == [True, ["string", "number", "object", "object", "object"]]


def test_nothing_of_the_harness_is_visible() -> None:
    assert value("Object.getOwnPropertyNames(globalThis).filter(n => /hub/i.test(n))") == []
    assert value("queueMicrotask.toString().includes('native') || 'wrapped'") == "wrapped"
    # The wrapper gives nothing away: no way back to its closure.
    assert value("Object.getOwnPropertyNames(queueMicrotask).sort()") == ["length", "name"]


def test_blocking_wait_is_refused() -> None:
    # A blocked rule would use no CPU and so never meet its CPU limit.
    source = "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10000)"
    with pytest.raises(RuleScriptError, match="cannot block"):
        run(source)


def test_error_reporting_path_is_locked() -> None:
    source = """
    var tries = [
      function () { 'use strict'; Error.prototype.toString = () => 'x' },
      function () { 'use strict'; Object.defineProperty(Error.prototype, 'stack', {value: 1}) },
      function () { 'use strict'; RangeError.prototype.name = 'x' },
      function () { 'use strict'; Object.setPrototypeOf(InternalError.prototype, {}) },
      function () { 'use strict'; Error.prepareStackTrace = () => 'x' },
      function () { 'use strict'; Object.prototype[Symbol.toPrimitive] = () => 'x' },
      function () { 'use strict'; Error.prototype[Symbol.toPrimitive] = () => 'x' },
    ];
    tries.forEach(t => { try { t(); log('allowed') } catch (e) { log(e.name) } });
    log(String(new RangeError('still fine')))"""
    values = [a["value"] for a in run(source)["actions"]]
    assert values == ["TypeError"] * 7 + ["RangeError: still fine"]
    # Ordinary use of errors still works: a subclass may name itself.
    found = value(
        "String(new Bad('no'))",
        "class Bad extends Error { constructor(m) { super(m); this.name = 'Bad' } }",
    )
    assert found == "Bad: no"


# --- nothing survives from one run to the next --------------------------------

POLLUTE = """
globalThis.leak = 'leaked';
Array.prototype.leak = 'leaked';
String.prototype.trim = function () { return 'leaked' };
JSON.stringify = function () { return '{"actions": ["leaked"]}' };
Math.random = () => 4;
var counter = (typeof counter === 'number' ? counter : 0) + 1;
try { Object.prototype.leak = 'leaked' } catch (e) {}
"""
PROBE = """
log([typeof leak, [].leak, ' x '.trim(), Math.random() === 4, typeof counter, ({}).leak])
"""
CLEAN = ["undefined", None, "x", False, "undefined", None]


def test_state_does_not_survive_between_runs() -> None:
    run(POLLUTE)
    assert run(PROBE)["actions"] == [{"type": "log", "value": CLEAN}]


def test_state_does_not_survive_in_a_worker() -> None:
    async def twice() -> object:
        # One worker: the probe is sure to run where the pollution ran.
        async with SandboxPool(workers=1) as pool:
            await pool.run(PRELUDE, POLLUTE, {}, FINISH)
            return (await pool.run(PRELUDE, PROBE, {}, FINISH))["actions"]

    assert asyncio.run(twice()) == [{"type": "log", "value": CLEAN}]


def test_pool_reaches_no_more_than_run_once(pool: PoolDriver) -> None:
    names = pool.run("log(Object.getOwnPropertyNames(globalThis))")["actions"][0]["value"]
    assert set(names) == STANDARD_GLOBALS | PRELUDE_GLOBALS | {"input"}
