"""One POP3 session (blocking, poplib; the connector runs it in a thread)."""

from __future__ import annotations

import contextlib
import hashlib
import poplib
import ssl
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from msghub.email.tls import client_context
from msghub.errors import HubError

# poplib refuses lines longer than this (2 KiB by default). Mails with
# megabyte-long lines exist, and one refused every time would block the
# mailbox: allow up to 64 MiB (larger than any mail under max_size_bytes).
poplib._MAXLINE = 64 * 1024 * 1024  # type: ignore[attr-defined]


T = TypeVar("T")


class Pop3Error(HubError):
    pass


class Pop3AuthError(Pop3Error):
    pass


def _text(value: bytes | str | Exception) -> str:
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(raw.split())[:300]


def _uidl(raw: bytes) -> str:
    """A UIDL as stored: RFC 1939 allows 1-70 characters 0x21-0x7E; anything
    else a server sends is kept distinct, as a hash."""
    if 0 < len(raw) <= 200 and all(0x21 <= b <= 0x7E for b in raw):
        return raw.decode("ascii")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class Pop3Session:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.pop: poplib.POP3 | None = None
        self.tls = False

    def connect(self) -> None:
        cfg = self.config
        host, port, timeout = str(cfg["host"]), int(cfg["port"]), float(cfg["timeout_s"])
        context = client_context(bool(cfg["tls_verify"]), str(cfg["tls_ca_file"]))
        try:
            if cfg["tls"] == "implicit":
                pop: poplib.POP3 = poplib.POP3_SSL(host, port, timeout=timeout, context=context)
                self.tls = True
            else:
                pop = poplib.POP3(host, port, timeout=timeout)
            self.pop = pop
            if cfg["tls"] in ("stls", "opportunistic"):
                offered = "STLS" in self._capa(pop)
                if offered:
                    pop.stls(context=context)
                    self.tls = True
                elif cfg["tls"] == "stls":
                    raise Pop3Error(f"{host}:{port} offers no STLS, and tls=stls requires it "
                                    "(use tls=opportunistic to log in without TLS)")
            self._login(pop)
        except Pop3Error:
            self.abort()
            raise
        except (OSError, poplib.error_proto, ssl.SSLError) as exc:
            self.abort()
            raise Pop3Error(f"cannot talk to {host}:{port}: {_text(exc) or type(exc).__name__}") from None

    def _capa(self, pop: poplib.POP3) -> dict[str, list[str]]:
        try:
            return pop.capa()
        except poplib.error_proto:
            return {}

    def _login(self, pop: poplib.POP3) -> None:
        cfg = self.config
        try:
            if cfg["apop"]:
                pop.apop(cfg["username"], cfg["password"])
            else:
                pop.user(cfg["username"])
                pop.pass_(cfg["password"])
        except poplib.error_proto as exc:
            raise Pop3AuthError(f"{cfg['host']}:{cfg['port']} refused the login of {cfg['username']}: "
                                f"{_text(exc.args[0] if exc.args else exc)}") from None

    def listing(self) -> list[tuple[int, str, int]]:
        """(number, UIDL, size) of every mail in the mailbox."""
        return self._guard("UIDL/LIST", self._listing)

    def _guard(self, what: str, call: Callable[[], T]) -> T:
        """A dropped link or a bad answer mid-session is a Pop3Error that says where."""
        try:
            return call()
        except Pop3Error:
            raise
        except (OSError, poplib.error_proto, ssl.SSLError, ValueError) as exc:
            self.abort()
            raise Pop3Error(f"{what} failed: {_text(exc) or type(exc).__name__}") from None

    def _listing(self) -> list[tuple[int, str, int]]:
        pop = self._pop()
        uidls: dict[int, str] = {}
        for line in pop.uidl()[1]:
            raw_number, _, uid = line.partition(b" ")
            uidls[int(raw_number)] = _uidl(uid.strip())
        sizes: dict[int, int] = {}
        for line in pop.list()[1]:
            number, _, size = line.decode("ascii", "replace").partition(" ")
            sizes[int(number)] = int(size.split()[0]) if size.strip() else 0
        return [(n, uidls[n], sizes.get(n, 0)) for n in sorted(uidls)]

    def retrieve(self, number: int) -> bytes:
        return self._guard(f"RETR {number}", lambda: b"\r\n".join(self._pop().retr(number)[1]) + b"\r\n")

    def headers(self, number: int) -> bytes:
        return self._guard(f"TOP {number} 0", lambda: b"\r\n".join(self._pop().top(number, 0)[1]) + b"\r\n")

    def delete(self, number: int) -> None:
        self._guard(f"DELE {number}", lambda: self._pop().dele(number))

    def quit(self) -> None:
        """QUIT commits deletions (the UPDATE state); raises when it did not happen."""
        self._guard("QUIT", self._pop().quit)
        self.pop = None

    def _pop(self) -> poplib.POP3:
        if self.pop is None:
            raise Pop3Error("the POP3 session is closed")
        return self.pop

    def abort(self) -> None:
        if self.pop is not None:
            with contextlib.suppress(OSError):
                self.pop.close()
            self.pop = None
