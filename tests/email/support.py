"""Helpers for the e-mail tests: connector configs, a loopback proxy that cuts, waiting."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from msghub.connectors.base import OutboundMessage
from msghub.connectors.pop3.settings import SETTINGS as POP3_SETTINGS
from msghub.connectors.settings import validate_config
from msghub.connectors.smtp.settings import SETTINGS as SMTP_SETTINGS
from msghub.devtools.mailservers import PASSWORD, MailServers

WAIT_S = 30.0


def smtp_config(servers: MailServers, **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "host": "127.0.0.1", "port": servers.ports.smtp, "tls": "starttls", "tls_ca_file": str(servers.ca),
        "username": "hub@example.test", "password": PASSWORD, "from_address": "hub@example.test",
        "from_name": "msghub", "timeout_s": 10}
    values.update(over)
    return validate_config(SMTP_SETTINGS, values)


def pop3_config(servers: MailServers, user: str = "hub", **over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "host": "127.0.0.1", "port": servers.ports.pop3s, "tls": "implicit", "tls_ca_file": str(servers.ca),
        "username": user, "password": PASSWORD, "timeout_s": 10, "poll_interval_s": 3600}
    values.update(over)
    return validate_config(POP3_SETTINGS, values)


def outbound(message_id: int, recipient: str, subject: str = "Hello", text: str = "Hi", **kw: Any) -> OutboundMessage:
    return OutboundMessage(id=message_id, attempt=1, channel="email", recipient=recipient, sender=None,
                           subject=subject, text=text, **kw)


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class CuttingProxy:
    """A loopback TCP proxy to a server that cuts both sides once `cut_after`
    bytes have gone in the chosen direction ("up": client to server, "down":
    server to client). One connection at a time; cut=None passes everything."""

    def __init__(self, target_port: int, cut_after: int | None, direction: str = "down") -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.direction = direction
        self.cuts = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            done = threading.Event()
            up = threading.Thread(target=self._pump, args=(client, upstream, self.direction == "up", done),
                                  daemon=True)
            down = threading.Thread(target=self._pump, args=(upstream, client, self.direction == "down", done),
                                    daemon=True)
            up.start()
            down.start()
            up.join()
            down.join()
            for s in (client, upstream):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def _pump(self, src: socket.socket, dst: socket.socket, counts: bool, done: threading.Event) -> None:
        src.settimeout(0.2)
        counted = 0
        try:
            while not done.is_set() and not self._stop.is_set():
                try:
                    chunk = src.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                if counts and self.cut_after is not None:
                    room = self.cut_after - counted
                    if len(chunk) >= room:
                        dst.sendall(chunk[:max(room, 0)])
                        self.cuts += 1
                        break
                    counted += len(chunk)
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            done.set()
