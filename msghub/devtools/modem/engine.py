"""The AT interpreter: line discipline, echo, command dispatch, answer
formatting (V0/V1, Q1, +CMEE), `> ` prompts, unsolicited result codes and
the faults that change how the device answers.

Bytes come in through feed(); everything the device says goes out through
the write callback given to the Engine. Time is the simulator's: schedule()
runs a callback later on the simulator's thread. Not thread-safe: the
simulator holds its lock around every call.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from msghub.devtools.modem.atparse import AtSyntaxError, Command, parse_line
from msghub.devtools.modem.codes import CME_TEXT, CMS_TEXT, NUMERIC_RESULT
from msghub.devtools.modem.device import DeviceState, Settings

log = logging.getLogger(__name__)

CR, LF, BS, CTRL_Z, ESC = 0x0D, 0x0A, 0x08, 0x1A, 0x1B
MAX_LINE = 4096  # a longer command line is dropped, as a real line buffer overflows
GARBAGE = b"\r\n\x00\xff\xfe~#\x81\x9c garbage \xe0\x13\r\n"

Scheduler = Callable[[float, Callable[[], None]], object]


class AtError(Exception):
    """Ends a command line with this final result code instead of OK."""

    def __init__(self, final: str) -> None:
        super().__init__(final)
        self.final = final


@dataclass
class Prompt:
    """A handler's answer that asks for a body (`> `) ended by Ctrl-Z.

    on_body gets the text typed after the prompt and returns the answer's
    information lines (or raises AtError); delay_s holds the answer back."""

    on_body: Callable[[str], list[str]]
    text_mode: bool = False
    delay_s: float = 0.0


Handler = Callable[["Engine", Command], "list[str] | Prompt"]


@dataclass
class _PromptState:
    prompt: Prompt
    info: list[list[str]]
    body: bytearray = field(default_factory=bytearray)


class Engine:
    def __init__(self, state: DeviceState, write: Callable[[bytes], None], schedule: Scheduler,
                 clock: Callable[[], float], handlers: dict[str, Handler],
                 precheck: Callable[[Engine, Command], None] | None = None, urcs: bool = True) -> None:
        self.state = state
        self._write = write
        self.schedule = schedule
        self.clock = clock
        self.handlers = handlers
        self.precheck = precheck
        self.urcs = urcs  # False: a port that prints no unsolicited codes (a data card's data port)
        self._line = bytearray()
        self._prompt: _PromptState | None = None
        self._busy = False
        self._pending = bytearray()
        self._last_line = ""
        self._answers = 0
        self._epoch = 0  # a power-up cancels answers still held back from before it

    # -- errors in the device's current +CMEE mode ------------------------

    def cme(self, code: int) -> AtError:
        cmee = self.state.settings.cmee
        if cmee == 0:
            return AtError("ERROR")
        if cmee == 2:
            return AtError(f"+CME ERROR: {CME_TEXT.get(code, str(code))}")
        return AtError(f"+CME ERROR: {code}")

    def cms(self, code: int) -> AtError:
        cmee = self.state.settings.cmee
        if cmee == 0:
            return AtError("ERROR")
        if cmee == 2:
            return AtError(f"+CMS ERROR: {CMS_TEXT.get(code, str(code))}")
        return AtError(f"+CMS ERROR: {code}")

    def unsupported(self) -> AtError:
        return AtError(self.state.profile.unsupported_word)

    # -- input -------------------------------------------------------------

    def reset_line(self) -> None:
        """The port was closed: a half-typed line or prompt is gone."""
        self._line.clear()
        self._prompt = None
        self._pending.clear()

    def feed(self, data: bytes) -> None:
        if self._busy:
            self._pending += data
            return
        for pos, byte in enumerate(data):
            if self._busy:  # a command started a delayed answer: later bytes wait
                self._pending += data[pos:]
                return
            if self._prompt is not None:
                self._prompt_byte(byte)
            else:
                self._command_byte(byte)

    def _echo(self, data: bytes) -> None:
        if self.state.settings.echo and not self._muted(peek=True):
            self._write(data)

    def _command_byte(self, byte: int) -> None:
        if byte in (CTRL_Z, ESC):  # stray prompt terminators outside a prompt
            return
        self._echo(bytes([byte]))
        if byte == CR:
            line = self._line.decode("latin-1")
            self._line.clear()
            self._command_line(line)
        elif byte == LF:
            return
        elif byte in (BS, 0x7F):
            del self._line[-1:]
        else:
            self._line.append(byte)
            if self._line.upper().endswith(b"A/"):  # repeat the last command line
                self._line.clear()
                if self._last_line:
                    self._command_line(self._last_line)
            elif len(self._line) > MAX_LINE:
                self._line.clear()

    def _prompt_byte(self, byte: int) -> None:
        assert self._prompt is not None
        ps = self._prompt
        if byte == ESC:  # cancel: nothing is sent (TS 27.005 3.5.1)
            self._prompt = None
            self._answer(ps.info, "OK")
            return
        if byte == CTRL_Z:
            self._prompt = None
            self._finish_prompt(ps)
            return
        self._echo(bytes([byte]))
        if byte == CR and ps.prompt.text_mode:
            ps.body += b"\n"
            self._write(b"\r\n> ")
        elif byte in (CR, LF):
            return
        elif byte in (BS, 0x7F):
            del ps.body[-1:]
        elif len(ps.body) < MAX_LINE:
            ps.body.append(byte)

    def _finish_prompt(self, ps: _PromptState) -> None:
        body = ps.body.decode("latin-1")
        if self._muted(peek=True):
            # Stopped answering mid-send: the message may well have left.
            with contextlib.suppress(AtError):
                ps.prompt.on_body(body)
            return
        try:
            lines = ps.prompt.on_body(body)
        except AtError as e:
            self._answer(ps.info, e.final, ps.prompt.delay_s)
            return
        except Exception as e:  # a simulator bug, as in _command_line
            log.exception("modem simulator failed on a prompt body %r", body)
            self.state.internal_errors.append(f"prompt {body!r}: {e!r}")
            self._answer(ps.info, "ERROR")
            return
        self._answer([*ps.info, lines], "OK", ps.prompt.delay_s)

    # -- commands ------------------------------------------------------------

    def _muted(self, peek: bool = False) -> bool:
        faults = self.state.faults
        if self.clock() < faults.mute_until:
            return True
        if faults.mute_count > 0:
            if not peek:
                faults.mute_count -= 1
            return True
        return False

    def _command_line(self, line: str) -> None:
        upper = line.upper()
        start = upper.find("AT")
        if start < 0:
            return  # not a command: real devices ignore such noise
        line = line[start:].strip()
        self.state.commands.append(line)
        if self._muted():
            log.debug("muted, no answer to %r", line)
            return
        self._last_line = line
        try:
            commands = parse_line(line)
        except AtSyntaxError:
            self._answer([], "ERROR")
            return
        info: list[list[str]] = []
        for command in commands:
            try:
                reply = self.dispatch(command)
            except AtError as e:
                self._answer(info, e.final)
                return
            except Exception as e:  # a simulator bug: say ERROR, keep it for the tests to see
                log.exception("modem simulator failed on %r", line)
                self.state.internal_errors.append(f"{line!r}: {e!r}")
                self._answer(info, "ERROR")
                return
            if isinstance(reply, Prompt):
                # The rest of the line after +CMGS is not executed (TS 27.005).
                self._prompt = _PromptState(reply, info)
                self._write(b"\r\n> ")
                return
            if reply:
                info.append(reply)
        self._answer(info, "OK")

    def dispatch(self, command: Command) -> list[str] | Prompt:
        profile = self.state.profile
        if command.name in profile.unsupported:
            raise self.unsupported()
        handler = self.handlers.get(command.name)
        if handler is None:
            if command.name in profile.extra_commands:
                return []
            raise self.unsupported()
        if self.precheck is not None:
            self.precheck(self, command)
        return handler(self, command)

    # -- output --------------------------------------------------------------

    def _format(self, info: list[list[str]], final: str) -> bytes:
        settings = self.state.settings
        out: list[str] = []
        self._answers += 1
        every = self.state.profile.interleave_every
        vendor = self.state.profile.interleave_line(self.state.rssi)
        if every and vendor and settings.curc and self.urcs and self._answers % every == 0:
            # Between the command (its echo) and its answer, as Huawei's ^RSSI comes.
            out.append(f"\r\n{vendor}\r\n")
        for lines in info:
            body = "\r\n".join(lines)
            out.append(f"\r\n{body}\r\n" if settings.verbose else f"{body}\r\n")
        if not settings.quiet:
            if settings.verbose:
                out.append(f"\r\n{final}\r\n")
            else:
                out.append(f"{NUMERIC_RESULT.get(final, final)}\r")
        return "".join(out).encode("latin-1", "replace")

    def _answer(self, info: list[list[str]], final: str, delay_s: float = 0.0) -> None:
        faults = self.state.faults
        data = self._format(info, final)
        if faults.garbage_count > 0 or self.clock() < faults.garbage_until:
            faults.garbage_count = max(0, faults.garbage_count - 1)
            data = GARBAGE + data
        delay = delay_s + faults.answer_delay_s
        if delay <= 0:
            self._write(data)
            return
        self._busy = True
        epoch = self._epoch

        def release() -> None:
            if epoch != self._epoch:
                return  # the device was re-plugged meanwhile: this answer is lost
            self._busy = False
            self._write(data)
            rest = bytes(self._pending)
            self._pending.clear()
            if rest:
                self.feed(rest)

        self.schedule(delay, release)

    def urc(self, *lines: str) -> None:
        """An unsolicited result code (several lines for +CMT/+CDS)."""
        if not self.urcs:
            return
        data = ("\r\n" + "\r\n".join(lines) + "\r\n").encode("latin-1", "replace")
        if self._prompt is not None or self._busy:
            # Devices hold URCs back while a command runs; it comes after.
            self._pending_urc(data)
            return
        self._write(data)

    def _pending_urc(self, data: bytes) -> None:
        epoch = self._epoch

        def later() -> None:
            if epoch == self._epoch:
                self.urc_bytes(data)
        self.schedule(0.05, later)

    def urc_bytes(self, data: bytes) -> None:
        if self._prompt is not None or self._busy:
            self._pending_urc(data)
        else:
            self._write(data)

    def power_on(self) -> None:
        """Power-up defaults (ATZ keeps the SIM state; this is a re-plug)."""
        self.state.settings = Settings()
        self.reset_line()
        self._busy = False
        self._epoch += 1
        if self.state.pin is not None and self.state.sim_present:
            self.state.pin_state = "SIM PIN" if self.state.pin_state != "SIM PUK" else "SIM PUK"
        for line in self.state.profile.boot_lines:
            self.urc(line)
