"""One client connection of the SMSC simulator: framing, windowing, results.

A Session cuts the TCP stream into frames (FrameReader), answers frames it
cannot decode with the NACK the codec gives, and hands every decoded
operation to its owner (the SmscSimulator), which decides the answer.

Window accounting, as the SMSC sees it: an operation is *outstanding* from
the moment it is read until its result is written. A new operation whose
TRN is already outstanding, or one that arrives while `window` operations
are outstanding, is discarded without an answer: the EMI specification has
the SMSC discard operations outside its window, and the client notices by
its own ack timeout. Operations swallowed on purpose (stop_acking) stay
outstanding, as the client still waits for them, until the client sends
another operation with the same TRN (a retransmission replaces them) or the
session ends.

Operations the simulator sends (52, 53) have their own TRN space. The
session waits for the client's result to each; without one within
`ack_timeout_s` it sends the same frame again with the same TRN, up to
`retries` times, then gives up and records the operation as unanswered.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from msghub.connectors.emi.builders import nack_for_error
from msghub.connectors.emi.codec import to_wire
from msghub.connectors.emi.errors import FrameTooLargeError, UcpError
from msghub.connectors.emi.frame import Frame
from msghub.connectors.emi.messages import decode_message
from msghub.connectors.emi.operations import Operation
from msghub.connectors.emi.reader import FrameReader
from msghub.connectors.emi.results import Ack, Nack

MAX_TRN = 100  # TRNs are two digits: 00-99
READ_CHUNK = 65536
_session_ids = itertools.count(1)

OutboundStatus = Literal["pending", "acked", "nacked", "unanswered", "interrupted"]


@dataclass
class OutboundOperation:
    """An operation the simulator sent (52 MO or 53 report) and its fate."""

    operation: Operation  # as sent, with the TRN it went out with
    session_id: int
    username: str | None
    status: OutboundStatus = "pending"
    ec: str | None = None  # error code of a NACK
    attempts: int = 0
    sent_at: float = 0.0  # time.time() of the first attempt
    answered_at: float | None = None

    @property
    def ot(self) -> str:
        return self.operation.OT


@dataclass
class _Pending:
    ot: str
    swallowed: bool = False


class SessionOwner(Protocol):
    """What a session reports to (the SmscSimulator)."""

    def on_operation(self, session: Session, message: Operation) -> None: ...

    def on_event(self, session: Session | None, kind: str, detail: str) -> None: ...

    def on_closed(self, session: Session) -> None: ...

    def on_outbound_done(self, record: OutboundOperation) -> None: ...


@dataclass
class SessionLimits:
    window: int
    max_frame: int
    ack_timeout_s: float
    retries: int


@dataclass(eq=False)
class Session:
    """A connected client. `username` and `logged_in` are set by the owner."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    owner: SessionOwner
    limits: SessionLimits
    id: int = field(default_factory=lambda: next(_session_ids))
    username: str | None = None
    logged_in: bool = False
    connected_at: float = field(default_factory=time.time)
    max_outstanding: int = 0
    closed: bool = False
    _outstanding: dict[int, _Pending] = field(default_factory=dict)
    _sent: dict[int, tuple[str, asyncio.Future[Ack | Nack]]] = field(default_factory=dict)
    _next_trn: int = 0
    _slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_TRN))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def peer(self) -> str:
        info = self.writer.get_extra_info("peername")
        return f"{info[0]}:{info[1]}" if isinstance(info, tuple) else str(info)

    @property
    def outstanding(self) -> int:
        """Operations read from the client and not answered yet."""
        return len(self._outstanding)

    # -- reading -----------------------------------------------------------

    async def run(self) -> None:
        """Read and dispatch until the client goes away or the link is dropped."""
        framer = FrameReader(max_size=self.limits.max_frame)
        try:
            while True:
                try:
                    chunk = await self.reader.read(READ_CHUNK)
                except (ConnectionError, OSError):
                    break
                if not chunk:
                    if framer.buffered:
                        # The client went away in the middle of a frame.
                        self.owner.on_event(self, "partial_frame", f"{framer.buffered} bytes lost at disconnect")
                    break
                for item in framer.feed(chunk):
                    self._handle(item)
        finally:
            await self.close()

    def _handle(self, item: bytes | FrameTooLargeError) -> None:
        if isinstance(item, FrameTooLargeError):
            # The framer kept no header, so there is no TRN to answer.
            self.owner.on_event(self, "frame_too_large", str(item))
            return
        try:
            message = decode_message(item)
        except UcpError as exc:
            self._reject(item, exc)
            return
        if isinstance(message, Ack | Nack):
            self._on_result(message)
            return
        if self._admit(message):
            self.owner.on_operation(self, message)

    def _reject(self, data: bytes, error: UcpError) -> None:
        nack = nack_for_error(error)
        shown = data[:80].decode("ascii", "replace")
        self.owner.on_event(self, "bad_frame", f"{error} (EC {error.ec}): {shown!r}")
        if nack is not None:
            self._write(nack)

    def _admit(self, message: Operation) -> bool:
        """Window accounting; False when the operation is discarded."""
        pending = self._outstanding.get(message.trn)
        if pending is not None and not pending.swallowed:
            self.owner.on_event(self, "duplicate_trn", f"TRN {message.trn:02d} is still outstanding; discarded")
            return False
        if pending is None and len(self._outstanding) >= self.limits.window:
            self.owner.on_event(
                self, "window_exceeded", f"TRN {message.trn:02d} beyond the window of {self.limits.window}; discarded"
            )
            return False
        self._outstanding[message.trn] = _Pending(message.OT)
        self.max_outstanding = max(self.max_outstanding, len(self._outstanding))
        return True

    # -- answering ---------------------------------------------------------

    def answer(self, frame: Frame) -> bool:
        """Write the result to an outstanding operation; False if the link is gone."""
        pending = self._outstanding.get(frame.trn)
        if pending is not None and pending.ot == frame.ot and not pending.swallowed:
            del self._outstanding[frame.trn]
        return self._write(frame)

    def swallow(self, trn: int) -> None:
        """Never answer this operation (it stays outstanding, see the module doc)."""
        pending = self._outstanding.get(trn)
        if pending is not None:
            pending.swallowed = True

    def write_raw(self, data: bytes) -> bool:
        if self.closed or self.writer.is_closing():
            return False
        self.writer.write(data)
        return True

    def _write(self, frame: Frame) -> bool:
        return self.write_raw(to_wire(frame))

    # -- operations sent by the SMSC ----------------------------------------

    async def send_operation(self, operation: Operation, record: Callable[[OutboundOperation], None]) -> bool:
        """Send a 52/53 and follow up on its result in the background.

        Returns once the first attempt is written (False if the link is
        gone). `record` receives the OutboundOperation before anything is
        written, so the caller can list it.
        """
        await self._slots.acquire()
        if self.closed:
            self._slots.release()
            return False
        trn = self._allocate_trn()
        future: asyncio.Future[Ack | Nack] = asyncio.get_running_loop().create_future()
        self._sent[trn] = (operation.OT, future)
        entry = OutboundOperation(dataclasses.replace(operation, trn=trn), self.id, self.username, sent_at=time.time())
        record(entry)
        entry.attempts = 1
        self._write(entry.operation.to_frame())
        task = asyncio.create_task(self._follow_up(entry, future))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def _allocate_trn(self) -> int:
        # The semaphore guarantees a free TRN exists.
        while self._next_trn in self._sent:
            self._next_trn = (self._next_trn + 1) % MAX_TRN
        trn = self._next_trn
        self._next_trn = (trn + 1) % MAX_TRN
        return trn

    async def _follow_up(self, entry: OutboundOperation, future: asyncio.Future[Ack | Nack]) -> None:
        trn = entry.operation.trn
        try:
            while True:
                try:
                    async with asyncio.timeout(self.limits.ack_timeout_s):
                        result = await asyncio.shield(future)
                except TimeoutError:
                    if entry.attempts > self.limits.retries:
                        entry.status = "unanswered"
                        self.owner.on_event(
                            self, "unanswered", f"{entry.ot} TRN {trn:02d}: no result after {entry.attempts} attempts"
                        )
                        return
                    entry.attempts += 1
                    self.owner.on_event(self, "retransmit", f"{entry.ot} TRN {trn:02d}, attempt {entry.attempts}")
                    if not self._write(entry.operation.to_frame()):
                        entry.status = "interrupted"
                        return
                    continue
                entry.answered_at = time.time()
                if isinstance(result, Ack):
                    entry.status = "acked"
                else:
                    entry.status, entry.ec = "nacked", result.ec
                    self.owner.on_event(self, "nacked", f"{entry.ot} TRN {trn:02d}: client answered EC {result.ec}")
                return
        except asyncio.CancelledError:
            entry.status = "interrupted"  # the session closed first
        finally:
            self._sent.pop(trn, None)
            self._slots.release()
            self.owner.on_outbound_done(entry)

    def _on_result(self, result: Ack | Nack) -> None:
        sent = self._sent.get(result.trn)
        if sent is None or sent[0] != result.ot or sent[1].done():
            self.owner.on_event(self, "unexpected_result", f"{result.ot} TRN {result.trn:02d} matches nothing sent")
            return
        sent[1].set_result(result)

    # -- closing -----------------------------------------------------------

    def abort(self) -> None:
        """Cut the connection at once (RST), as a failing SMSC would."""
        if not self.writer.is_closing():
            self.writer.transport.abort()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.writer.close()
        with contextlib.suppress(OSError):  # already reset by the peer or by abort()
            await self.writer.wait_closed()
        self.owner.on_closed(self)
