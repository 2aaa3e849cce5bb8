"""One AT command at a time over a byte link, with unsolicited codes apart.

command() waits its turn (an asyncio.Lock is the queue: FIFO, one command in
flight per device), writes the command, and collects the answer until a final
result code. Meanwhile every line is sorted:
- the echo of the command (echo on, before ATE0 took effect) is dropped;
- lines starting with the command's expected prefix belong to the answer
  (so the +CREG: answer to AT+CREG? is not taken for the +CREG: URC);
- unsolicited result codes go to on_urc, two-line ones (+CMT:, +CDS:) with
  the PDU line that follows;
- anything else is an information line of the answer.
A command with a PDU (AT+CMGS=<len>) writes the PDU and Ctrl-Z when the
`> ` prompt comes. Each command has its own timeout; after
`unresponsive_after` timeouts in a row the device counts as gone and
on_unresponsive is called (the connector then drops the link and the
supervisor opens it again, which resets and re-initialises the device).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from msghub.connectors.modem.errors import AtCommandError, AtTimeout, LinkDown, reason_for
from msghub.connectors.modem.lines import OK, LineSplitter, is_final, is_two_line_urc, is_urc
from msghub.connectors.modem.transport import Transport

log = logging.getLogger(__name__)

CTRL_Z = b"\x1a"
ESC = b"\x1b"
DEFAULT_TIMEOUT_S = 10.0
LENIENT_GRACE_S = 0.5


@dataclass(frozen=True)
class Urc:
    line: str
    pdu: str | None = None  # the second line of +CMT: / +CDS:


@dataclass(frozen=True)
class Answer:
    command: str
    lines: tuple[str, ...]
    final: str

    def first(self, prefix: str) -> str | None:
        """The value after prefix of the first line that has it."""
        for line in self.lines:
            if line.upper().startswith(prefix.upper()):
                return line[len(prefix):].strip()
        return None


@dataclass
class _Pending:
    command: str
    expect: str | None
    pdu: str | None
    lines: list[str] = field(default_factory=list)
    done: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    prompted: bool = False
    written: bool = False
    answered_at: float | None = None  # when the expected line came


class AtChannel:
    def __init__(self, transport: Transport, on_urc: Callable[[Urc], None], *,
                 on_lost: Callable[[str], None] | None = None,
                 on_unresponsive: Callable[[str], None] | None = None,
                 on_reset: Callable[[str], None] | None = None,
                 unresponsive_after: int = 3, name: str = "modem") -> None:
        self.transport = transport
        self.name = name
        self._on_urc = on_urc
        self._on_lost = on_lost
        self._on_unresponsive = on_unresponsive
        self._on_reset = on_reset
        # set once ATE0 took effect: an echo after that means the device reset
        self.echo_off = False
        self._unresponsive_after = unresponsive_after
        self._splitter = LineSplitter()
        self._lock = asyncio.Lock()
        self._current: _Pending | None = None
        self._urc_header: str | None = None
        self._prompt_seen = False
        self._timeouts = 0
        self._reader: asyncio.Task[None] | None = None
        self.closed_reason: str | None = None
        self.stray_lines = 0  # lines that belonged to nothing (noise, late answers)

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read_loop(), name=f"at-reader-{self.name}")

    @property
    def closed(self) -> bool:
        return self.closed_reason is not None

    async def close(self) -> None:
        self._end("closed")
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self.transport.close()

    # -- commands ------------------------------------------------------------

    async def command(self, command: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, expect: str | None = None,
                      pdu: str | None = None, lenient: bool = False) -> Answer:
        """The answer to command; raises AtCommandError on an error result,
        AtTimeout without a final result in time, LinkDown when the link is gone.
        lenient: the expected line is answer enough when no final result
        follows it within LENIENT_GRACE_S (Wavecom's +CPIN? comes without OK)."""
        async with self._lock:
            if self.closed_reason is not None:
                raise LinkDown(f"{self.name}: link is down ({self.closed_reason})")
            pending = _Pending(command, expect.upper() if expect else None, pdu)
            self._current = pending
            try:
                await self.transport.write(command.encode("latin-1") + b"\r")
                if pdu is None:
                    pending.written = True
                final = await self._final(pending, timeout_s, lenient)
            except TimeoutError:
                await self._timed_out(pending, timeout_s)
                raise AtTimeout(f"{self.name}: no answer to {command} within {timeout_s:g} s",
                                written=pending.written) from None
            except LinkDown as exc:
                exc.written = pending.written
                raise
            finally:
                self._current = None
                self._prompt_seen = False
                if not pending.done.done():
                    pending.done.cancel()
            self._timeouts = 0
        if final.upper() == OK:
            return Answer(command, tuple(pending.lines), final)
        raise AtCommandError(command, final, reason_for(final))

    async def _final(self, pending: _Pending, timeout_s: float, lenient: bool) -> str:
        if not lenient:
            return await asyncio.wait_for(asyncio.shield(pending.done), timeout_s)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            seen = pending.answered_at
            wait = remaining if seen is None else min(remaining, seen + LENIENT_GRACE_S - loop.time())
            try:
                return await asyncio.wait_for(asyncio.shield(pending.done), max(0.0, wait))
            except TimeoutError:
                if pending.answered_at is not None and loop.time() >= pending.answered_at + LENIENT_GRACE_S:
                    log.debug("%s: %s answered without a final result", self.name, pending.command)
                    return OK

    async def _timed_out(self, pending: _Pending, timeout_s: float) -> None:
        self._timeouts += 1
        if pending.pdu is not None and not pending.prompted:
            with contextlib.suppress(LinkDown):
                await self.transport.write(ESC)  # leave the prompt, or the next command becomes text
        if self._timeouts >= self._unresponsive_after and self._on_unresponsive is not None:
            self._on_unresponsive(f"no answer to {self._timeouts} commands in a row (last {pending.command}, "
                                  f"{timeout_s:g} s)")

    # -- reading -------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self.transport.read()
                if not data:
                    self._end("the device closed the link")
                    return
                for line in self._splitter.feed(data):
                    self._line(line)
                await self._maybe_prompt()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not leave commands waiting forever
            log.exception("%s: reader failed", self.name)
            self._end(f"reader failed: {exc}")

    async def _maybe_prompt(self) -> None:
        pending = self._current
        if pending is None or pending.pdu is None or pending.prompted:
            return
        if self._prompt_seen or self._splitter.take_prompt():
            self._prompt_seen = False
            await self._write_pdu(pending)

    async def _write_pdu(self, pending: _Pending) -> None:
        assert pending.pdu is not None
        pending.prompted = True
        try:
            await self.transport.write(pending.pdu.encode("ascii") + CTRL_Z)
            pending.written = True
        except LinkDown as exc:
            if not pending.done.done():
                pending.done.set_exception(exc)

    def _line(self, line: str) -> None:
        if self._urc_header is not None:
            header, self._urc_header = self._urc_header, None
            self._emit(Urc(header, line))
            return
        pending = self._current
        upper = line.upper()
        if pending is not None and not pending.done.done():
            if upper == pending.command.upper() or (pending.pdu and line.rstrip("\x1a") == pending.pdu):
                if self.echo_off and self._on_reset is not None:
                    self.echo_off = False  # say it once
                    self._on_reset("echo is on again: the device restarted and lost its settings")
                return  # echo
            if pending.pdu is not None and not pending.prompted and line.startswith(">"):
                self._prompt_seen = True
                return  # a prompt sent with a line end
            if pending.expect and upper.startswith(pending.expect):
                pending.lines.append(line)
                if pending.answered_at is None:
                    pending.answered_at = asyncio.get_running_loop().time()
                return
        if is_urc(line):
            if is_two_line_urc(line):
                self._urc_header = line
            else:
                self._emit(Urc(line))
            return
        if pending is None or pending.done.done():
            self.stray_lines += 1
            log.debug("%s: stray line %r", self.name, line)
            return
        if is_final(line):
            pending.done.set_result(line)
        else:
            pending.lines.append(line)

    def _emit(self, urc: Urc) -> None:
        try:
            self._on_urc(urc)
        except Exception:
            log.exception("%s: handling %r failed", self.name, urc.line)

    def _end(self, reason: str) -> None:
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        pending = self._current
        if pending is not None and not pending.done.done():
            pending.done.set_exception(LinkDown(f"{self.name}: {reason}", written=pending.written))
        if reason != "closed" and self._on_lost is not None:
            self._on_lost(reason)
