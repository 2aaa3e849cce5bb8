"""A scripted device on a real pseudo-terminal (os.openpty), for the AT
layer's tests: the client opens the slave path with pyserial, the peer runs
as an asyncio task on the master side and answers each command line by a
script: a function from the command to the bytes to send back (None: stay
silent). What it received is kept in `received`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import Callable

Script = Callable[[str], bytes | None]


class PtyPeer:
    def __init__(self, script: Script, *, echo: bool = False) -> None:
        self.script = script
        self.echo = echo
        self.received: list[str] = []
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        os.set_blocking(self.master, False)
        self._buf = b""
        self._pdu_mode = False
        self.on_pdu: Callable[[str], bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.master, self._readable)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except OSError:
            return
        self._buf += data
        while True:
            if self._pdu_mode:
                end = self._buf.find(b"\x1a")
                if end < 0:
                    esc = self._buf.find(b"\x1b")
                    if esc >= 0:
                        self._buf = self._buf[esc + 1:]
                        self._pdu_mode = False
                        continue
                    return
                pdu, self._buf = self._buf[:end].decode(), self._buf[end + 1:]
                self._pdu_mode = False
                self.received.append("PDU:" + pdu)
                if self.echo:
                    self.send(pdu.encode() + b"\r\n")
                if self.on_pdu is not None:
                    self.send(self.on_pdu(pdu))
                continue
            end = self._buf.find(b"\r")
            if end < 0:
                return
            line, self._buf = self._buf[:end].decode("latin-1").strip(), self._buf[end + 1:]
            if not line:
                continue
            self.received.append(line)
            if self.echo:
                self.send(line.encode() + b"\r")
            answer = self.script(line)
            if answer is not None:
                if answer.rstrip().endswith(b">"):
                    self._pdu_mode = True
                self.send(answer)

    def unplug(self) -> None:
        """The device goes away: the master side closes."""
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.master)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.master = -1

    def close(self) -> None:
        if self.master >= 0:
            self.unplug()
        with contextlib.suppress(OSError):
            os.close(self.slave)


def ok(*lines: str) -> bytes:
    return "".join(f"\r\n{line}\r\n" for line in (*lines, "OK")).encode()


def final(word: str, *lines: str) -> bytes:
    return "".join(f"\r\n{line}\r\n" for line in (*lines, word)).encode()
