"""A tiny EMI client for driving the SMSC simulator over real TCP in tests.

Built straight on the codec, with no connector logic: tests say exactly
which frames go out and look at exactly what comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from msghub.connectors.emi import (
    FrameReader,
    FrameTooLargeError,
    Message,
    Operation,
    ack_frame,
    decode_message,
    login_frame,
    to_wire,
)
from msghub.connectors.emi.frame import Frame

TIMEOUT_S = 3.0


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.framer = FrameReader(max_size=100_000)
        self.queue: deque[bytes] = deque()
        self.eof = False

    @classmethod
    async def connect(cls, port: int) -> Client:
        async with asyncio.timeout(TIMEOUT_S):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, item: Message | Frame | bytes) -> None:
        self.writer.write(item if isinstance(item, bytes) else to_wire(item))
        await self.writer.drain()

    async def raw(self, timeout: float = TIMEOUT_S) -> bytes:
        """The next bytes as they arrive, unframed (b"" at EOF)."""
        async with asyncio.timeout(timeout):
            return await self.reader.read(65536)

    async def frame(self, timeout: float = TIMEOUT_S) -> bytes:
        """The next complete frame (without STX/ETX)."""
        async with asyncio.timeout(timeout):
            while not self.queue:
                data = await self.reader.read(65536)
                if not data:
                    self.eof = True
                    raise EOFError("the simulator closed the connection")
                for item in self.framer.feed(data):
                    assert not isinstance(item, FrameTooLargeError)
                    self.queue.append(item)
        return self.queue.popleft()

    async def recv(self, timeout: float = TIMEOUT_S) -> Message:
        return decode_message(await self.frame(timeout))

    async def nothing_within(self, seconds: float) -> bool:
        """True when no frame arrives within seconds."""
        try:
            await self.frame(seconds)
        except TimeoutError:
            return True
        return False

    async def login(self, username: str, password: str) -> Message:
        await self.send(login_frame(username, password))
        return await self.recv()

    async def ack(self, operation: Operation) -> None:
        await self.send(ack_frame(operation))

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
