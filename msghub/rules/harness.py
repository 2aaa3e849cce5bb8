"""The JavaScript side of a sandboxed run, and how to read what it reports.

The harness is evaluated first in every fresh context, before any caller or
rule code, and returns one function that runs the rest. It exists because the
Python binding converts an error escaping the engine to text by calling the
error's own toString and reading its .stack *without* a CPU limit: a rule
throwing `{toString() { for (;;); }}` would hang the worker forever. So the
harness catches everything catchable itself (inside the CPU limit), and only
hands back primitive strings it built; the errors it cannot catch (interrupt,
out of memory) are engine-made, and the harness first locks down everything
their conversion reaches (error prototypes, Error.prepareStackTrace, and
Object.prototype against a new Symbol.toPrimitive).

Every function the harness defines is named __hub_* so its stack frames can be
told from the rule's: the binding names all code "<input>".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# Compiled only when an error (or queueMicrotask) needs it: QuickJS compiles at
# roughly 10 MB/s and this would otherwise cost every run ~0.1 ms. It refers
# to nothing global, only to the intrinsics the harness captured beforehand.
_SUPPORT_JS = r"""
(function (apply, StringCtor, slice, toWellFormed, isError, errorToString, getPrototypeOf,
           InternalErrorProto, RangeErrorProto, TypeErrorCtor, nativeQueueMicrotask) {
  'use strict';
  // toWellFormed also flattens a rope string, which the binding cannot read,
  // and replaces lone surrogates, which it cannot decode.
  const out = function __hub_out(s) { return apply(toWellFormed, s, []); };

  const text = function __hub_text(v, max) {
    let s;
    try { s = typeof v === 'string' ? v : StringCtor(v); } catch (_) { return '(unprintable)'; }
    if (s.length > max) s = apply(slice, s, [0, max]) + '...';
    return out(s);
  };

  // "E" kind "\n" message-length "\n" message "\n" stack
  const describe = function __hub_describe(e) {
    let kind = 'script';
    let message = 'uncaught exception (unprintable)';
    let stack = '';
    try {
      if (e === null || typeof e === 'unknown') {
        // What the engine throws when it cannot even allocate the error (an
        // internal "uninitialized" value shows as typeof 'unknown'). A rule's
        // own `throw null` looks the same and is reported alike.
        kind = 'memory';
        message = 'out of memory (no error object)';
      } else if (typeof e === 'object' && isError(e)) {
        const proto = getPrototypeOf(e);
        const msg = e.message;
        if (proto === InternalErrorProto
            && (msg === 'out of memory' || msg === 'string too long')) {
          kind = 'memory';
        } else if ((proto === RangeErrorProto && msg === 'Maximum call stack size exceeded')
                   || (proto === InternalErrorProto && msg === 'stack overflow')) {
          kind = 'stack';
        }
        message = text(apply(errorToString, e, []), 1000);
        const st = e.stack;
        if (typeof st === 'string') stack = text(st, 4000);
      } else {
        message = 'uncaught exception: ' + text(e, 1000);
      }
    } catch (_) { /* keep the placeholder */ }
    return out('E' + kind + '\n' + message.length + '\n' + message + '\n' + stack);
  };

  // A throwing microtask would otherwise surface through the binding.
  let jobError = 'O';
  const queue = function __hub_queueMicrotask(callback) {
    if (typeof callback !== 'function') {
      throw new TypeErrorCtor('queueMicrotask: the argument must be a function');
    }
    apply(nativeQueueMicrotask, undefined, [function __hub_microtask() {
      try {
        apply(callback, undefined, []);
      } catch (e) {
        if (jobError === 'O') jobError = describe(e);
      }
    }]);
  };
  const takeJobError = function __hub_jobError() {
    const reply = jobError;
    jobError = 'O';
    return reply;
  };
  return [describe, queue, takeJobError];
})
"""

HARNESS_JS = r"""
(function __hub_setup(g) {
  'use strict';
  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  const indirectEval = g.eval;
  const toWellFormed = g.String.prototype.toWellFormed;
  const ErrorCtor = g.Error;
  const intrinsics = [apply, g.String, g.String.prototype.slice, toWellFormed, ErrorCtor.isError,
    ErrorCtor.prototype.toString, Object.getPrototypeOf, g.InternalError.prototype,
    g.RangeError.prototype, g.TypeError, g.queueMicrotask];

  const errorNames = ['EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError',
    'URIError', 'InternalError', 'AggregateError', 'SuppressedError'];
  for (let i = 0; i < errorNames.length; i++) {
    const C = g[errorNames[i]];
    if (typeof C === 'function') Object.freeze(C.prototype);
  }
  defineProperty(ErrorCtor.prototype, 'toString', { writable: false, configurable: false });
  defineProperty(ErrorCtor.prototype, 'stack', { configurable: false });
  defineProperty(ErrorCtor, 'prepareStackTrace',
    { value: undefined, writable: false, configurable: false });
  Object.preventExtensions(ErrorCtor.prototype);
  Object.preventExtensions(Object.prototype);
  // Their callbacks would run during garbage collection, outside any limit.
  delete g.FinalizationRegistry;
  delete g.WeakRef;

  let support = null;
  const lazy = function __hub_support() {
    if (support === null) support = apply(indirectEval(__SUPPORT__), undefined, intrinsics);
    return support;
  };
  // An arrow, like the native one: no constructor, no prototype.
  const __hub_queueMicrotask = (callback) => { lazy()[1](callback); };
  defineProperty(g, 'queueMicrotask',
    { value: __hub_queueMicrotask, writable: true, enumerable: false, configurable: true });

  // phase 0: run code, a global script whose value is the finishing function;
  // 1: report a microtask error; 2: call the finishing function, which must
  // give a string.
  let finisher = null;
  return function __hub_call(phase, code) {
    if (phase === 1) return support === null ? 'O' : support[2]();
    let value;
    try {
      if (phase === 0) {
        finisher = indirectEval(code);
        return 'O';
      }
      value = apply(finisher, undefined, []);
    } catch (e) {
      return lazy()[0](e);
    }
    if (typeof value !== 'string') return 'T' + typeof value;
    return apply(toWellFormed, 'R' + value, []);
  };
})(globalThis)
""".replace("__SUPPORT__", json.dumps(_SUPPORT_JS))

# Reply tags of __hub_call; an error reply is "E" + what __hub_describe built.
OK, ERROR, RESULT, WRONG_TYPE = "O", "E", "R", "T"

_FRAME = re.compile(r"^\s*at (?:(?P<name>.*?) \()?<input>:(?P<line>\d+):(?P<col>\d+)\)?\s*$")
_EVAL_FRAME = re.compile(r"^\s*at eval \(native\)\s*$")


@dataclass(frozen=True, slots=True)
class Failure:
    """A JS failure as text: kind is script, memory, stack or timeout."""

    kind: str
    message: str
    stack: str


def parse_described(payload: str) -> Failure:
    """Decode the text __hub_describe built (without its "E")."""
    kind, length, rest = payload.split("\n", 2)
    n = int(length)
    return Failure(kind, rest[:n], rest[n + 1 :])


def failure_from_exception(text: str, *, stack_overflow: bool) -> Failure:
    """Classify an error that escaped the harness (the binding's "message\\nstack")."""
    message, _, stack = text.partition("\n")
    if message.startswith("InternalError: interrupted"):
        kind = "timeout"
    elif stack_overflow or "Maximum call stack size exceeded" in message:
        kind = "stack"
    elif message in ("InternalError: out of memory", "InternalError: string too long", "null"):
        # The engine throws a bare null when it cannot even allocate the error;
        # a rule's own `throw null` never gets here, the harness catches it.
        kind = "memory"
    else:
        kind = "script"
    return Failure(kind, message, stack)


@dataclass(frozen=True, slots=True)
class Location:
    phase: str
    line: int | None
    column: int | None


def locate(failure: Failure, *, phase: str, prelude_lines: int, rule_end: int) -> Location:
    """Find where in the caller's code an error happened.

    Prelude, rule and finishing function run as one script, in that order:
    lines up to prelude_lines are the prelude's, up to rule_end the rule's,
    the rest the finish's. The innermost frame in the rule wins: an error
    inside a prelude function called by the rule is shown at the rule's call.
    """
    lines = failure.stack.splitlines()
    # Frames after the harness's own eval call are the harness's.
    for i in range(len(lines) - 1, -1, -1):
        if _EVAL_FRAME.match(lines[i]):
            lines = lines[:i]
            break
    prelude_hit: Location | None = None
    innermost = True
    for raw in lines:
        m = _FRAME.match(raw)
        if m is None or (m.group("name") or "").startswith("__hub_"):
            continue
        # An interrupt records the start of the running function, not the
        # statement; for top-level code that is line 1 of the prelude.
        bogus = failure.kind == "timeout" and innermost and m.group("name") == "<eval>"
        innermost = False
        if bogus:
            continue
        line, col = int(m.group("line")), int(m.group("col"))
        if line > rule_end:
            if phase == "rule":  # the finish does not run then: a syntax error in it
                return Location("finish", None, None)
            continue
        if line > prelude_lines:
            return Location(phase, line - prelude_lines, col)
        if prelude_hit is None and phase == "rule":
            prelude_hit = Location("prelude", line, col)
    return prelude_hit or Location(phase, None, None)
