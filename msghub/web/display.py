"""How the pages put things in words: event types, a connection's current
error, a text cut short. Registered on the templates' environment (common.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from msghub.rules.events import EVENT_TYPES

EVENT_WORDS = {
    "message_received": "a message arrives",
    "message_sent": "a message is sent",
    "message_failed": "a message fails",
    "delivery_report": "a delivery report arrives",
    "connection_up": "a connection comes up",
    "connection_down": "a connection goes down",
    "data_imported": "data is imported",
    "schedule": "on a schedule",
    "http_response": "a web call answers",
    "quota_warning": "a quota reaches its warning level",
}
assert set(EVENT_WORDS) == set(EVENT_TYPES), "every event type has words"


def event_words(events: Iterable[str]) -> str:
    """['message_received', 'http_response'] -> 'a message arrives, or a web call answers'"""
    words = [EVENT_WORDS.get(e, e.replace("_", " ")) for e in events]
    return ", or ".join(words) if len(words) <= 2 else ", ".join(words[:-1]) + ", or " + words[-1]


def current_error(connection: Mapping[str, Any]) -> str:
    """A connection's last error while it still matters: not once the
    connection has come up again since the error."""
    error = connection.get("last_error") or ""
    at, since = connection.get("last_error_at"), connection.get("state_since")
    if error and connection.get("state") == "up" and (at is None or (since is not None and at <= since)):
        return ""
    return str(error)


def shorten(text: str, limit: int = 140) -> str:
    """At most limit characters, cut at a word with "…" when anything was left out."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:.-") + "…"


def filter_rows(rows: Iterable[Mapping[str, Any]], q: str, fields: tuple[str, ...]) -> list[Mapping[str, Any]]:
    """The rows of a short list page (connections, polls) whose fields hold
    the search box's text, ignoring case; all of them for an empty search."""
    needle = q.casefold()
    kept = []
    for row in rows:
        values = (row.get(f) for f in fields)
        text = " ".join(" ".join(map(str, v)) if isinstance(v, list | tuple) else str(v or "") for v in values)
        if needle in text.casefold():
            kept.append(row)
    return kept


def money(amount: Decimal | None) -> str:
    """0.27 -> '0.27', 0.135 -> '0.135', 2 -> '2.00' (at most four decimals)."""
    if amount is None:
        return ""
    shown = amount.quantize(Decimal("0.0001")).normalize()
    exponent = shown.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        shown = amount.quantize(Decimal("0.01"))
    return f"{shown:f}"


def install(env: Any) -> None:
    env.filters["money"] = money
    env.filters["event_words"] = event_words
    env.filters["shorten"] = shorten
    env.globals["current_error"] = current_error
