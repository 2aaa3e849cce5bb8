"""The loop a sandbox worker process runs.

Kept apart from the pool so a worker imports only the engine. The parent
talks to it over a socket, in multiprocessing.connection messages:

request:  JSON [prelude_key, prelude, source, input_json, finish, memory, cpu, stack]
          (prelude is null when this worker has had it under that key: the
          parent remembers the last PRELUDE_CACHE keys it sent to each worker)
          or, for a batch, source is a list of [source, input_json] and
          input_json is null
reply:    b"ready" once at start, then per request
          b"R" + the result's JSON text, or
          b"E" + JSON {"cls", "message", "detail", "phase", "line", "column"}
          or, for a batch, b"B" + a JSON list of such replies as strings

The parent never unpickles what a worker sends: if a rule ever broke out of
the engine, the worst it could send back is wrong data.
"""

from __future__ import annotations

import json
import signal
from multiprocessing.connection import Connection
from typing import Any

from msghub.rules.engine import Limits, evaluate
from msghub.rules.errors import RuleEngineCrashed, RuleError

READY = b"ready"
PRELUDE_CACHE = 8

_preludes: dict[str, str] = {}


def parse(request: bytes) -> tuple[str, Any, Any, str, Limits]:
    key, prelude, source, input_json, finish, memory, cpu, stack = json.loads(request)
    if prelude is None:
        prelude = _preludes[key]  # a KeyError is a parent bug: the worker dies, the call fails
    else:
        _preludes[key] = prelude
        while len(_preludes) > PRELUDE_CACHE:
            del _preludes[next(iter(_preludes))]
    limits = Limits(memory_bytes=memory, cpu_seconds=cpu, stack_bytes=stack)
    return prelude, source, input_json, finish, limits


def handle(prelude: str, source: str, input_json: str, finish: str, limits: Limits) -> bytes:
    """Run one request; never raises for anything a rule can do."""
    try:
        text = evaluate(prelude, source, input_json, finish, limits)
    except RuleError as exc:
        return _error(exc)
    except Exception as exc:
        # A binding bug, not the rule's doing; the next run gets a fresh
        # context anyway, so the worker itself can carry on.
        return _error(RuleEngineCrashed(f"rule engine failed: {type(exc).__name__}: {exc}", phase="engine"))
    return b"R" + text.encode()


def guarded(prelude: str, source: str, input_json: str, finish: str, limits: Limits) -> bytes:
    # The engine checks its CPU limit between operations; one built-in call
    # on a big string can run past it. At twice the limit the kernel ends this
    # process (SIGPROF's default action), and the pool reports a timeout and
    # starts a new worker.
    signal.setitimer(signal.ITIMER_PROF, 2 * limits.cpu_seconds)
    try:
        return handle(prelude, source, input_json, finish, limits)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def _error(exc: RuleError) -> bytes:
    record = {
        "cls": type(exc).__name__,
        "message": str(exc),
        "detail": exc.detail,
        "phase": exc.phase,
        "line": exc.line,
        "column": exc.column,
    }
    return b"E" + json.dumps(record).encode()


def main(fd: int) -> None:
    """Serve requests on socket `fd` until the parent closes its end."""
    conn = Connection(fd)
    # The hub decides when a worker stops, by closing the socket: a stray
    # SIGINT (the worker runs in its own session, so not Ctrl-C) is ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    conn.send_bytes(READY)
    while True:
        try:
            prelude, source, input_json, finish, limits = parse(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if isinstance(source, list):
            replies = [guarded(prelude, s, i, finish, limits).decode() for s, i in source]
            reply = b"B" + json.dumps(replies).encode()
        else:
            reply = guarded(prelude, source, input_json, finish, limits)
        try:
            conn.send_bytes(reply)
        except OSError:
            return
