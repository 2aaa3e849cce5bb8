"""The editor's "call a web address" action replies with the answer: a JSON
field or the text, or a failure text; the answer never runs the rule's
actions again."""

from __future__ import annotations

from typing import Any

import pytest

from msghub.rules.model import ModelError, describe_model, validate_model
from tests.rules.test_model import event, message, run

URL = "https://weather.example.org/now"
ASK = {"type": "http", "method": "GET", "url": URL}
WHEN = [{"type": "text_starts_with", "keyword": "weather"}]


def answer(status: int | None = 200, *, json: Any = None, body: str = "", error: str | None = None,
           context: Any = None) -> dict[str, Any]:
    """The http_response event of the rule's call, as the dispatcher writes it."""
    response = {"status": status, "headers": {}, "body": body, "json": json, "truncated": False, "error": error,
                "elapsed_ms": 12}
    payload = {"request_id": 5, "rule_id": 1, "method": "GET", "url": URL,
               "context": {"__vm_answer": 0} if context is None else context, "response": response}
    return event(type="http_response", payload=payload)


def model(**http: Any) -> dict[str, Any]:
    return {"conditions": WHEN, "actions": [{**ASK, **http}, {"type": "log", "message": "asked"}]}


def test_the_call_carries_which_reply_its_answer_gets() -> None:
    actions = run(model(reply="It is {answer} degrees"), message(text="weather Oslo"))
    assert actions == [{"type": "http", "method": "GET", "url": URL, "context": {"__vm_answer": 0}},
                       {"type": "log", "level": "info", "message": "asked"}]


def test_a_json_field_of_the_answer_goes_into_the_reply() -> None:
    m = model(reply="{sender}: it is {answer} degrees", answer_field="current.temp")
    actions = run(m, message(text="weather Oslo"), answer(json={"current": {"temp": -3.5}}))
    assert actions == [{"type": "reply", "text": "+447911123456: it is -3.5 degrees"}]


def test_the_text_of_the_answer_goes_into_the_reply_without_a_field() -> None:
    actions = run(model(reply="Answer: {answer}"), message(text="weather"), answer(body="sunny, 12 °C"))
    assert actions == [{"type": "reply", "text": "Answer: sunny, 12 °C"}]


@pytest.mark.parametrize("failed", [
    answer(None, error="connection refused"),
    answer(503, body="busy"),
    answer(json={"current": {}}),
    answer(json=None, body="not json"),
])  # fmt: skip
def test_a_failed_call_gets_the_failure_text_or_a_warning(failed: dict[str, Any]) -> None:
    with_text = model(reply="It is {answer}", answer_field="current.temp", reply_failed="No weather now, {sender}.")
    assert run(with_text, message(text="weather"), failed) == [
        {"type": "reply", "text": "No weather now, +447911123456."}]
    without = run(model(reply="It is {answer}", answer_field="current.temp"), message(text="weather"), failed)
    assert [a["type"] for a in without] == ["log"] and without[0]["level"] == "warn"
    assert URL in without[0]["message"]


def test_an_answer_never_runs_the_actions_again() -> None:
    # the answer's event carries the asking message, which still matches the conditions
    assert run(model(), message(text="weather"), answer(json={"t": 1})) == []
    assert run(model(reply="{answer}"), message(text="weather"), answer(context={"other": 1})) == []


def test_validation_and_description() -> None:
    with pytest.raises(ModelError, match=r"actions\[0\]\.answer_field: is for replying with the answer"):
        validate_model({"actions": [{**ASK, "answer_field": "temp"}]})
    with pytest.raises(ModelError, match=r"actions\[0\]\.answer_field: must be a field of the JSON answer"):
        validate_model({"actions": [{**ASK, "reply": "{answer}", "answer_field": "a..b"}]})
    with pytest.raises(ModelError, match=r"actions\[0\]\.reply_failed: unknown placeholder \{answer\}"):
        validate_model({"actions": [{**ASK, "reply": "{answer}", "reply_failed": "{answer}"}]})
    with pytest.raises(ModelError, match=r"actions\[0\]\.body: unknown placeholder \{answer\}"):
        validate_model({"actions": [{**ASK, "body": "{answer}"}]})
    line = describe_model({"actions": [{**ASK, "reply": "It is {answer} degrees"}]})
    assert line == f"Always: GET {URL}, reply 'It is {{answer}} degrees'"
