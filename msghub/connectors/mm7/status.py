"""MM7 versions, status codes and what each code means for a queued message."""

from __future__ import annotations

from typing import Literal

NS_PREFIX = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
# Schema versions accepted from an MMSC, each with the MM7Version commonly sent with it.
SCHEMA_VERSIONS: dict[str, str] = {
    "REL-5-MM7-1-0": "5.3.0",
    "REL-5-MM7-1-1": "5.3.0",
    "REL-5-MM7-1-2": "5.5.0",
    "REL-5-MM7-1-3": "5.6.0",
    "REL-6-MM7-1-0": "6.3.0",
    "REL-6-MM7-1-1": "6.5.0",
    "REL-6-MM7-1-2": "6.6.0",
    "REL-6-MM7-1-3": "6.7.0",
    "REL-6-MM7-1-4": "6.8.0",
}
DEFAULT_SCHEMA = "REL-6-MM7-1-4"

STATUS_TEXTS: dict[int, str] = {
    1000: "Success",
    1100: "Partial success",
    2000: "Client error",
    2001: "Operation restricted",
    2002: "Address Error",
    2003: "Address Not Found",
    2004: "Multimedia content refused",
    2005: "Message ID Not found",
    2006: "LinkedID not found",
    2007: "Message format corrupt",
    2008: "Application ID not found",
    2009: "Reply Application ID not found",
    3000: "Server Error",
    3001: "Not Possible",
    3002: "Message rejected",
    3003: "Multiple addresses not supported",
    3004: "Application Addressing not supported",
    4000: "General service error",
    4001: "Improper identification",
    4002: "Unsupported version",
    4003: "Unsupported Operation",
    4004: "Validation error",
    4005: "Service error",
    4006: "Service unavailable",
    4007: "Service denied",
    4008: "Application denied",
}
# Codes that say "try again later": the MMSC's own trouble, not the message's.
RETRY_CODES = frozenset({3000, 3001, 4000, 4005, 4006})

Outcome = Literal["success", "retry", "permanent"]


def namespace(schema: str) -> str:
    return NS_PREFIX + schema


def schema_of(ns: str) -> str | None:
    """The schema version a namespace names, if it is one msghub accepts."""
    if not ns.startswith(NS_PREFIX):
        return None
    schema = ns[len(NS_PREFIX) :]
    return schema if schema in SCHEMA_VERSIONS else None


def outcome(code: int) -> Outcome:
    """1xxx succeed; 3000/3001/4000/4005/4006 are retried; every other code fails for good."""
    if 1000 <= code < 2000:
        return "success"
    if code in RETRY_CODES:
        return "retry"
    return "permanent"


def status_text(code: int) -> str:
    return STATUS_TEXTS.get(code, STATUS_TEXTS.get(code // 1000 * 1000, "Unknown status"))
