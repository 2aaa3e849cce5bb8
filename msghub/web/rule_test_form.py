"""A rule test written in a form (issue 18, item 6): event type, sender,
text, channel, connection and time, and what the rule should do (reply,
no reply, folder, stop), turned into the JSON test the rule tests page
stores, so that the same checks (msghub.rules.testing) apply to both."""

from __future__ import annotations

import datetime as dt
from typing import Any

from msghub.rules.events import EVENT_TYPES

MESSAGE_EVENTS = ("message_received", "message_sent", "message_failed", "delivery_report")
MAX_FIELD_CHARS = 2000


def _field(form: dict[str, str], name: str) -> str:
    return form.get(name, "").strip()[:MAX_FIELD_CHARS]


def test_from_fields(form: dict[str, str]) -> dict[str, Any]:
    """The test the form describes; msghub.web.pages.rules.parse_test checks it like typed JSON."""
    event_type = _field(form, "event_type")
    event: dict[str, Any] = {"type": event_type if event_type in EVENT_TYPES else "message_received"}
    if event["type"] in MESSAGE_EVENTS:
        message: dict[str, Any] = {"text": form.get("text", "")[:MAX_FIELD_CHARS]}
        for key in ("sender", "channel", "connection"):
            if _field(form, key):
                message[key] = _field(form, key)
        at = _field(form, "created_at")
        if at:
            try:
                message["created_at"] = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC).isoformat()
            except ValueError:
                message["created_at"] = at  # refused by the test's own checks, with its words
        event["message"] = message
    expected: dict[str, Any] = {}
    reply = form.get("expect_reply", "").strip()[:MAX_FIELD_CHARS]
    if reply:
        expected["replies"] = [{"text": reply}]
    elif "expect_no_reply" in form:
        expected["replies"] = []
    if _field(form, "expect_folder"):
        expected["folder"] = _field(form, "expect_folder")
    if "expect_stop" in form:
        expected["stopped"] = True
    return {"name": _field(form, "name") or "a test", "event": event, "expected": expected}
