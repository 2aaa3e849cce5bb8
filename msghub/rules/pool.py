"""Worker processes that run rules, for the hub's event loop.

A crash in QuickJS (or a rule that somehow got past the CPU limit) takes down
one worker, never the hub: the call in flight fails with RuleEngineCrashed (or
RuleTimeout when the watchdog killed it) and the worker is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from msghub.hub.metrics import SANDBOX_RESTARTS
from msghub.rules import worker
from msghub.rules.engine import Limits, decode_result, encode_input
from msghub.rules.errors import ERROR_CLASSES, PHASES, RuleEngineCrashed, RuleError, RuleTimeout

# A fresh interpreter per worker (not fork: it would copy the hub's threads,
# sockets and locks; not multiprocessing's spawn: it re-imports the hub's main
# module). -I keeps the environment and the current directory out of it.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_WORKER_CODE = "import sys; sys.path.insert(0, {root!r}); from msghub.rules.worker import main; main({fd})"

# A worker that dies this many times before it is ready will not start at all.
_MAX_START_FAILURES = 3


class SandboxPool:
    """Runs rules in `workers` processes; one rule at a time per process.

    limits: used when run() is given none.
    grace: wall-clock seconds, on top of twice the CPU limit, before a worker
    that has not answered is killed (the engine's own CPU limit normally stops
    a rule long before; wall time also counts time the machine spent elsewhere).
    start_timeout: seconds a new worker may take to become ready.

    The pool belongs to the event loop of its first run(). Call close() (or use
    `async with`) when done.
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        limits: Limits | None = None,
        grace: float = 1.0,
        start_timeout: float = 60.0,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.limits = limits or Limits()
        self.grace = grace
        self.start_timeout = start_timeout
        self.closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Queue[_Slot | None] = asyncio.Queue()
        # Workers start now, so they are ready by the first run.
        self._slots = [_Slot(self) for _ in range(workers)]
        for slot in self._slots:
            self._idle.put_nowait(slot)

    async def run(
        self,
        prelude: str,
        source: str,
        input: Mapping[str, Any],
        finish: str,
        limits: Limits | None = None,
    ) -> dict[str, Any]:
        """Run prelude + source with `input` as a global, return JSON.parse(finish).

        The prelude (the rule API) and the rule share one global scope; finish
        is an expression evaluated afterwards that must give a JSON text of an
        object, e.g. `JSON.stringify({actions: __actions})`.
        Raises a RuleError subclass when the rule fails, ValueError when input
        is not JSON-serializable.
        """
        limits = limits or self.limits
        # Checked before taking a worker: bad input must not cost one.
        input_json = encode_input(input)
        self._bind_loop()
        slot = None if self.closed else await self._idle.get()
        if slot is None:
            self._idle.put_nowait(None)  # wake the next waiter too
            raise RuntimeError("the sandbox pool is closed")
        rest = [source, input_json, finish, limits.memory_bytes, limits.cpu_seconds, limits.stack_bytes]
        return _decode_reply(await slot.submit(_prelude_key(prelude), prelude, rest, limits))

    async def run_many(
        self,
        prelude: str,
        runs: Sequence[tuple[str, Mapping[str, Any]]],
        finish: str,
        limits: Limits | None = None,
    ) -> list[dict[str, Any] | RuleError]:
        """Runs each (source, input) like run(), each in its own fresh context
        under its own limits, with one round trip per worker for all of them
        (the runs are shared out among the workers). Returns each run's result
        or its error, in order. If a worker dies mid-batch (a crash, a hard
        timeout), every run it had not answered fails with RuleEngineCrashed:
        run those again one by one to learn which one it was."""
        limits = limits or self.limits
        encoded = [(source, encode_input(input)) for source, input in runs]
        if not encoded:
            return []
        self._bind_loop()
        size = -(-len(encoded) // len(self._slots))
        chunks = [encoded[i : i + size] for i in range(0, len(encoded), size)]
        replies = await asyncio.gather(*(self._run_chunk(prelude, chunk, finish, limits) for chunk in chunks))
        return [result for chunk in replies for result in chunk]

    async def _run_chunk(
        self, prelude: str, chunk: list[tuple[str, str]], finish: str, limits: Limits
    ) -> list[dict[str, Any] | RuleError]:
        slot = None if self.closed else await self._idle.get()
        if slot is None:
            self._idle.put_nowait(None)
            raise RuntimeError("the sandbox pool is closed")
        rest = [
            [list(pair) for pair in chunk],
            None,
            finish,
            limits.memory_bytes,
            limits.cpu_seconds,
            limits.stack_bytes,
        ]
        try:
            reply = await slot.submit(_prelude_key(prelude), prelude, rest, limits, runs=len(chunk))
        except RuleError as exc:
            return [exc] * len(chunk)
        return _decode_batch(reply, len(chunk))

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for monitoring and tests)."""
        return [s.process.pid for s in self._slots if s.process is not None]

    def close(self) -> None:
        """Stop all workers; runs still in flight fail with RuleEngineCrashed."""
        if self.closed:
            return
        self.closed = True
        for slot in self._slots:
            if slot.future is not None:
                slot._kill()  # its call fails anyway: no need to wait for it
            slot.hang_up()
        deadline = time.monotonic() + 1.0
        for slot in self._slots:
            slot.reap(deadline)
        while not self._idle.empty():
            self._idle.get_nowait()
        self._idle.put_nowait(None)  # wakes whoever waits for a worker

    async def __aenter__(self) -> SandboxPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            for slot in self._slots:
                slot.listen()
        elif self._loop is not loop:
            raise RuntimeError("a SandboxPool can only be used from one event loop")

    def _release(self, slot: _Slot) -> None:
        if not self.closed:
            self._idle.put_nowait(slot)


class _Slot:
    """One worker process, replaced in place when it dies."""

    def __init__(self, pool: SandboxPool) -> None:
        self.pool = pool
        self.ready = asyncio.Event()
        self.future: asyncio.Future[bytes] | None = None
        self.watchdog: asyncio.TimerHandle | None = None
        self.killed_by_watchdog = False
        self.max_reply = 0
        self.cpu_seconds = 0.0
        self.start_failures = 0
        self.broken = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self.preludes: list[str] = []  # what the current process has cached
        self.spawn()

    def remember_prelude(self, key: str) -> None:
        self.preludes.append(key)
        del self.preludes[: -worker.PRELUDE_CACHE]

    def spawn(self) -> None:
        self.preludes = []
        ours, theirs = socket.socketpair()
        with ours, theirs:
            fd = theirs.fileno()
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", _WORKER_CODE.format(root=_PACKAGE_ROOT, fd=fd)],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                # Out of the terminal's process group: Ctrl-C is for the hub.
                start_new_session=True,
            )
            # Closing our copy of their end makes the worker's death read as EOF.
            self.conn = Connection(ours.detach())
        self.process = process
        self.ready.clear()
        self.killed_by_watchdog = False
        self.listen()

    def listen(self) -> None:
        loop = self.pool._loop
        if loop is not None and self.conn is not None:
            loop.add_reader(self.conn.fileno(), self._on_readable)

    async def submit(self, key: str, prelude: str, rest: list[Any], limits: Limits, runs: int = 1) -> bytes:
        if not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), self.pool.start_timeout)
            except TimeoutError:
                self._kill()  # it is replaced when its pipe closes
                self.pool._release(self)
                raise RuleEngineCrashed(
                    f"a rule engine worker did not start within {self.pool.start_timeout:g} s",
                    phase="engine",
                ) from None
            except BaseException:
                self.pool._release(self)
                raise
        if self.broken:
            self.pool._release(self)
            raise RuleEngineCrashed(self.broken, phase="engine")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self.future = future
        # Twice the memory limit covers any text the engine can build, as UTF-8.
        self.max_reply = runs * (2 * limits.memory_bytes + 65536)
        self.cpu_seconds = limits.cpu_seconds
        self.watchdog = loop.call_later(runs * 2 * limits.cpu_seconds + self.pool.grace, self._on_watchdog)
        # built now that the worker is ready: a replacement has no preludes yet
        known = key in self.preludes
        request = json.dumps([key, None if known else prelude, *rest]).encode()
        if not known:
            self.remember_prelude(key)
        assert self.conn is not None
        try:
            self.conn.send_bytes(request)
        except OSError:
            self._died()  # fails the future
        return await future

    def _on_readable(self) -> None:
        assert self.conn is not None
        try:
            data = self.conn.recv_bytes(self.max_reply or 64)
        except (EOFError, OSError):
            self._died()
            return
        if not self.ready.is_set():
            if data == worker.READY:
                self.start_failures = 0
                self.ready.set()
            else:
                self._died()
            return
        future, self.future = self.future, None
        if future is None:  # a reply nobody asked for: do not trust this worker
            self._kill()
            return
        self._stop_watchdog()
        if not future.done():  # done = the caller was cancelled
            future.set_result(data)
        self.pool._release(self)

    def _on_watchdog(self) -> None:
        self.watchdog = None
        self.killed_by_watchdog = True
        self._kill()

    def _kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def _died(self) -> None:
        """The pipe closed or broke: reap the worker, fail its call, start another."""
        was_ready = self.ready.is_set()
        killed = self.killed_by_watchdog
        self.hang_up()
        exitcode = self.reap(time.monotonic() + 1.0)
        self._stop_watchdog()
        future, self.future = self.future, None
        if future is not None and not future.done():
            future.set_exception(self._death_error(exitcode, killed))
        if self.pool.closed:
            return
        if not was_ready:
            self.start_failures += 1
            if self.start_failures >= _MAX_START_FAILURES:
                self.broken = f"rule engine workers cannot start (last exit code {exitcode})"
                self.ready.set()  # let waiters see `broken`
                return
        SANDBOX_RESTARTS.inc()
        self.spawn()
        if future is not None:
            self.pool._release(self)

    def _death_error(self, exitcode: int | None, killed: bool) -> RuleError:
        if killed:
            return RuleTimeout(
                "rule did not stop at its CPU-time limit; its worker was killed",
                phase="engine",
            )
        if exitcode == -signal.SIGPROF:  # the worker's own CPU-time backstop
            return RuleTimeout(
                f"rule exceeded its CPU-time limit of {self.cpu_seconds * 1000:g} ms"
                " inside a built-in operation that cannot be interrupted",
                phase="rule",
            )
        if self.pool.closed:
            return RuleEngineCrashed("the sandbox pool was closed during the run", phase="engine")
        how = f"exit code {exitcode}"
        if exitcode is not None and exitcode < 0:
            with contextlib.suppress(ValueError):
                how = f"killed by {signal.Signals(-exitcode).name}"
        return RuleEngineCrashed(
            f"the rule engine worker died during the run ({how}); a new one was started",
            phase="engine",
        )

    def _stop_watchdog(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None

    def hang_up(self) -> None:
        """Stop listening and close our end; an idle worker then exits by itself."""
        if self.conn is None:
            return
        loop = self.pool._loop
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self.conn.fileno())
        self.conn.close()
        self.conn = None
        if self.pool.closed:
            self._stop_watchdog()
            future, self.future = self.future, None
            if future is not None and not future.done():
                future.set_exception(self._death_error(None, False))

    def reap(self, deadline: float) -> int | None:
        """Wait for the worker to exit (killing it at the deadline); return its exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        try:
            return process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


def _prelude_key(prelude: str) -> str:
    # A worker keeps the preludes it has seen under this key: the rule API is
    # sent once per worker, not with every run.
    return hashlib.sha256(prelude.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _decode_batch(reply: bytes, count: int) -> list[dict[str, Any] | RuleError]:
    crashed = RuleEngineCrashed("the rule engine worker sent a reply it should not", phase="engine")
    try:
        items = json.loads(reply[1:]) if reply[:1] == b"B" else None
    except ValueError:
        items = None
    if not isinstance(items, list) or len(items) != count or not all(isinstance(i, str) for i in items):
        if reply[:1] == b"E":  # the whole batch was refused (e.g. a prelude too big)
            try:
                _decode_reply(reply)
            except RuleError as exc:
                return [exc] * count
        return [crashed] * count
    out: list[dict[str, Any] | RuleError] = []
    for item in items:
        try:
            out.append(_decode_reply(item.encode()))
        except RuleError as exc:
            out.append(exc)
    return out


def _decode_reply(reply: bytes) -> dict[str, Any]:
    if reply[:1] == b"R":
        return decode_result(reply[1:].decode())
    error: RuleError = RuleEngineCrashed("the rule engine worker sent a reply it should not", phase="engine")
    if reply[:1] == b"E":
        with contextlib.suppress(ValueError, TypeError, KeyError):
            error = _error_from_record(json.loads(reply[1:]))
    raise error


def _error_from_record(record: dict[str, Any]) -> RuleError:
    # Checked field by field: a worker is not trusted to send sane data.
    cls = ERROR_CLASSES[record["cls"]]
    phase, line, column = record["phase"], record["line"], record["column"]
    if phase not in PHASES or not all(v is None or type(v) is int for v in (line, column)):
        raise ValueError(phase)
    return cls(
        str(record["message"]),
        detail=str(record["detail"]),
        phase=phase,
        line=line,
        column=column,
    )
