"""Byte links to a device: a serial port (pyserial) or a TCP socket (a modem
behind a serial server, or the simulator's TCP port).

A port is named as a device path (/dev/ttyUSB0, /dev/serial/by-id/...) or as
tcp://HOST:PORT (socket://HOST:PORT, pyserial's spelling, works too). read()
returns b"" once the link is gone; write() raises LinkDown.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any, Protocol

try:
    import termios
except ImportError:  # not on Windows
    termios = None  # type: ignore[assignment]

from msghub.connectors.modem.errors import LinkDown

READ_CHUNK = 4096
TCP_SCHEMES = ("tcp://", "socket://")


class Transport(Protocol):
    name: str

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


def is_tcp(port: str) -> bool:
    return port.startswith(TCP_SCHEMES)


def split_tcp(port: str) -> tuple[str, int]:
    rest = port.split("://", 1)[1].rstrip("/")
    host, sep, number = rest.rpartition(":")
    if not sep or not (number.isascii() and number.isdigit()) or not host:
        raise ValueError(f"{port!r} is not tcp://HOST:PORT")
    return host.strip("[]"), int(number)


class TcpTransport:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str) -> None:
        self.name = name
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, port: str, timeout_s: float) -> TcpTransport:
        host, number = split_tcp(port)
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, number), timeout_s)
        except (OSError, TimeoutError) as exc:
            raise LinkDown(f"cannot connect to {host}:{number}: {exc or 'timed out'}") from None
        return cls(reader, writer, port)

    async def read(self) -> bytes:
        try:
            return await self._reader.read(READ_CHUNK)
        except OSError:
            return b""

    async def write(self, data: bytes) -> None:
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, RuntimeError) as exc:
            raise LinkDown(f"{self.name}: write failed: {exc}") from None

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()


class SerialTransport:
    """A serial port opened by pyserial (raw, 8N1, no flow control), read
    through the event loop on its file descriptor."""

    def __init__(self, serial: Any, name: str) -> None:
        self.name = name
        self._serial = serial
        self._fd: int = serial.fileno()
        self._loop = asyncio.get_running_loop()
        self._closed = False

    @classmethod
    async def open(cls, port: str, baud: int) -> SerialTransport:
        import serial  # pyserial

        try:
            handle = serial.Serial(port, baudrate=baud, timeout=0, write_timeout=0, exclusive=True)
        except (OSError, ValueError, serial.SerialException) as exc:
            raise LinkDown(f"cannot open {port}: {exc}") from None
        fd = handle.fileno()
        if termios is not None:
            # pyserial leaves VMIN 0, with which an idle read returns b"" like
            # a closed port; with VMIN 1 it raises EAGAIN and b"" means gone.
            attrs = termios.tcgetattr(fd)
            attrs[6][termios.VMIN], attrs[6][termios.VTIME] = 1, 0
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
        os.set_blocking(fd, False)
        return cls(handle, port)

    async def read(self) -> bytes:
        while not self._closed:
            try:
                return os.read(self._fd, READ_CHUNK) or b""
            except BlockingIOError:
                await self._wait(self._loop.add_reader, self._loop.remove_reader)
            except OSError:  # EIO: the device went away
                return b""
        return b""

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._closed:
                raise LinkDown(f"{self.name}: closed")
            try:
                view = view[os.write(self._fd, view):]
            except BlockingIOError:
                await self._wait(self._loop.add_writer, self._loop.remove_writer)
            except OSError as exc:
                raise LinkDown(f"{self.name}: write failed: {exc}") from None

    async def _wait(self, add: Any, remove: Any) -> None:
        ready: asyncio.Future[None] = self._loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        add(self._fd, wake)
        try:
            await ready
        finally:
            remove(self._fd)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._serial.close()


async def open_transport(port: str, baud: int, timeout_s: float) -> Transport:
    if is_tcp(port):
        return await TcpTransport.connect(port, timeout_s)
    return await SerialTransport.open(port, baud)
