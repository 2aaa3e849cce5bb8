"""One SMTP session (blocking, smtplib; the connector runs it in a thread).

send() tells apart what the caller must: a refusal (the server's code and
words, at which stage), a failure before the final dot was written (nothing
was accepted: safe to retry), and a failure after it (the server may have
accepted: uncertain).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from msghub.email.tls import client_context
from msghub.errors import HubError


class SmtpError(HubError):
    pass


class SmtpRefused(SmtpError):
    """The server answered with an error code."""

    def __init__(self, stage: str, code: int, text: str) -> None:
        super().__init__(f"{stage}: {code} {text}".strip())
        self.stage, self.code, self.text = stage, code, text

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


class SmtpLinkError(SmtpError):
    """The link failed before the mail was complete on the server: nothing accepted."""


class SmtpUncertain(SmtpError):
    """The mail was written whole but no answer came back: it may have been accepted."""


class SmtpAuthError(SmtpError):
    pass


@dataclass(frozen=True)
class Accepted:
    code: int
    reply: str
    recipient_code: int
    recipient_reply: str
    dsn: bool


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _text(reply: bytes | str) -> str:
    raw = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(raw.split())[:500]


class SmtpSession:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.last_used = time.monotonic()
        self.tls = False

    def connect(self) -> str:
        """Connects, says EHLO, secures and logs in; returns what the server offers."""
        cfg = self.config
        timeout = float(cfg["timeout_s"])
        helo = cfg["helo_name"] or socket.getfqdn()
        context = client_context(bool(cfg["tls_verify"]), str(cfg["tls_ca_file"]))
        host, port = str(cfg["host"]), int(cfg["port"])
        try:
            if cfg["tls"] == "implicit":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, local_hostname=helo, timeout=timeout,
                                                      context=context)
                self.tls = True
            else:
                smtp = smtplib.SMTP(host, port, local_hostname=helo, timeout=timeout)
            self.smtp = smtp
            self._ehlo(smtp)
            if cfg["tls"] in ("starttls", "opportunistic") and not self.tls:
                if smtp.has_extn("starttls"):
                    code, reply = smtp.starttls(context=context)
                    if code != 220:
                        raise SmtpRefused("STARTTLS", code, _text(reply))
                    self.tls = True
                    self._ehlo(smtp)
                elif cfg["tls"] == "starttls":
                    raise SmtpLinkError(f"{host}:{port} offers no STARTTLS, and tls=starttls requires it "
                                        "(use tls=opportunistic to send without TLS)")
            if cfg["username"]:
                self._login(smtp)
        except smtplib.SMTPAuthenticationError as exc:
            self.abort()
            raise SmtpAuthError(f"{host}:{port} refused the login of {cfg['username']}: "
                                f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except SmtpError:
            self.abort()
            raise
        except smtplib.SMTPResponseException as exc:
            self.abort()
            raise SmtpRefused("connect", exc.smtp_code, _text(exc.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.abort()
            raise SmtpLinkError(f"cannot talk to {host}:{port}: {exc or type(exc).__name__}") from None
        self.last_used = time.monotonic()
        return ", ".join(sorted(smtp.esmtp_features))

    def _ehlo(self, smtp: smtplib.SMTP) -> None:
        code, reply = smtp.ehlo()
        if code != 250:
            code, reply = smtp.helo()
            if code != 250:
                raise SmtpRefused("EHLO", code, _text(reply))

    def _login(self, smtp: smtplib.SMTP) -> None:
        cfg = self.config
        if not smtp.has_extn("auth"):
            raise SmtpLinkError(f"{cfg['host']} offers no AUTH (is TLS required first?), but a username is set")
        method = cfg["auth_method"]
        if method == "auto":
            smtp.login(cfg["username"], cfg["password"])
            return
        smtp.user, smtp.password = cfg["username"], cfg["password"]
        auth = smtp.auth_plain if method == "plain" else smtp.auth_login
        smtp.auth(method.upper(), auth, initial_response_ok=True)

    def send(self, envelope_from: str, recipient: str, data: bytes, envelope_id: str,
             notify: str) -> Accepted:
        smtp = self.smtp
        if smtp is None:
            raise SmtpLinkError("the session is closed")
        dsn = smtp.has_extn("dsn") and bool(self.config["dsn"])
        mail_options = []
        if smtp.has_extn("size"):
            mail_options.append(f"SIZE={len(data)}")
        rcpt_options = []
        if dsn:
            mail_options += ["RET=HDRS", f"ENVID={envelope_id}"]
            rcpt_options.append(f"NOTIFY={notify}")
        try:
            code, reply = smtp.mail(envelope_from, mail_options)
            if code != 250:
                self._reset()
                raise SmtpRefused("MAIL FROM", code, _text(reply))
            rcode, rreply = smtp.rcpt(recipient, rcpt_options)
            if rcode not in (250, 251):
                self._reset()
                raise SmtpRefused(f"RCPT TO <{recipient}>", rcode, _text(rreply))
            code, reply = smtp.docmd("DATA")
            if code != 354:
                self._reset()
                raise SmtpRefused("DATA", code, _text(reply))
            body = _LEADING_DOT.sub(b"..", data)
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            smtp.send(body + b".\r\n")
        except SmtpRefused:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self.abort()
            raise SmtpLinkError(f"link lost before the mail was complete: {exc or type(exc).__name__}") from None
        try:
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self.abort()
            raise SmtpUncertain(f"mail written, but no answer came: {exc or type(exc).__name__}") from None
        self.last_used = time.monotonic()
        if code != 250:
            raise SmtpRefused("end of DATA", code, _text(reply))
        return Accepted(code, _text(reply), rcode, _text(rreply), dsn)

    def _reset(self) -> None:
        assert self.smtp is not None
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.abort()

    def quit(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException, ssl.SSLError):
                self.smtp.quit()
            self.abort()

    def abort(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
            self.smtp = None
