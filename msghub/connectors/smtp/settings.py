"""The smtp kind's declared settings."""

from __future__ import annotations

from typing import TypedDict

from msghub.connectors.settings import Setting
from msghub.email.tls import TLS_MODES


def _address(value: str) -> str | None:
    return None if not value or ("@" in value and " " not in value.strip()) else "not an e-mail address"


SETTINGS = (
    Setting("host", str, "mail server (submission) host name", required=True),
    Setting("port", int, "mail server port: 587 submission (STARTTLS), 465 implicit TLS, 25 relay",
            default=587, minimum=1, maximum=65535),
    Setting("tls", str, "implicit (TLS from the first byte), starttls (required), opportunistic "
            "(STARTTLS when offered) or off", default="starttls", choices=TLS_MODES),
    Setting("tls_verify", bool, "check the server's certificate and name", default=True),
    Setting("tls_ca_file", str, "CA certificates (PEM) to trust instead of the system's", default=""),
    Setting("username", str, "AUTH user name; empty: no AUTH", default=""),
    Setting("password", str, "AUTH password", default="", secret=True),
    Setting("auth_method", str, "AUTH mechanism: auto (the server's best of PLAIN and LOGIN), plain or login",
            default="auto", choices=("auto", "plain", "login")),
    Setting("from_address", str, "From: of mails that name no sender", required=True, check=_address),
    Setting("from_name", str, "display name of the From: address", default=""),
    Setting("reply_to", str, "Reply-To: address; empty: none", default="", check=_address),
    Setting("envelope_sender", str, "MAIL FROM address (where bounces go); empty: the From: address",
            default="", check=_address),
    Setting("helo_name", str, "name given in EHLO; empty: this host's name", default=""),
    Setting("message_id_domain", str, "domain of generated Message-IDs; empty: the From: domain", default=""),
    Setting("dsn", bool, "ask for delivery status notifications (RFC 3461) where the server offers them",
            default=True),
    Setting("sessions", int, "SMTP sessions used at once (each is reused across a batch)",
            default=2, minimum=1, maximum=20),
    Setting("rate_per_s", float, "most mails per second through this connection; 0: no limit",
            default=0.0, minimum=0.0, maximum=10000.0),
    Setting("timeout_s", float, "network timeout per SMTP command, in seconds", default=30.0,
            minimum=1.0, maximum=600.0),
    Setting("idle_close_s", float, "close a reused session after this long unused, in seconds", default=60.0,
            minimum=1.0, maximum=3600.0),
)


class SmtpSettings(TypedDict):
    """SETTINGS as a type (the contract tests check that the two agree)."""
    host: str
    port: int
    tls: str
    tls_verify: bool
    tls_ca_file: str
    username: str
    password: str
    auth_method: str
    from_address: str
    from_name: str
    reply_to: str
    envelope_sender: str
    helo_name: str
    message_id_domain: str
    dsn: bool
    sessions: int
    rate_per_s: float
    timeout_s: float
    idle_close_s: float
