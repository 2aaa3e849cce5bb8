"""Kannel's sendsms request, read as Kannel's smsbox reads it (docs/KANNEL.md).

Pure functions: the request's fields in (``args``: name -> raw bytes, as
percent-decoding gives them), a ``SendSms`` out, or a ``KannelError`` with
Kannel's own answer text and HTTP status. Numbers are read the way Kannel's
``sscanf("%d")`` reads them (a leading integer, else "not given"), and the
range checks and their texts are Kannel's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

UNDEFINED = -1  # Kannel's SMS_PARAM_UNDEFINED
ACCOUNT_MAX_LEN = 64
MAX_UDH_OCTETS = 140
# a validity or deferral longer than this (minutes) overflows the database's times
MAX_MINUTES = 10 * 366 * 24 * 60
# Kannel's default sendsms-chars: what a receiver may consist of
NUMBER_CHARS = frozenset("0123456789 +-")

ACCEPTED = (202, "0: Accepted for delivery")
QUEUED_LATER = (202, "3: Queued for later delivery")
NOT_ROUTABLE = (403, "Not routable. Do not try again.")
TEMPORARY = (503, "Temporal failure, try again later.")
AUTH_FAILED = (403, "Authorization failed for sendsms")

_INT = re.compile(rb"\s*([+-]?\d+)")

# field -> (lowest, highest, Kannel's answer when outside)
_RANGES: dict[str, tuple[int, int, str]] = {
    "dlr-mask": (-1, 63, "DLR-Mask field misformed, rejected"),
    "mclass": (-1, 3, "MClass field misformed, rejected"),
    "pid": (-1, 255, "PID field misformed, rejected"),
    "rpi": (-1, 2, "RPI field misformed, rejected"),
    "alt-dcs": (-1, 1, "Alt-DCS field misformed, rejected"),
    "mwi": (-1, 7, "MWI field misformed, rejected"),
    "coding": (-1, 2, "Coding field misformed, rejected"),
    "compress": (-1, 1, "Compress field misformed, rejected"),
    "validity": (-1, MAX_MINUTES, "Validity field misformed, rejected"),
    "deferred": (-1, MAX_MINUTES, "Deferred field misformed, rejected"),
}


class KannelError(Exception):
    """A request Kannel would refuse: its answer text and HTTP status."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


@dataclass(frozen=True)
class SendSms:
    username: str
    password: str
    receivers: tuple[str, ...]
    denied: tuple[str, ...]
    sender: str | None
    text: str
    coding: int
    smsc: str | None
    priority: int
    dlr_mask: int
    dlr_url: str | None
    send_at: datetime | None
    valid_until: datetime | None
    # what is kept for the escape codes and the record (docs/KANNEL.md)
    params: dict[str, Any] = field(default_factory=dict)

    def outbox_row(self) -> dict[str, Any]:
        """The hub.outbox columns of this request."""
        return {
            "channel": "sms",
            "recipients": list(self.receivers),
            "sender": self.sender,
            "text": self.text,
            "connection": self.smsc,
            "send_at": self.send_at,
            "valid_until": self.valid_until,
            # a report from the handset is asked for when a callback wants one
            "delivery_report": bool(self.dlr_mask & (1 | 2 | 4)),
            "priority": self.priority,
        }


def scan_int(raw: bytes | None) -> int:
    """C's sscanf("%d"): the leading integer, or UNDEFINED when there is none."""
    if raw is None:
        return UNDEFINED
    match = _INT.match(raw)
    return int(match.group(1)) if match else UNDEFINED


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", errors="replace")


def _decode_body(raw: bytes, charset: str | None, coding: int) -> str:
    name = charset or ("UTF-16BE" if coding == 2 else "UTF-8")
    try:
        return raw.decode(name)
    except (LookupError, UnicodeDecodeError):
        raise KannelError(400, "Charset or body misformed, rejected") from None


def _dlr_url(raw: str | None) -> str | None:
    if not raw:
        return None
    if len(raw) < 8 or not raw[:8].lower().startswith(("http://", "https://")):
        raise KannelError(400, "DLR-URL field misformed, rejected")
    return raw


def first(args: dict[str, bytes], *names: str) -> bytes | None:
    for name in names:
        if name in args:
            return args[name]
    return None


def parse_sendsms(args: dict[str, bytes], now: datetime | None = None) -> SendSms:
    """The request, checked in Kannel's order; KannelError for what Kannel refuses.

    Credentials are not checked here (the caller does, before anything else,
    as Kannel does)."""
    now = now or datetime.now(UTC)
    username = _text(first(args, "username", "user")) or ""
    password = _text(first(args, "password", "pass")) or ""
    numbers = {name: scan_int(first(args, name, *(("dlrmask",) if name == "dlr-mask" else ())))
               for name in _RANGES}
    priority = scan_int(args.get("priority"))
    to = args.get("to")
    if to is None:
        raise KannelError(400, "Missing receiver number, rejected")
    if to == b"":
        raise KannelError(400, "Empty receiver number not allowed, rejected")
    udh = args.get("udh")
    if udh is not None and udh != b"":
        if len(udh) != udh[0] + 1:
            raise KannelError(400, "UDH field misformed, rejected")
        if len(udh) > MAX_UDH_OCTETS:
            raise KannelError(400, "UDH field is too long, rejected")
        # the outbox queues text and splits it itself: a hand-made UDH has no place to go
        raise KannelError(400, "UDH field not supported by msghub, rejected")
    words = (_text(to) or "").split()
    denied = tuple(w for w in words if not set(w) <= NUMBER_CHARS)
    allowed = tuple(dict.fromkeys(w for w in words if w not in denied))
    if not allowed:
        raise KannelError(400, "Number(s) has/have been denied by white- and/or black-lists.")
    sender = _text(args.get("from")) or None
    account = _text(args.get("account"))
    if account and (len(account) > ACCOUNT_MAX_LEN or any(c in account for c in "[]\n\r")):
        raise KannelError(400, "Account field misformed or too long, rejected")
    dlr_url = _dlr_url(_text(first(args, "dlr-url", "dlrurl")))
    for name, (low, high, answer) in _RANGES.items():
        if not low <= numbers[name] <= high:
            raise KannelError(400, answer)
    if priority != UNDEFINED and not 0 <= priority <= 3:
        raise KannelError(400, "Priority field misformed, rejected")
    coding = numbers["coding"]
    if coding == 1:
        raise KannelError(400, "8-bit (binary) messages are not supported by msghub, rejected")
    charset = _text(args.get("charset")) or None
    text = _decode_body(args.get("text") or b"", charset, coding)
    if "\x00" in text:
        raise KannelError(400, "Charset or body misformed, rejected")
    validity, deferred = numbers["validity"], numbers["deferred"]
    params: dict[str, Any] = {
        name: numbers[name] for name in ("coding", "mclass", "mwi", "pid", "rpi", "alt-dcs", "compress")
    }
    for name in ("charset", "account", "binfo", "meta-data", "smsc"):
        value = _text(args.get(name))
        if value:
            params[name] = value
    return SendSms(
        username=username,
        password=password,
        receivers=allowed,
        denied=denied,
        sender=sender,
        text=text,
        coding=0 if coding == UNDEFINED else coding,
        smsc=_text(args.get("smsc")) or None,
        priority=1 if priority == UNDEFINED else priority,
        dlr_mask=max(numbers["dlr-mask"], 0),
        dlr_url=dlr_url,
        send_at=None if deferred == UNDEFINED else now + timedelta(minutes=deferred),
        valid_until=None if validity == UNDEFINED else now + timedelta(minutes=validity),
        params=params,
    )


# X-Kannel-* headers of a POST -> the field they carry
HEADER_FIELDS = {
    "x-kannel-from": "from", "x-kannel-to": "to", "x-kannel-username": "username",
    "x-kannel-password": "password", "x-kannel-smsc": "smsc", "x-kannel-udh": "udh",
    "x-kannel-dlr-url": "dlr-url", "x-kannel-account": "account", "x-kannel-binfo": "binfo",
    "x-kannel-coding": "coding", "x-kannel-pid": "pid", "x-kannel-mwi": "mwi",
    "x-kannel-mclass": "mclass", "x-kannel-alt-dcs": "alt-dcs", "x-kannel-compress": "compress",
    "x-kannel-validity": "validity", "x-kannel-deferred": "deferred", "x-kannel-dlr-mask": "dlr-mask",
    "x-kannel-rpi": "rpi", "x-kannel-priority": "priority", "x-kannel-meta-data": "meta-data",
}


def args_from_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, bytes]:
    """The fields a POST carries in X-Kannel-* headers (stripped, as Kannel does)."""
    args: dict[str, bytes] = {}
    for name, value in headers:
        target = HEADER_FIELDS.get(name.decode("latin-1").lower())
        if target is not None:
            args[target] = value.strip()
    udh = args.get("udh")
    if udh is not None:
        try:
            args["udh"] = bytes.fromhex(udh.decode("latin-1"))
        except ValueError:
            from urllib.parse import unquote_to_bytes

            args["udh"] = unquote_to_bytes(udh)
    return args
