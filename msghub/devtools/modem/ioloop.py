"""The simulator's thread: its pseudo-terminals, TCP clients and timers, all
served by one selector loop under the simulator's lock. What arrives goes to
the callbacks the simulator gives; the loop knows nothing of AT commands."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable

from msghub.devtools.modem.ports import MAX_OUTPUT, PtyPort

log = logging.getLogger(__name__)

READ_CHUNK = 4096
RECONNECT_POLL_S = 0.05  # how often a closed pty is checked for a client opening it again
OUTPUT_POLL_S = 0.01  # how often output for a client that reads slowly is retried
JOIN_TIMEOUT_S = 10.0

# port None stands for a TCP client (the command port's other wire)
OnInput = Callable[[PtyPort | None, bytes], None]
OnClient = Callable[[PtyPort | None], None]


class IoLoop:
    def __init__(self, changed: threading.Condition, ports: list[PtyPort], *, on_input: OnInput,
                 on_arrival: OnClient, on_left: OnClient, on_error: Callable[[str], None]) -> None:
        self._changed = changed  # its lock is the simulator's
        self.ports = ports
        self._on_input, self._on_arrival, self._on_left, self._on_error = on_input, on_arrival, on_left, on_error
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.listener: socket.socket | None = None
        self.clients: dict[socket.socket, bytearray] = {}
        self._thread: threading.Thread | None = None
        self.stopping = False
        self.closed = False

    def listen(self, host: str, port: int) -> None:
        listener = socket.create_server((host, port))
        listener.setblocking(False)
        self.listener = listener
        self._sel.register(listener, selectors.EVENT_READ, "listen")

    def start(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends the thread (bounded wait), closes every port and socket."""
        if self.closed:
            return
        with self._changed:
            self.stopping = True
        self.wake()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)
            self._thread = None
        with self._changed:
            self.close_ports()
            self.drop_clients()
            if self.listener is not None:
                self.listener.close()
                self.listener = None
        self._sel.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.closed = True

    def schedule(self, delay_s: float, fn: Callable[[], None]) -> None:
        """fn() on the loop's thread after delay_s (callers hold the lock)."""
        heapq.heappush(self._timers, (time.monotonic() + max(0.0, delay_s), next(self._seq), fn))
        self.wake()

    def wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def send_tcp(self, data: bytes) -> None:
        for out in self.clients.values():
            out += data
            del out[:-MAX_OUTPUT]
        self.wake()

    def close_ports(self) -> None:
        for port in self.ports:
            if port.open and port.master is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(port.master)
            port.unplug()

    def drop_clients(self) -> None:
        for client in list(self.clients):
            self._drop(client)

    def _drop(self, client: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(client)
        self.clients.pop(client, None)
        client.close()

    # -- the thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self._changed:
                    if self.stopping:
                        return
                    timeout = self._next_timeout()
                events = self._sel.select(timeout)
                with self._changed:
                    for key, _ in events:
                        self._on_readable(key)
                    self._run_timers()
                    self._check_ports()
                    self._flush()
                    self._changed.notify_all()
        except Exception:  # a simulator bug must show, not hang the tests silently
            log.exception("modem simulator thread failed")
            raise

    def _next_timeout(self) -> float:
        timeout = 1.0
        if self._timers:
            timeout = min(timeout, max(0.0, self._timers[0][0] - time.monotonic()))
        if any(port.master is not None and not port.open for port in self.ports):
            timeout = min(timeout, RECONNECT_POLL_S)
        if any(port.out for port in self.ports) or any(self.clients.values()):
            timeout = min(timeout, OUTPUT_POLL_S)
        return timeout

    def _on_readable(self, key: selectors.SelectorKey) -> None:
        if key.data == "wake":
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)
        elif isinstance(key.data, PtyPort):
            self._read_port(key.data)
        elif key.data == "listen":
            assert self.listener is not None
            with contextlib.suppress(BlockingIOError):
                client, _ = self.listener.accept()
                client.setblocking(False)
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.clients[client] = bytearray()
                self._sel.register(client, selectors.EVENT_READ, "tcp")
                self._on_arrival(None)
        elif key.data == "tcp":
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._drop(sock)
                self._on_left(None)
                return
            self._on_input(None, data)

    def _read_port(self, port: PtyPort) -> None:
        master = port.master
        data = port.read()
        if data is None:  # the client closed the slave side
            if master is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(master)
            self._on_left(port)
        elif data:
            self._on_input(port, data)

    def _check_ports(self) -> None:
        for port in self.ports:
            if port.client_arrived():
                assert port.master is not None
                self._sel.register(port.master, selectors.EVENT_READ, port)
                self._on_arrival(port)

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, fn = heapq.heappop(self._timers)
            try:
                fn()
            except Exception as e:
                log.exception("modem simulator timer failed")
                self._on_error(f"timer: {e!r}")

    def _flush(self) -> None:
        for port in self.ports:
            port.flush()
        for client, out in list(self.clients.items()):
            if not out:
                continue
            try:
                written = client.send(out)
                del out[:written]
            except BlockingIOError:
                pass
            except OSError:
                self._drop(client)
