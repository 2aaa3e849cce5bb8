"""The modem kind's declared settings."""

from __future__ import annotations

from typing import TypedDict

from msghub.connectors.mm1.client import fetch_hosts
from msghub.connectors.modem.pool import parse_routes
from msghub.connectors.modem.transport import is_tcp, split_tcp
from msghub.connectors.settings import Setting


def ports_of(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def _check_ports(value: str) -> str | None:
    ports = ports_of(value)
    if not ports:
        return "give a device (/dev/ttyUSB0, /dev/serial/by-id/...) or tcp://HOST:PORT"
    if len(set(ports)) != len(ports):
        return "a port is listed twice"
    for port in ports:
        if is_tcp(port):
            try:
                split_tcp(port)
            except ValueError as exc:
                return str(exc)
        elif not port.startswith("/"):
            return f"{port!r} is neither a device path nor tcp://HOST:PORT"
    return None


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit() is true too


def _check_pin(value: str) -> str | None:
    return None if value == "" or (_digits(value) and 4 <= len(value) <= 8) else "a PIN is 4 to 8 digits"


def _check_smsc(value: str) -> str | None:
    digits = value[1:] if value.startswith("+") else value
    return None if value == "" or (_digits(digits) and len(digits) <= 20) else "give a number such as +31653131313"


def _check_routes(value: str) -> str | None:
    try:
        parse_routes(value)
    except ValueError as exc:
        return str(exc)
    return None


def _check_url(value: str) -> str | None:
    return None if value == "" or value.startswith(("http://", "https://")) else "an http:// or https:// URL"


def _check_address(value: str) -> str | None:
    import ipaddress

    try:
        if value:
            ipaddress.ip_address(value)
    except ValueError:
        return "an IP address of this host (the data connection's interface), such as 10.64.12.7"
    return None


def _check_hosts(value: str) -> str | None:
    bad = [h for h in fetch_hosts(value) if "/" in h or ":" in h or " " in h]
    return f"{bad[0]!r} is not a host name (no scheme, port or path)" if bad else None


def init_commands(value: str) -> tuple[str, ...]:
    """Own init commands, separated by | or new lines (a ; belongs to AT)."""
    return tuple(c.strip() for c in value.replace("\n", "|").split("|") if c.strip())


def _check_init(value: str) -> str | None:
    bad = [c for c in init_commands(value) if not c.upper().startswith("AT")]
    return f"{bad[0]!r} does not start with AT" if bad else None


SETTINGS = (
    Setting("port", str, "the device: /dev/ttyUSB0, /dev/serial/by-id/..., or tcp://HOST:PORT for a serial "
            "server; several, comma-separated, make a pool", required=True, check=_check_ports),
    Setting("baud", int, "serial speed in bit/s (ignored over TCP)", default=115200, minimum=300, maximum=4_000_000),
    Setting("pin", str, "SIM PIN, entered once when the SIM asks (a refused PIN is never sent twice)",
            default="", secret=True, check=_check_pin),
    Setting("smsc", str, "SMS centre number to set with AT+CSCA; empty: the SIM's", default="", check=_check_smsc),
    Setting("init", str, "extra AT commands after the standard initialisation, separated by |", default="",
            check=_check_init),
    Setting("storage", str, "message storage (AT+CPMS): SM (SIM), ME (device), MT (both)", default="SM",
            choices=("SM", "ME", "MT", "SR")),
    Setting("receive", str, "how new messages arrive: stored (+CMTI, read then delete) or direct (+CMT, "
            "acknowledged with AT+CNMA where the device allows; stored otherwise)", default="stored",
            choices=("stored", "direct")),
    Setting("own_number", str, "the recipient recorded on received messages", default="modem"),
    Setting("sweep", bool, "at start, read and delete messages left in the device's storage", default=True),
    Setting("validity_min", int, "validity of messages without their own, in minutes; 0: the network's",
            default=0, minimum=0, maximum=635_040),
    Setting("flash_priority", int, "send messages of this priority (1-3) or higher as class 0 (flash); 0: never",
            default=0, minimum=0, maximum=3),
    Setting("transliterate", bool, "replace characters outside the GSM alphabet by look-alikes", default=False),
    Setting("command_timeout_s", float, "seconds to wait for the answer to a command", default=10.0,
            minimum=0.1, maximum=300),
    Setting("send_timeout_s", float, "seconds to wait for the answer to AT+CMGS (the network's answer); keep it "
            "under the hub's sending_lease_s", default=40.0, minimum=0.5, maximum=600),
    Setting("unresponsive_after", int, "commands without an answer in a row before the device is reset",
            default=2, minimum=1, maximum=100),
    Setting("status_interval_s", float, "seconds between signal and registration checks (AT+CSQ, AT+CREG?)",
            default=60.0, minimum=1, maximum=86400),
    Setting("reset", bool, "reset the device (ATZ) when the link is opened", default=True),
    Setting("per_minute", int, "messages per minute per device at most; 0: no limit", default=0,
            minimum=0, maximum=10_000),
    Setting("per_day", int, "messages per day per device at most (SIM plans); 0: no limit", default=0,
            minimum=0, maximum=10_000_000),
    Setting("routes", str, "pool routing: PREFIX[,PREFIX]=TARGET; ... prefers a device for those numbers; "
            "TARGET is its port, imsi:<IMSI start> (by SIM) or imei:<IMEI>",
            default="", check=_check_routes),
    Setting("reassembly_timeout_s", float, "seconds to wait for the missing parts of a long incoming message",
            default=300.0, minimum=0.5, maximum=86400),
    Setting("mms_url", str, "MMS through this device (MM1): the operator's MMSC URL, where m-send-req is "
            "POSTed; empty: no MMS", default="", check=_check_url),
    Setting("mms_proxy", str, "the operator's MMS proxy (WAP gateway) the MMSC is reached through, "
            "http://HOST:PORT; empty: no proxy", default="", check=_check_url),
    Setting("mms_local_address", str, "send MMS traffic from this address (the device's data connection, "
            "ppp0 or wwan0); empty: by the host's routes", default="", check=_check_address),
    Setting("mms_fetch_hosts", str, "host names (comma-separated) an MMS notification may send msghub to fetch "
            "from; empty: only the host of mms_url (a forged notification cannot make msghub fetch elsewhere)",
            default="", check=_check_hosts),
    Setting("mms_timeout_s", float, "seconds to wait for the MMSC's answer", default=60.0, minimum=0.5,
            maximum=600),
    Setting("mms_max_bytes", int, "largest MMS fetched from the MMSC, in bytes", default=1_000_000,
            minimum=1000, maximum=100_000_000),
)


class ModemSettings(TypedDict):
    """SETTINGS as a type (the contract tests check that the two agree)."""
    port: str
    baud: int
    pin: str
    smsc: str
    init: str
    storage: str
    receive: str
    own_number: str
    sweep: bool
    validity_min: int
    flash_priority: int
    transliterate: bool
    command_timeout_s: float
    send_timeout_s: float
    unresponsive_after: int
    status_interval_s: float
    reset: bool
    per_minute: int
    per_day: int
    routes: str
    reassembly_timeout_s: float
    mms_url: str
    mms_proxy: str
    mms_local_address: str
    mms_fetch_hosts: str
    mms_timeout_s: float
    mms_max_bytes: int
