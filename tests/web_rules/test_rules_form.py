"""The editor's form and the rule model: every kind the model knows has a
row, and a model shown in the form comes back from it unchanged."""

from __future__ import annotations

import pytest

from msghub.rules.model import ACTIONS, CONDITIONS, ModelError, validate_model
from msghub.web import rules_form

EVERY_KIND = {
    "match": "any",
    "conditions": [
        {"type": "sender_matches", "pattern": ["+4479*", "*@example.com"], "negate": False},
        {"type": "text_contains", "keyword": "opening hours", "negate": True},
        {"type": "text_starts_with", "keyword": "info", "negate": False},
        {"type": "text_matches", "pattern": "^stop\\b", "flags": "i", "negate": False},
        {"type": "connection", "name": "gsm", "negate": False},
        {"type": "channel", "channel": "email", "negate": False},
        {"type": "time_window", "from": "09:00", "to": "17:00", "days": [1, 2, 3, 4, 5], "timezone": "Europe/London",
         "negate": False},
    ],
    "actions": [
        {"type": "reply", "text": "Hello {sender}", "channel": "sms"},
        {"type": "send", "to": ["+447700900001", "+447700900002"], "channel": "sms", "text": "x", "subject": "s"},
        {"type": "forward", "to": "boss@example.com", "channel": "email"},
        {"type": "move", "folder": "Info"},
        {"type": "assign", "user": "ann", "group": "billing"},
        {"type": "http", "method": "POST", "url": "https://example.org/hook", "body": "{text}"},
        {"type": "http", "method": "GET", "url": "https://example.org/temp", "reply": "It is {answer}",
         "answer_field": "current.temp", "reply_failed": "No answer, {sender}"},
        {"type": "vote", "poll": "song"},
        {"type": "log", "message": "seen {sender}"},
        {"type": "set_state", "key": "k", "value": {"a": [1, "two", None]}},
        {"type": "incr_state", "key": "n", "by": 2.5},
        {"type": "stop"},
    ],
    "stop": True,
}  # fmt: skip


def _posted(rows: dict) -> dict[str, str]:
    """What a browser posts for these rows (unticked boxes are left out)."""
    form: dict[str, str] = {}
    for section, kinds in rules_form.SECTIONS.items():
        for n, row in enumerate(rows[section]):
            key = f"{section}[{n}]"
            form[f"{key}.type"] = row["type"]
            if row["negate"]:
                form[f"{key}.negate"] = "on"
            for f in kinds[row["type"]].fields:
                value = row["values"][f.name]
                if f.widget == "check":
                    if value:
                        form[f"{key}.{f.name}"] = "on"
                elif f.widget == "days":
                    form.update({f"{key}.{f.name}{d}": "on" for d in value})
                else:
                    form[f"{key}.{f.name}"] = value
    return form


def test_every_kind_of_the_model_has_a_row():
    assert set(rules_form.CONDITION_KINDS) == set(CONDITIONS)
    assert set(rules_form.ACTION_KINDS) == set(ACTIONS)
    for kinds, spec in ((rules_form.CONDITION_KINDS, CONDITIONS), (rules_form.ACTION_KINDS, ACTIONS)):
        for name, kind in kinds.items():
            assert {f.name for f in kind.fields} == set(spec[name]), name


def test_a_model_comes_back_from_the_form_unchanged():
    rows = rules_form.rows_from_form(_posted(rules_form.rows_from_model(EVERY_KIND)))
    model, errors = rules_form.model_from_rows(rows, "any", True)
    assert errors == {}
    assert model == EVERY_KIND
    validate_model(model)


def test_rows_are_renumbered_in_order_and_unknown_types_dropped():
    form = {
        "conditions[7].type": "channel",
        "conditions[7].channel": "sms",
        "conditions[2].type": "connection",
        "conditions[2].name": "gsm",
        "conditions[3].type": "no_such_kind",
        "actions[0].type": "stop",
    }
    rows = rules_form.rows_from_form(form)
    assert [r["type"] for r in rows["conditions"]] == ["connection", "channel"]
    assert [r["type"] for r in rows["actions"]] == ["stop"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("conditions[0].keyword", "conditions[0].keyword"),
        ("actions[0].to[1]", "actions[0].to"),
        ("actions[0]", "actions[0]"),
        ("actions[0].type", "actions[0]"),
        ("actions[5].text", "actions"),
        ("actions", "actions"),
        ("match", "match"),
        ("model", "_"),
    ],
)
def test_an_error_is_shown_at_the_field_its_path_names(path, expected):
    rows = {"conditions": [rules_form.blank_row("conditions", "text_contains")],
            "actions": [rules_form.blank_row("actions", "send")]}  # fmt: skip
    assert rules_form.error_key(ModelError(path, "bad"), rows) == expected
