"""One rule evaluation in a fresh QuickJS context, in the current process.

Every run gets a new context (a new QuickJS runtime, in this binding), so
nothing a rule does survives into the next run. The binding offers no way to
keep compiled code or to clone a context, so the prelude is compiled anew
each time; a fresh context costs about 0.15 ms.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import quickjs

from msghub.rules.errors import (
    RuleError,
    RuleMemoryError,
    RuleScriptError,
    RuleStackOverflow,
    RuleTimeout,
)
from msghub.rules.harness import (
    ERROR,
    HARNESS_JS,
    RESULT,
    WRONG_TYPE,
    Failure,
    failure_from_exception,
    locate,
    parse_described,
)

KIB = 1024
MIB = 1024 * KIB

# Engine code runs on the calling thread's C stack; QuickJS only checks its own
# limit, so the limit must stay well below the real stack (8 MiB for a main
# thread, also what the workers use).
MAX_STACK_BYTES = 4 * MIB


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits for one run.

    memory_bytes: everything the run allocates in the engine, including the
    parsed input and the result text.
    cpu_seconds: CPU time of the whole run (prelude, rule, microtasks, finish).
    stack_bytes: C stack the engine may use for nested calls and nested data.
    """

    memory_bytes: int = 16 * MIB
    cpu_seconds: float = 0.05
    stack_bytes: int = 256 * KIB

    def __post_init__(self) -> None:
        if not 256 * KIB <= self.memory_bytes <= 4096 * MIB:
            raise ValueError("memory_bytes must be between 256 KiB and 4 GiB")
        if not 0 < self.cpu_seconds <= 60:
            raise ValueError("cpu_seconds must be more than 0 and at most 60")
        # Below ~48 KiB even the harness and a trivial rule do not fit.
        if not 64 * KIB <= self.stack_bytes <= MAX_STACK_BYTES:
            raise ValueError(f"stack_bytes must be between 64 KiB and {MAX_STACK_BYTES // MIB} MiB")


def run_once(
    prelude: str,
    source: str,
    input: Mapping[str, Any],
    finish: str,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """Run a rule here and now; see SandboxPool.run for the meaning.

    Without a worker there is no watchdog: use the pool for untrusted rules
    inside the hub.
    """
    text = evaluate(prelude, source, encode_input(input), finish, limits or Limits())
    return decode_result(text)


def encode_input(input: Mapping[str, Any]) -> str:
    """The input as ASCII JSON (escapes keep lone surrogates and NULs representable)."""
    try:
        return json.dumps(input, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"rule input is not JSON-serializable: {exc}") from None


def decode_result(text: str) -> dict[str, Any]:
    """Parse the finishing expression's text; it must be a JSON object."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise RuleScriptError("rule result is nested too deeply to be read", phase="finish") from None
    except ValueError as exc:
        raise RuleScriptError(f"rule result is not valid JSON: {exc}", detail=text[:200], phase="finish") from None
    if not isinstance(value, dict):
        raise RuleScriptError(f"rule result must be a JSON object, not {_json_type(value)}", phase="finish")
    return value


def evaluate(prelude: str, source: str, input_json: str, finish: str, limits: Limits) -> str:
    """Run prelude + source with `input` set, then return the text `finish` gives."""
    for phase, text in (("prelude", prelude), ("rule", source), ("finish", finish)):
        _check_text(text, phase)
    # One script, so the finishing function sees the prelude's and the rule's
    # top-level let/const/class too (each eval has its own lexical scope).
    code = f"{prelude}\n{source}\n;(() => ({finish}\n))"
    prelude_lines = prelude.count("\n") + 1
    rule_end = prelude_lines + source.count("\n") + 1
    return _Run(limits, prelude_lines, rule_end).go(code, input_json)


def _check_text(text: str, phase: str) -> None:
    # The binding hands code over as a C string: a NUL would silently cut it
    # short, a lone surrogate cannot be encoded at all.
    problem = None
    if "\x00" in text:
        problem = "contains a NUL character"
    else:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            problem = "is not valid Unicode (lone surrogate)"
    if problem:
        raise RuleScriptError(f"rule {phase} {problem}", phase=phase)


class _Run:
    """One evaluation: keeps the CPU budget across the engine calls it makes."""

    def __init__(self, limits: Limits, prelude_lines: int, rule_end: int) -> None:
        self.limits = limits
        self.prelude_lines = prelude_lines
        self.rule_end = rule_end
        self.ctx = quickjs.Context()
        self.ctx.set_memory_limit(limits.memory_bytes)
        self.ctx.set_max_stack_size(limits.stack_bytes)
        self.started = time.process_time()

    def go(self, code: str, input_json: str) -> str:
        hub = self._call("engine", self.ctx.eval, HARNESS_JS)
        self.ctx.set("input", self._call("input", self.ctx.parse_json, input_json))
        self._expect_ok("rule", self._call("rule", hub, 0, code))
        # Promise jobs (async functions, then-callbacks) run now, on the same
        # budget; each job gets only what is left of it.
        while self._call("rule", self.ctx.execute_pending_job):
            pass
        self._expect_ok("rule", self._call("rule", hub, 1, ""))
        reply = self._call("finish", hub, 2, "")
        if reply.startswith(RESULT):
            return str(reply[1:])
        if reply.startswith(WRONG_TYPE):
            raise RuleScriptError(
                f"rule result could not be built: the finishing expression gave {reply[1:]}, not a JSON string",
                phase="finish",
            )
        self._expect_ok("finish", reply)
        raise AssertionError("unreachable")  # pragma: no cover

    def _call(self, phase: str, fn: Callable[..., Any], *args: Any) -> Any:
        left = self.limits.cpu_seconds - (time.process_time() - self.started)
        if left <= 0:
            raise self._error(Failure("timeout", "", ""), phase)
        # The binding restarts its clock on every call: hand it what is left.
        self.ctx.set_time_limit(left)
        try:
            return fn(*args)
        except quickjs.JSException as exc:
            failure = failure_from_exception(str(exc), stack_overflow=isinstance(exc, quickjs.StackOverflow))
            raise self._error(failure, phase) from None

    def _expect_ok(self, phase: str, reply: Any) -> None:
        if not isinstance(reply, str):  # pragma: no cover - the harness returns strings
            raise RuleScriptError(f"rule engine gave an unexpected reply: {reply!r}", phase=phase)
        if reply.startswith(ERROR):
            raise self._error(parse_described(reply[1:]), phase)

    def _error(self, failure: Failure, phase: str) -> RuleError:
        where = locate(failure, phase=phase, prelude_lines=self.prelude_lines, rule_end=self.rule_end)
        return make_error(failure, where.phase, where.line, where.column, self.limits)


def make_error(failure: Failure, phase: str, line: int | None, column: int | None, limits: Limits) -> RuleError:
    """Build the exception, with a message a rule's author can act on."""
    at = ""
    if line is not None:
        at = f" at line {line}" + (f", column {column}" if column is not None else "")
    if phase == "prelude":
        at = f" in the prelude{at}"
    elif phase == "input":
        at = " while reading its input"
    cls: type[RuleError]
    if failure.kind == "timeout":
        cls = RuleTimeout
        message = f"rule exceeded its CPU-time limit of {_ms(limits.cpu_seconds)}{at}"
    elif failure.kind == "memory":
        cls = RuleMemoryError
        message = f"rule exceeded its memory limit of {_size(limits.memory_bytes)}{at}"
    elif failure.kind == "stack":
        cls = RuleStackOverflow
        message = f"rule exceeded its stack limit of {_size(limits.stack_bytes)} (calls or data nested too deeply){at}"
    elif phase == "finish":
        cls = RuleScriptError
        message = f"rule result could not be built{at}: {failure.message}"
    else:
        cls = RuleScriptError
        message = f"rule failed{at}: {failure.message}"
    return cls(message, detail=failure.message, phase=phase, line=line, column=column)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:g} ms"


def _size(n: int) -> str:
    if n % MIB == 0:
        return f"{n // MIB} MiB"
    if n % KIB == 0:
        return f"{n // KIB} KiB"
    return f"{n} bytes"


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
