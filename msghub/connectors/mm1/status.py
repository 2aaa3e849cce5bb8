"""X-Mms-Response-Status of an m-send-conf (OMA-TS-MMS_ENC-V1_3 7.3.48) as
the connector contract's outcome, and X-Mms-Status of an m-delivery-ind as
a delivery report's status."""

from __future__ import annotations

from msghub.mms.headers import RESPONSE_STATUSES

OK = 0x80
# MMS 1.0's codes, read as 1.1+ says: only the network problem is worth a retry
OBSOLETE_RETRY = {0x86}
# X-Mms-Status of an m-delivery-ind -> (report status, reason)
DELIVERY_STATUS: dict[str, tuple[str, str | None]] = {
    "retrieved": ("delivered", None),
    "forwarded": ("delivered", "forwarded"),
    "rejected": ("failed", "rejected"),
    "expired": ("failed", "expired"),
    "unrecognised": ("failed", "unrecognised"),
    "deferred": ("buffered", "deferred"),
    "indeterminate": ("buffered", "indeterminate"),
    "unreachable": ("buffered", "unreachable"),
}


def response_name(code: int) -> str:
    return RESPONSE_STATUSES.get(code, f"unknown status 0x{code:02X}")


def send_outcome(code: int) -> str:
    """"ok", "retry" or "permanent"; codes a version added later are read by
    their range (0xC0-0xDF transient, 0xE0-0xFF permanent), as the spec says."""
    if code == OK:
        return "ok"
    if 0xC0 <= code <= 0xDF or code in OBSOLETE_RETRY:
        return "retry"
    return "permanent"


def delivery_status(status: str | None) -> tuple[str, str | None]:
    return DELIVERY_STATUS.get((status or "").lower(), ("buffered", f"status {status or 'missing'}"))
