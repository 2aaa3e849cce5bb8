"""A bare AT client on a pseudo-terminal for the simulator's tests: raw
bytes, every wait bounded by a deadline (never by the machine's speed)."""

from __future__ import annotations

import os
import select
import time
import tty

WAIT_S = 10.0


class LinkGone(Exception):
    """The device went away (EIO / hang-up on the pty)."""


class PtyClient:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        self.buffer = bytearray()

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> PtyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def _fill(self, timeout: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return
        try:
            data = os.read(self.fd, 4096)
        except OSError as e:
            raise LinkGone(str(e)) from e
        if not data:
            raise LinkGone("end of file")
        self.buffer += data

    def read_until(self, marker: bytes, timeout: float = WAIT_S) -> bytes:
        """Everything up to and including marker; TimeoutError if it does not come."""
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{marker!r} not seen; got {bytes(self.buffer)!r}")
            self._fill(left)
        end = self.buffer.index(marker) + len(marker)
        data = bytes(self.buffer[:end])
        del self.buffer[:end]
        return data

    def drain(self, quiet_s: float = 0.2, timeout: float = WAIT_S) -> bytes:
        """What arrives until the line is quiet for quiet_s (for 'nothing came')."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = len(self.buffer)
            self._fill(quiet_s)
            if len(self.buffer) == before:
                data = bytes(self.buffer)
                self.buffer.clear()
                return data
        raise TimeoutError(f"the line did not go quiet; got {bytes(self.buffer)[-200:]!r}")

    def command(self, line: str, timeout: float = WAIT_S) -> list[str]:
        """Sends a command line; its answer's lines up to the final result code."""
        self.send(line.encode() + b"\r")
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            raw = self.read_until(b"\r\n", deadline - time.monotonic()).decode("latin-1").strip("\r\n")
            if not raw or raw.startswith("AT"):
                continue  # blank separators and the echo
            lines.append(raw)
            if raw in ("OK", "ERROR", "COMMAND NOT SUPPORT") or raw.startswith(("+CME ERROR", "+CMS ERROR")):
                return lines
