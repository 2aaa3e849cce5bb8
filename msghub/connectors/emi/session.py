"""One EMI/UCP session over TCP (or TLS): framing, TRNs, the window, acks.

The session is the transport half of the EMI connector. It knows frames and
their answers, not messages:

- request(frame) gives the frame a free TRN (00-99, unique among the
  operations awaiting an answer), waits for a place in the window and, if
  asked, for the throttle, writes it, and returns the Ack or Nack that
  carries the same TRN. No answer within ack_timeout_s is fatal to the
  session: the peer may have lost track of TRNs, so nothing it says later
  can be trusted (AckTimeout, and the session is lost).
- Operations from the peer (52, 53, 31, ...) are answered by the handler
  the owner passes in; the result it returns is written back.
- A link that has been quiet for keepalive_s gets an alert (31).
- A malformed frame is logged and, when it is an operation with a readable
  TRN, answered with a NACK; the session carries on. Buffers are capped
  (FrameReader's max_size), so a peer cannot make us hold unbounded data.

When the session ends for any reason but close(), on_lost(reason) is called
once; every request still waiting then fails with LinkClosed, which says
whether its frame had been written (so the message may have arrived).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from msghub.connectors.emi.codec import (
    Ack,
    Alert,
    DeliverSM,
    DeliveryNotification,
    Frame,
    FrameReader,
    FrameTooLargeError,
    Nack,
    Operation,
    SessionLogin,
    UcpError,
    ack_frame,
    alert_frame,
    decode_message,
    encode_frame,
    nack_for_error,
    nack_frame,
    wrap,
)

log = logging.getLogger(__name__)

TRN_COUNT = 100  # TRNs are two digits
READ_CHUNK = 65536
CLOSE_TIMEOUT_S = 2.0
# Operations from the peer being handled at once. An SMSC keeps at most 100
# outstanding (its own window); more means a misbehaving peer, answered with
# a temporary NACK rather than by pausing the reader (which would also stop
# the acks of our own submits from being read).
MAX_INBOUND = 100
LOGGED_REJECTS = 20  # then every 1000th
EC_NOT_SUPPORTED = "03"
EC_TRY_LATER = "04"  # "operation not allowed": SMSCs retry it later

Handler = Callable[[Operation], Awaitable[Frame]]


class SessionError(Exception):
    """Base of what request() raises besides a result."""

    def __init__(self, reason: str, *, written: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.written = written


class LinkClosed(SessionError):
    """The session ended; written says whether the frame had left."""


class AckTimeout(SessionError):
    """The frame was written and no answer came in time; the session is lost."""


class GarbledAnswer(SessionError):
    """An answer with our TRN came back but could not be decoded."""


@dataclass
class _Pending:
    ot: str
    future: asyncio.Future[Ack | Nack]


@dataclass(frozen=True)
class SessionConfig:
    window: int = 10
    ack_timeout_s: float = 30.0
    keepalive_s: float = 60.0  # 0: no keep-alive
    keepalive_adc: str = ""
    throttle_per_s: float = 0.0  # 0: unlimited
    max_frame: int = 4096


class EmiSession:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, config: SessionConfig,
                 handler: Handler, on_lost: Callable[[str], None], *, name: str = "emi") -> None:
        self.config = config
        self.name = name
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._on_lost = on_lost
        self._framer = FrameReader(config.max_frame)
        self._pending: dict[int, _Pending] = {}
        self._window = asyncio.Semaphore(config.window)
        self._pace_lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()
        self._next_slot = 0.0
        self._next_trn = 0
        self._last_write = self._loop.time()
        # frames written in one turn of the event loop leave in one send:
        # a window of submits was one system call per frame (docs/PERFORMANCE.md)
        self._out: list[bytes] = []
        self._inbound: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.closed_reason: str | None = None
        # observations for logs and tests
        self.rejected_frames = 0
        self.max_outstanding = 0

    @classmethod
    async def connect(cls, host: str, port: int, config: SessionConfig, handler: Handler,
                      on_lost: Callable[[str], None], *, tls: ssl.SSLContext | None = None,
                      connect_timeout_s: float = 10.0, name: str = "emi") -> EmiSession:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None,
                                    limit=READ_CHUNK),
            timeout=connect_timeout_s)
        session = cls(reader, writer, config, handler, on_lost, name=name)
        session.start_reading()
        return session

    @property
    def closed(self) -> bool:
        return self.closed_reason is not None

    @property
    def outstanding(self) -> int:
        return len(self._pending)

    def start_reading(self) -> None:
        self._tasks.append(asyncio.create_task(self._read_loop(), name=f"emi-read-{self.name}"))

    def start_keepalive(self) -> None:
        if self.config.keepalive_s > 0:
            self._tasks.append(asyncio.create_task(self._keepalive_loop(), name=f"emi-alive-{self.name}"))

    # -- our operations -------------------------------------------------

    async def request(self, frame: Frame | Operation, *, throttled: bool = False) -> Ack | Nack:
        """Sends an operation and returns its answer (see the module docstring)."""
        self._check_open()
        async with self._window:
            self._check_open()
            if throttled and self.config.throttle_per_s > 0:
                await self._pace()
                self._check_open()
            trn = self._take_trn()
            op = replace(frame if isinstance(frame, Frame) else frame.to_frame(), trn=trn)
            future: asyncio.Future[Ack | Nack] = self._loop.create_future()
            pending = _Pending(op.ot, future)
            self._pending[trn] = pending
            self.max_outstanding = max(self.max_outstanding, len(self._pending))
            keep_trn = False
            try:
                self._write(op)
                return await asyncio.wait_for(future, timeout=self.config.ack_timeout_s)
            except TimeoutError:
                reason = (f"no answer to operation {op.ot} (TRN {trn:02d}) within "
                          f"{self.config.ack_timeout_s:g} s")
                self.lose(reason)
                raise AckTimeout(reason, written=True) from None
            except asyncio.CancelledError:
                # Its answer may still come: the TRN stays taken until then,
                # so that answer cannot be read as another operation's.
                keep_trn = True
                raise
            finally:
                if not keep_trn and self._pending.get(trn) is pending:
                    del self._pending[trn]

    def _check_open(self) -> None:
        if self.closed_reason is not None:
            raise LinkClosed(self.closed_reason, written=False)

    def _take_trn(self) -> int:
        for _ in range(TRN_COUNT):
            trn = self._next_trn
            self._next_trn = (trn + 1) % TRN_COUNT
            if trn not in self._pending:
                return trn
        # The window (at most 100) leaves a TRN free unless cancelled
        # requests still hold theirs: the oldest such one gives way.
        for trn, pending in self._pending.items():
            if pending.future.done():
                del self._pending[trn]
                return trn
        raise RuntimeError("no free TRN although the window has room")  # pragma: no cover

    async def _pace(self) -> None:
        """At most throttle_per_s operations per second, evenly spaced."""
        interval = 1.0 / self.config.throttle_per_s
        async with self._pace_lock:
            now = self._loop.time()
            if self._next_slot > now:
                await asyncio.sleep(self._next_slot - now)
                now = self._loop.time()
            self._next_slot = max(now, self._next_slot) + interval

    def _write(self, frame: Frame) -> None:
        if self.closed_reason is not None or self._writer.is_closing():
            raise LinkClosed(self.closed_reason or "the link is closing", written=False)
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(wrap(encode_frame(frame)))
        self._last_write = self._loop.time()

    def _flush(self) -> None:
        data, self._out = b"".join(self._out), []
        # a link that ended meanwhile sends nothing more (its requests were failed as written)
        if data and self.closed_reason is None and not self._writer.is_closing():
            self._writer.write(data)

    # -- reading --------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self._reader.read(READ_CHUNK)
                if not data:
                    self.lose("the peer closed the link")
                    return
                for item in self._framer.feed(data):
                    if isinstance(item, FrameTooLargeError):
                        self._reject(str(item))
                    else:
                        self._on_frame(item)
        except (OSError, EOFError) as exc:  # ssl.SSLError is an OSError
            self.lose(f"socket error: {exc or type(exc).__name__}")

    def _on_frame(self, raw: bytes) -> None:
        try:
            message = decode_message(raw)
        except UcpError as exc:
            self._on_bad_frame(raw, exc)
            return
        if isinstance(message, Ack | Nack):
            self._on_result(message)
        else:
            self._on_operation(message)

    def _on_bad_frame(self, raw: bytes, exc: UcpError) -> None:
        self._reject(f"rejected frame {raw[:80]!r}: {exc}")
        if exc.kind == "O":
            nack = nack_for_error(exc)
            if nack is not None:
                self._answer(nack)
        elif exc.kind == "R" and exc.trn is not None:
            # An answer we cannot read: whether the SMSC took the message is
            # unknown, but the TRN is ours to free.
            pending = self._pending.get(exc.trn)
            if pending is not None and pending.ot == exc.ot and not pending.future.done():
                pending.future.set_exception(GarbledAnswer(f"unreadable answer: {exc}", written=True))

    def _reject(self, what: str) -> None:
        self.rejected_frames += 1
        # a peer sending nothing but garbage must not flood the log too
        if self.rejected_frames <= LOGGED_REJECTS or self.rejected_frames % 1000 == 0:
            log.warning("%s: %s (%d rejected frames so far)", self.name, what, self.rejected_frames)

    def _on_result(self, result: Ack | Nack) -> None:
        pending = self._pending.get(result.trn)
        if pending is not None and pending.future.done():
            del self._pending[result.trn]  # the late answer of a cancelled request
            return
        if pending is None:
            log.warning("%s: answer with TRN %02d matches no operation (late or spurious); ignored",
                        self.name, result.trn)
            return
        if pending.ot != result.ot:
            # The peer answers something we did not ask under this TRN: its
            # bookkeeping and ours disagree, so no answer can be trusted.
            self.lose(f"protocol violation: answer for operation {result.ot} with TRN {result.trn:02d}, "
                      f"which carries operation {pending.ot}")
            return
        pending.future.set_result(result)

    def _on_operation(self, op: Operation) -> None:
        if isinstance(op, Alert | SessionLogin):
            # keep-alive from the peer, or its login on a receiving link
            self._answer(ack_frame(op))
            return
        if not isinstance(op, DeliverSM | DeliveryNotification):
            self._answer(nack_frame(op, EC_NOT_SUPPORTED))
            return
        if len(self._inbound) >= MAX_INBOUND:
            log.warning("%s: %d operations from the peer in progress; asking it to retry %s",
                        self.name, len(self._inbound), op.OT)
            self._answer(nack_frame(op, EC_TRY_LATER))
            return
        task = asyncio.create_task(self._handle(op))
        self._inbound.add(task)
        task.add_done_callback(self._inbound.discard)

    async def _handle(self, op: Operation) -> None:
        try:
            answer = await self._handler(op)
        except Exception:
            log.exception("%s: handling operation %s failed", self.name, op.OT)
            answer = nack_frame(op, EC_TRY_LATER)
        self._answer(answer)

    def _answer(self, frame: Frame) -> None:
        with contextlib.suppress(LinkClosed):
            self._write(frame)

    # -- keep-alive -----------------------------------------------------

    async def _keepalive_loop(self) -> None:
        idle_s = self.config.keepalive_s
        while self.closed_reason is None:
            quiet = self._loop.time() - self._last_write
            if quiet < idle_s:
                await asyncio.sleep(idle_s - quiet)
                continue
            try:
                answer = await self.request(alert_frame(self.config.keepalive_adc))
            except SessionError:
                return  # request() already lost the session if it had to
            if isinstance(answer, Nack):
                # the peer answered, which is all a keep-alive asks
                log.info("%s: keep-alive answered with NACK %s", self.name, answer.ec)

    # -- ending ---------------------------------------------------------

    def lose(self, reason: str) -> None:
        """Ends the session because of a fault and tells the owner (once)."""
        if self._end(reason):
            log.warning("%s: link lost: %s", self.name, reason)
            self._on_lost(reason)

    def _end(self, reason: str) -> bool:
        if self.closed_reason is not None:
            return False
        self.closed_reason = reason
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(LinkClosed(reason, written=True))
        self._pending.clear()
        # Abort, not close: nothing more should leave on a broken link.
        self._writer.transport.abort()
        current = asyncio.current_task()
        for task in [*self._tasks, *self._inbound]:
            if task is not current:
                task.cancel()
        return True

    async def close(self) -> None:
        """Closes the session (no on_lost); waits for its tasks to end."""
        self._flush()  # what was written before the close still leaves, as before the coalescing
        self._end("closed")
        current = asyncio.current_task()
        tasks = [t for t in [*self._tasks, *self._inbound] if t is not current]
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT_S)
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), timeout=CLOSE_TIMEOUT_S)
