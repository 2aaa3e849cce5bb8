"""The pop3 kind's declared settings."""

from __future__ import annotations

from typing import TypedDict

from msghub.connectors.settings import Setting

SETTINGS = (
    Setting("host", str, "POP3 server host name", required=True),
    Setting("port", int, "POP3 server port: 995 implicit TLS, 110 plain or STLS", default=995,
            minimum=1, maximum=65535),
    Setting("tls", str, "implicit (TLS from the first byte), stls (required), opportunistic "
            "(STLS when offered) or off", default="implicit", choices=("implicit", "stls", "opportunistic", "off")),
    Setting("tls_verify", bool, "check the server's certificate and name", default=True),
    Setting("tls_ca_file", str, "CA certificates (PEM) to trust instead of the system's", default=""),
    Setting("username", str, "mailbox user name", required=True),
    Setting("password", str, "mailbox password", default="", secret=True),
    Setting("apop", bool, "log in with APOP (the password never crosses the link) instead of USER/PASS",
            default=False),
    Setting("poll_interval_s", float, "how often the mailbox is checked, in seconds", default=60.0,
            minimum=1.0, maximum=86400.0),
    Setting("delete_after_fetch", bool, "delete a mail from the server once it is stored (committed); "
            "off: leave it there (UIDL keeps it from being fetched twice)", default=False),
    Setting("max_size_bytes", int, "larger mails are stored with their headers only and a note",
            default=10_485_760, minimum=1024),
    Setting("batch_size", int, "mails fetched per session; a larger mailbox takes several", default=100,
            minimum=1, maximum=10_000),
    Setting("timeout_s", float, "network timeout per POP3 command, in seconds", default=30.0,
            minimum=1.0, maximum=600.0),
    Setting("sms_gateway_domain", str, "mail to +<number>@<this domain> is sent on as SMS; empty: off",
            default=""),
    Setting("sms_gateway_senders", str, "comma-separated From: addresses (or @domains) allowed to use "
            "the SMS gateway", default=""),
    Setting("sms_gateway_connection", str, "connection the gateway's SMS go through; empty: routing decides",
            default=""),
)


class Pop3Settings(TypedDict):
    """SETTINGS as a type (the contract tests check that the two agree)."""
    host: str
    port: int
    tls: str
    tls_verify: bool
    tls_ca_file: str
    username: str
    password: str
    apop: bool
    poll_interval_s: float
    delete_after_fetch: bool
    max_size_bytes: int
    batch_size: int
    timeout_s: float
    sms_gateway_domain: str
    sms_gateway_senders: str
    sms_gateway_connection: str
