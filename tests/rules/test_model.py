"""The rule editor's model: compiled rules run in the sandbox and do what the model says."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from msghub.rules.api import FINISH, PRELUDE, check_actions
from msghub.rules.engine import run_once
from msghub.rules.errors import RuleScriptError
from msghub.rules.model import (
    ACTIONS,
    CONDITIONS,
    MAX_ITEMS,
    PLACEHOLDER,
    ModelError,
    compile_model,
    describe_model,
    validate_model,
    zone_offsets,
)

MONDAY_NOON = "2026-11-23T12:00:00.123456+00:00"  # a Monday
CONNECTION = {"id": 3, "name": "modem-1", "kind": "gammu"}


def message(**fields: Any) -> dict[str, Any]:
    base = {
        "id": 7, "channel": "sms", "direction": "in", "sender": "+447911123456", "recipients": ["+4420"],
        "subject": None, "text": "Please STOP sending", "parts": [], "connection": CONNECTION,
        "status": "received", "created_at": MONDAY_NOON, "folder": None,
    }  # fmt: skip
    return base | fields


def event(created_at: str = MONDAY_NOON, **fields: Any) -> dict[str, Any]:
    base = {"id": 11, "type": "message_received", "created_at": created_at, "payload": {}, "connection": None}
    return base | fields


def run(model: dict[str, Any], msg: dict[str, Any] | None = None, ev: dict[str, Any] | None = None,
        *, no_message: bool = False, lookups: dict[str, Any] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The actions the compiled model gives, checked as the runner checks them."""
    run_input = {
        "event": ev or event(),
        "message": None if no_message else (msg or message()),
        "rule": {"id": 1, "name": "visual"},
        "lookups": lookups or {},
    }
    out = run_once(PRELUDE, compile_model(model), run_input, FINISH)
    assert out["needs"] == []
    return check_actions(out["actions"])


LOG = {"type": "log", "message": "hit"}
HIT = [{"type": "log", "level": "info", "message": "hit"}]


def when(*conditions: dict[str, Any], match: str = "all") -> dict[str, Any]:
    return {"match": match, "conditions": list(conditions), "actions": [LOG]}


def hits(model: dict[str, Any], msg: dict[str, Any] | None = None, **kw: Any) -> bool:
    actions = run(model, msg, **kw)
    assert actions in ([], HIT)
    return actions == HIT


# --- conditions ---


@pytest.mark.parametrize(
    ("pattern", "sender", "matches"),
    [("+4479*", "+447911123456", True), ("+4479*", "+337911", False), ("+4479*", "+4479", True),
     ("+44791112345?", "+447911123456", True), ("+44791112345?", "+4479111234567", False),
     ("*@example.com", "Bob@EXAMPLE.com", True), ("*@example.com", "bob@example.com.evil", False),
     ("a.b", "axb", False), ("(x)|[y]", "(x)|[y]", True), ("+44*", "x+44", False),
     (["+33*", "+4479*"], "+447911123456", True), (["+33*", "+34*"], "+447911123456", False)],
)  # fmt: skip
def test_sender_matches_is_a_whole_glob(pattern: Any, sender: str, matches: bool) -> None:
    assert hits(when({"type": "sender_matches", "pattern": pattern}), message(sender=sender)) is matches


@pytest.mark.parametrize(
    ("text", "contains", "starts"),
    [("Please STOP sending", True, False), ("stop", True, True), ("Stöp!", True, True), ("STOP ALL", True, True),
     ("stopping", False, False), ("non-stop", True, False), ("", False, False)],
)  # fmt: skip
def test_keyword_conditions_ignore_case_accents_and_noise(text: str, contains: bool, starts: bool) -> None:
    msg = message(text=text)
    assert hits(when({"type": "text_contains", "keyword": "stop"}), msg) is contains
    assert hits(when({"type": "text_starts_with", "keyword": "STOP"}), msg) is starts


def test_multi_word_keywords() -> None:
    assert hits(when({"type": "text_contains", "keyword": "stop all"}), message(text="please, stop-all now"))
    assert not hits(when({"type": "text_starts_with", "keyword": "stop all"}), message(text="please stop all"))


def test_text_matches_is_a_javascript_regex() -> None:
    rx = {"type": "text_matches", "pattern": r"^order #(\d+)$"}
    assert hits(when(rx), message(text="order #123"))
    assert not hits(when(rx), message(text="Order #123"))
    assert hits(when(rx | {"flags": "i"}), message(text="Order #123"))
    # JavaScript syntax Python's re would refuse: [^] is any character.
    assert hits(when({"type": "text_matches", "pattern": "a[^]b"}), message(text="a\nb"))


def test_connection_is_the_messages_or_else_the_events() -> None:
    cond = when({"type": "connection", "name": "modem-1"})
    assert hits(cond)
    assert not hits(cond, message(connection={"id": 4, "name": "modem-2", "kind": "gammu"}))
    assert not hits(cond, message(connection=None))
    assert hits(cond, no_message=True, ev=event(type="connection_down", connection=CONNECTION))
    assert not hits(cond, no_message=True)


def test_channel() -> None:
    assert hits(when({"type": "channel", "channel": "sms"}))
    assert not hits(when({"type": "channel", "channel": "email"}))
    assert hits(when({"type": "channel", "channel": "email"}), message(channel="email"))


def test_every_condition_type_is_tested_here() -> None:
    assert set(CONDITIONS) == {
        "sender_matches", "text_contains", "text_starts_with", "text_matches", "connection", "channel", "time_window",
    }  # fmt: skip


def test_negate_turns_each_condition_around() -> None:
    cases = [
        {"type": "sender_matches", "pattern": "+4479*"},
        {"type": "text_contains", "keyword": "stop"},
        {"type": "text_starts_with", "keyword": "please"},
        {"type": "text_matches", "pattern": "STOP"},
        {"type": "connection", "name": "modem-1"},
        {"type": "channel", "channel": "sms"},
        {"type": "time_window", "from": "11:00", "to": "13:00"},
    ]
    for cond in cases:
        assert hits(when(cond)), cond
        assert not hits(when(cond | {"negate": True})), cond
        assert hits(when(cond | {"negate": False})), cond


def test_message_conditions_are_false_without_a_message() -> None:
    for cond in [{"type": "sender_matches", "pattern": "*"}, {"type": "text_contains", "keyword": "x"},
                 {"type": "text_starts_with", "keyword": "x"}, {"type": "text_matches", "pattern": "^"},
                 {"type": "channel", "channel": "sms"}]:  # fmt: skip
        assert not hits(when(cond), no_message=True), cond
        assert hits(when(cond | {"negate": True}), no_message=True), cond


def test_match_all_and_any() -> None:
    yes = {"type": "channel", "channel": "sms"}
    no = {"type": "channel", "channel": "mms"}
    assert hits(when(yes, yes)) and not hits(when(yes, no)) and not hits(when(no, no))
    assert hits(when(yes, no, match="any")) and hits(when(no, yes, match="any")) and not hits(when(no, no, match="any"))


def test_no_conditions_always_match() -> None:
    assert hits(when()) and hits(when(match="any")) and hits(when(), no_message=True)
    assert run({"actions": [LOG]}) == HIT


# --- time windows ---


def at(time: str, day: str = "2026-11-23") -> dict[str, Any]:
    """An event created at `time` (UTC) on `day` (2026-11-23 is a Monday)."""
    return event(f"{day}T{time}:00+00:00")


@pytest.mark.parametrize(
    ("time", "inside"),
    [("08:59", False), ("09:00", True), ("12:30", True), ("16:59", True), ("17:00", False), ("23:00", False)],
)
def test_time_window_includes_from_and_excludes_to(time: str, inside: bool) -> None:
    assert hits(when({"type": "time_window", "from": "09:00", "to": "17:00"}), ev=at(time)) is inside


@pytest.mark.parametrize(
    ("time", "inside"),
    [("21:59", False), ("22:00", True), ("23:59", True), ("00:00", True), ("05:59", True), ("06:00", False),
     ("12:00", False)],
)  # fmt: skip
def test_time_window_across_midnight(time: str, inside: bool) -> None:
    assert hits(when({"type": "time_window", "from": "22:00", "to": "06:00"}), ev=at(time)) is inside


def test_days_name_the_day_the_window_begins() -> None:
    friday_night = {"type": "time_window", "from": "22:00", "to": "06:00", "days": [5]}
    assert hits(when(friday_night), ev=at("23:00", "2026-11-27"))  # Friday
    assert hits(when(friday_night), ev=at("03:00", "2026-11-28"))  # Saturday morning: began Friday
    assert not hits(when(friday_night), ev=at("03:00", "2026-11-27"))  # Friday morning: began Thursday
    assert not hits(when(friday_night), ev=at("23:00", "2026-11-28"))
    sunday_night = {"type": "time_window", "from": "22:00", "to": "06:00", "days": [7]}
    assert hits(when(sunday_night), ev=at("01:00", "2026-11-23"))  # Monday 01:00 began on Sunday
    weekend = {"type": "time_window", "from": "00:00", "to": "00:00", "days": [6, 7]}
    assert hits(when(weekend), ev=at("00:00", "2026-11-28")) and hits(when(weekend), ev=at("23:59", "2026-11-29"))
    assert not hits(when(weekend), ev=at("12:00", "2026-11-27")) and not hits(when(weekend), ev=at("00:00"))


def test_time_window_in_a_time_zone_follows_summer_time() -> None:
    office = {"type": "time_window", "from": "09:00", "to": "17:00", "timezone": "Europe/London"}
    assert hits(when(office), ev=at("08:30", "2026-07-01"))  # 09:30 BST
    assert not hits(when(office), ev=at("16:30", "2026-07-01"))  # 17:30 BST
    assert not hits(when(office), ev=at("08:30", "2026-12-01"))  # 08:30 GMT
    assert hits(when(office), ev=at("16:30", "2026-12-01"))
    # The clocks go forward at 01:00 UTC on 2026-03-29.
    early = {"type": "time_window", "from": "01:30", "to": "02:30", "timezone": "Europe/London"}
    assert hits(when(early), ev=at("01:45", "2026-03-28")) and not hits(when(early), ev=at("01:45", "2026-03-29"))
    assert hits(when(early), ev=at("00:45", "2026-03-30"))
    tokyo_monday = {"type": "time_window", "from": "08:00", "to": "09:00", "days": [2], "timezone": "Asia/Tokyo"}
    assert hits(when(tokyo_monday), ev=at("23:30", "2026-11-23"))  # Tuesday 08:30 in Tokyo


def test_event_time_offsets_are_honoured() -> None:
    window = when({"type": "time_window", "from": "09:00", "to": "10:00"})
    assert hits(window, ev=event("2026-11-23T11:30:00+02:00"))
    assert hits(window, ev=event("2026-11-23T04:30-0500"))
    assert hits(window, ev=event("2026-11-23T09:30:00Z"))
    assert hits(window, ev=event("2026-11-23 09:30:00.5"))
    assert not hits(window, ev=event("2026-11-23T09:30:00+01:00"))


def test_event_without_a_time_is_an_error_not_a_silent_miss() -> None:
    with pytest.raises(RuleScriptError, match=r"event.created_at is not a time: \"yesterday\""):
        run(when({"type": "time_window", "from": "09:00", "to": "10:00"}), ev=event("yesterday"))


def test_zone_offsets_list_each_change() -> None:
    london = dict(zone_offsets("Europe/London"))
    assert london[int(datetime(2026, 3, 29, 1, tzinfo=UTC).timestamp())] == 3600
    assert london[int(datetime(2026, 10, 25, 1, tzinfo=UTC).timestamp())] == 0
    assert zone_offsets("Asia/Kolkata") == ((946684800, 19800),)


# --- actions ---

ALL_ACTIONS: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
    ({"type": "reply", "text": "Bye"}, [{"type": "reply", "text": "Bye"}]),
    ({"type": "reply", "text": "Bye", "channel": "email"}, [{"type": "reply", "text": "Bye", "channel": "email"}]),
    ({"type": "send", "to": "+4420", "channel": "sms", "text": "New message"},
     [{"type": "send", "to": "+4420", "channel": "sms", "text": "New message"}]),
    ({"type": "send", "to": ["a@x.org", "b@x.org"], "channel": "email", "text": "T", "subject": "S"},
     [{"type": "send", "to": ["a@x.org", "b@x.org"], "channel": "email", "text": "T", "subject": "S"}]),
    ({"type": "forward", "to": "+4420"},
     [{"type": "send", "to": "+4420", "channel": "sms", "text": "Please STOP sending"}]),
    ({"type": "forward", "to": "a@x.org", "channel": "email"},
     [{"type": "send", "to": "a@x.org", "channel": "email", "text": "Please STOP sending", "subject": "Fwd: "}]),
    ({"type": "move", "folder": "Unsubscribed"}, [{"type": "move", "folder": "Unsubscribed"}]),
    ({"type": "assign", "user": "alice"}, [{"type": "assign", "user": "alice"}]),
    ({"type": "assign", "group": "support"}, [{"type": "assign", "group": "support"}]),
    ({"type": "assign", "user": "alice", "group": "support"},
     [{"type": "assign", "user": "alice", "group": "support"}]),
    ({"type": "http", "method": "POST", "url": "https://example.com/hook", "body": "{text}"},
     [{"type": "http", "method": "POST", "url": "https://example.com/hook", "body": "Please STOP sending"}]),
    ({"type": "http", "method": "GET", "url": "http://example.com/"},
     [{"type": "http", "method": "GET", "url": "http://example.com/"}]),
    ({"type": "vote", "poll": "colour"}, [{"type": "poll.vote", "poll": "colour"}]),
    ({"type": "log", "message": "seen"}, [{"type": "log", "level": "info", "message": "seen"}]),
    ({"type": "set_state", "key": "last", "value": {"n": [1, "x", None, True]}},
     [{"type": "state.set", "key": "last", "value": {"n": [1, "x", None, True]}}]),
    ({"type": "incr_state", "key": "count"}, [{"type": "state.incr", "key": "count", "by": 1}]),
    ({"type": "incr_state", "key": "count", "by": -2.5}, [{"type": "state.incr", "key": "count", "by": -2.5}]),
    ({"type": "stop"}, [{"type": "stop"}]),
]  # fmt: skip


@pytest.mark.parametrize(("action", "expected"), ALL_ACTIONS)
def test_each_action(action: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    lookups = {'state.get {"key":"count"}': 4}
    assert run({"actions": [action]}, lookups=lookups) == expected


def test_every_action_type_is_tested_here() -> None:
    assert {a["type"] for a, _ in ALL_ACTIONS} == set(ACTIONS)


def test_actions_run_in_order_and_stop_comes_last() -> None:
    model = {"conditions": [], "actions": [{"type": "move", "folder": "A"}, {"type": "log", "message": "b"}],
             "stop": True}  # fmt: skip
    assert run(model) == [{"type": "move", "folder": "A"}, {"type": "log", "level": "info", "message": "b"},
                          {"type": "stop"}]  # fmt: skip


def test_not_matching_means_no_actions_at_all() -> None:
    model = {
        "conditions": [{"type": "channel", "channel": "mms"}],
        "actions": [a for a, _ in ALL_ACTIONS],
        "stop": True,
    }
    assert run(model) == []


def test_message_actions_are_skipped_without_a_message() -> None:
    model = {"actions": [a for a, _ in ALL_ACTIONS if a["type"] not in ("incr_state",)]}
    kinds = [a["type"] for a in run(model, no_message=True)]
    assert kinds == ["send", "send", "http", "http", "log", "state.set", "stop"]


def test_forward_of_a_message_without_text_is_skipped() -> None:
    assert run({"actions": [{"type": "forward", "to": "+4420"}]}, message(text="")) == []
    email = message(channel="email", subject="Hi", text="Body")
    assert run({"actions": [{"type": "forward", "to": "a@x.org"}]}, email) == [
        {"type": "send", "to": "a@x.org", "channel": "email", "text": "Body", "subject": "Fwd: Hi"}
    ]


# --- placeholders ---


def test_placeholders() -> None:
    model = {"actions": [
        {"type": "reply", "text": "Hi {sender}, you said {text} ({subject}) via {connection}."},
        {"type": "send", "to": "+4420", "channel": "email", "text": "{text}", "subject": "From {sender}"},
        {"type": "log", "message": "{sender}{sender}"},
    ]}  # fmt: skip
    msg = message(text="yes", subject=None)
    assert run(model, msg) == [
        {"type": "reply", "text": "Hi +447911123456, you said yes () via modem-1."},
        {"type": "send", "to": "+4420", "channel": "email", "text": "yes", "subject": "From +447911123456"},
        {"type": "log", "level": "info", "message": "+447911123456+447911123456"},
    ]
    no_message = run({"actions": [{"type": "log", "message": "[{sender}|{text}|{connection}]"}]},
                     no_message=True, ev=event(connection=CONNECTION))  # fmt: skip
    assert no_message == [{"type": "log", "level": "info", "message": "[||modem-1]"}]


def test_braces_that_are_no_placeholder_stay_text() -> None:
    text = "{ sender } {} {{ {1} }"
    assert run({"actions": [{"type": "log", "message": text}]})[0]["message"] == text


def test_placeholder_values_are_data_not_code() -> None:
    hostile = message(sender="'+__vm_say(1)+'", text='${1+1} " + stop() + "', subject="</script>")
    model = {"actions": [{"type": "log", "message": "{sender}|{text}|{subject}"}]}
    assert run(model, hostile)[0]["message"] == "'+__vm_say(1)+'|${1+1} \" + stop() + \"|</script>"


# --- hostile model values ---

HOSTILE = [
    '"); fetch("http://evil/',
    "'); stop(); ('",
    "</script><script>alert(1)</script>",
    "a\u2028b\u2029c",
    "back\\slash\\",
    "`${stop()}`",
    "*/ stop(); /*",
    "// stop()\nstop()",
    "\x00nul",
    "lone \ud800 surrogate",
    "}); stop(); (function(){",
    "&lt;&amp;",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_literal(value: str) -> None:
    keyword = value + " stop"
    model = {
        "conditions": [
            {"type": "text_contains", "keyword": keyword},
            {"type": "connection", "name": value, "negate": True},
            {"type": "sender_matches", "pattern": [value, "*"]},
        ],
        "actions": [
            {"type": "reply", "text": value},
            {"type": "send", "to": value, "channel": "sms", "text": value, "subject": value},
            {"type": "move", "folder": value},
            {"type": "assign", "user": value, "group": value},
            {"type": "http", "method": "POST", "url": "https://x/" + value, "body": value},
            {"type": "vote", "poll": value},
            {"type": "log", "message": value},
            {"type": "set_state", "key": value, "value": {value: [value]}},
        ],
    }
    source = compile_model(model)
    assert source.isascii()
    assert "</" not in source and "\u2028" not in source
    assert run(model, message(text=keyword)) == [
        {"type": "reply", "text": value},
        {"type": "send", "to": value, "channel": "sms", "text": value, "subject": value},
        {"type": "move", "folder": value},
        {"type": "assign", "user": value, "group": value},
        {"type": "http", "method": "POST", "url": "https://x/" + value, "body": value},
        {"type": "poll.vote", "poll": value},
        {"type": "log", "level": "info", "message": value},
        {"type": "state.set", "key": value, "value": {value: [value]}},
    ]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_regex_and_glob_match_literally(value: str) -> None:
    escaped = "".join("\\" + c if c in "^$\\.*+?()[]{}|/" else c for c in value)
    assert hits(when({"type": "text_matches", "pattern": "^" + escaped + "$"}), message(text=value))
    glob = value.replace("*", "?")
    assert hits(when({"type": "sender_matches", "pattern": glob}), message(sender=value))
    assert not hits(when({"type": "sender_matches", "pattern": glob}), message(sender=value + "x"))


def as_stored(text: str) -> str:
    """The text as hub.rules.model (JSON) gives it back: JSON, like JavaScript,
    reads two escaped halves of a surrogate pair as one character."""
    return str(json.loads(json.dumps(text)))


# Any character, and often one that ends strings, comments or script tags.
BREAKERS = "\ud800\udfff\u2028\u2029\"'`\\</*${}\n\x00"
# A list, not st.text: st.text merges the alphabets and loses the weighting.
any_char = st.one_of(st.characters(exclude_categories=()), st.sampled_from(list(BREAKERS)))
any_text = st.lists(any_char, min_size=1, max_size=40).map("".join).map(as_stored)


@settings(max_examples=150, deadline=None)
@given(any_text, any_text)
def test_any_text_survives_compiling(text: str, other: str) -> None:
    assume(text.strip() and other.strip())
    assume(not PLACEHOLDER.search(text))  # placeholders have their own test
    model = {"actions": [
        {"type": "reply", "text": text},
        {"type": "move", "folder": other},
        {"type": "set_state", "key": other, "value": [text, {other: text}]},
    ]}  # fmt: skip
    assert compile_model(model).isascii()
    assert run(model) == [
        {"type": "reply", "text": text},
        {"type": "move", "folder": other},
        {"type": "state.set", "key": other, "value": [text, {other: text}]},
    ]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(any_text, st.sampled_from(["{sender}", "{text}", "{subject}", "{connection}"])),
                min_size=1, max_size=6))  # fmt: skip
def test_any_template_gives_its_text_with_values_put_in(pieces: list[str]) -> None:
    template = as_stored("".join(pieces))
    assume(template.strip())
    try:
        validate_model({"actions": [{"type": "log", "message": template}]})
    except ModelError:
        assume(False)  # an unknown {word} made up of generated pieces
    values = {"{sender}": "S", "{text}": "T", "{subject}": "J", "{connection}": "modem-1"}
    expected = template
    out = run({"actions": [{"type": "log", "message": template}]}, message(text="T", subject="J", sender="S"))
    for placeholder, value in values.items():
        expected = expected.replace(placeholder, value)
    assert out == [{"type": "log", "level": "info", "message": expected}]


# --- validation ---

OK_ACTION = {"type": "log", "message": "x"}


def with_condition(cond: Any) -> dict[str, Any]:
    return {"conditions": [{"type": "channel", "channel": "sms"}, cond], "actions": [OK_ACTION]}


def with_action(action: Any) -> dict[str, Any]:
    return {"actions": [OK_ACTION, action]}


MODEL_ERRORS: list[tuple[Any, str]] = [
    ([], "model: must be an object, not a list"),
    (None, "model: must be an object, not null"),
    ({}, "actions: missing"),
    ({"actions": []}, "actions: add at least one action"),
    ({"actions": {}}, "actions: must be a list of actions"),
    ({"actions": [OK_ACTION] * (MAX_ITEMS + 1)}, f"actions: has more than {MAX_ITEMS} actions"),
    ({"actions": [OK_ACTION], "colour": "red"},
     "colour: unknown field (known: actions, conditions, match, stop, version)"),
    ({"actions": [OK_ACTION], "match": "some"}, "match: unknown match 'some' (known: all, any)"),
    ({"actions": [OK_ACTION], "stop": "yes"}, "stop: must be true or false"),
    ({"actions": [OK_ACTION], "version": 2}, "version: must be 1, the only version so far"),
    ({"actions": [OK_ACTION], "version": True}, "version: must be 1, the only version so far"),
    ({"actions": [OK_ACTION], "conditions": "x"}, "conditions: must be a list of conditions"),
    (with_condition("sms"), "conditions[1]: must be an object with a type, not text"),
    (with_condition({}), "conditions[1].type: missing (known: channel, connection, sender_matches, text_contains, "
                          "text_matches, text_starts_with, time_window)"),
    (with_condition({"type": "sender"}), "conditions[1]: unknown condition 'sender' (known: channel, connection, "
                                         "sender_matches, text_contains, text_matches, text_starts_with, time_window)"),
    (with_condition({"type": 3}), "conditions[1]: unknown condition a number (known: channel, connection, "
                                  "sender_matches, text_contains, text_matches, text_starts_with, time_window)"),
    (with_condition({"type": "channel", "channel": "fax"}), "conditions[1].channel: unknown channel 'fax' "
                                                            "(known: email, mms, sms)"),
    (with_condition({"type": "channel"}), "conditions[1].channel: missing"),
    (with_condition({"type": "channel", "channel": "sms", "negate": 1}), "conditions[1].negate: must be true or false"),
    (with_condition({"type": "channel", "channel": "sms", "keyword": "x"}),
     "conditions[1].keyword: unknown field (known: channel, negate, type)"),
    (with_condition({"type": "connection", "name": ""}), "conditions[1].name: must not be empty"),
    (with_condition({"type": "connection", "name": 5}), "conditions[1].name: must be text"),
    (with_condition({"type": "sender_matches", "pattern": []}),
     "conditions[1].pattern: must be a pattern or a list of them"),
    (with_condition({"type": "sender_matches", "pattern": ["+44*", " "]}),
     "conditions[1].pattern[1]: must not be empty"),
    (with_condition({"type": "sender_matches", "pattern": ["+44*"] * (MAX_ITEMS + 1)}),
     f"conditions[1].pattern: has more than {MAX_ITEMS} entries"),
    (with_condition({"type": "text_contains", "keyword": "?!"}),
     "conditions[1].keyword: has no letters or digits to match"),
    (with_condition({"type": "text_starts_with", "keyword": None}), "conditions[1].keyword: must be text"),
    (with_condition({"type": "text_matches", "pattern": "(unclosed"}),
     "conditions[1].pattern: not a valid regular expression (SyntaxError: expecting ')')"),
    (with_condition({"type": "text_matches", "pattern": "a**"}),
     "conditions[1].pattern: not a valid regular expression (SyntaxError: nothing to repeat)"),
    (with_condition({"type": "text_matches", "pattern": "x", "flags": "g"}),
     "conditions[1].flags: must be '' or 'i' (ignore case)"),
    (with_condition({"type": "time_window", "from": "9:00", "to": "17:00"}),
     "conditions[1].from: must be a time as HH:MM, from 00:00 to 23:59"),
    (with_condition({"type": "time_window", "from": "09:00", "to": "24:00"}),
     "conditions[1].to: must be a time as HH:MM, from 00:00 to 23:59"),
    (with_condition({"type": "time_window", "from": "09:00"}), "conditions[1].to: missing"),
    (with_condition({"type": "time_window", "from": "09:00", "to": "10:00", "days": []}),
     "conditions[1].days: must be a list of weekdays, 1 (Monday) to 7 (Sunday)"),
    (with_condition({"type": "time_window", "from": "09:00", "to": "10:00", "days": [0]}),
     "conditions[1].days: must be a list of weekdays, 1 (Monday) to 7 (Sunday)"),
    (with_condition({"type": "time_window", "from": "09:00", "to": "10:00", "days": [True]}),
     "conditions[1].days: must be a list of weekdays, 1 (Monday) to 7 (Sunday)"),
    (with_condition({"type": "time_window", "from": "09:00", "to": "10:00", "timezone": "Europe/Londn"}),
     "conditions[1].timezone: unknown time zone 'Europe/Londn'"),
    (with_condition({"type": "time_window", "from": "09:00", "to": "10:00", "timezone": "../etc/passwd"}),
     "conditions[1].timezone: unknown time zone '../etc/passwd'"),
    (with_action({"type": "replay", "text": "x"}),
     "actions[1]: unknown action 'replay' (known: assign, forward, http, incr_state, log, move, reply, send, "
     "set_state, stop, vote)"),
    (with_action(["reply"]), "actions[1]: must be an object with a type, not a list"),
    (with_action({"type": "reply"}), "actions[1].text: missing"),
    (with_action({"type": "reply", "text": "Hi {name}"}),
     "actions[1].text: unknown placeholder {name} (known: {connection}, {sender}, {subject}, {text})"),
    (with_action({"type": "reply", "text": "x" * 10_001}), "actions[1].text: is longer than 10000 characters"),
    (with_action({"type": "reply", "text": "x", "channel": "fax"}),
     "actions[1].channel: unknown channel 'fax' (known: email, mms, sms)"),
    (with_action({"type": "send", "to": "+44", "text": "x"}), "actions[1].channel: missing"),
    (with_action({"type": "send", "to": [], "channel": "sms", "text": "x"}),
     "actions[1].to: must be an address or a list of them"),
    (with_action({"type": "send", "to": ["+44", 4], "channel": "sms", "text": "x"}), "actions[1].to[1]: must be text"),
    (with_action({"type": "send", "to": "+44", "channel": "sms", "text": "x", "subject": "{x}"}),
     "actions[1].subject: unknown placeholder {x} (known: {connection}, {sender}, {subject}, {text})"),
    (with_action({"type": "forward"}), "actions[1].to: missing"),
    (with_action({"type": "move", "folder": "  "}), "actions[1].folder: must not be empty"),
    (with_action({"type": "assign"}), "actions[1]: name a user or a group to assign to"),
    (with_action({"type": "http", "method": "FETCH", "url": "https://x"}),
     "actions[1].method: unknown method 'FETCH' (known: DELETE, GET, PATCH, POST, PUT)"),
    (with_action({"type": "http", "method": "GET", "url": "javascript:stop()"}),
     "actions[1].url: must start with http:// or https:// and a host"),
    (with_action({"type": "http", "method": "GET", "url": "https://x", "headers": {}}),
     "actions[1].headers: unknown field (known: answer_field, body, method, reply, reply_failed, type, url)"),
    (with_action({"type": "vote"}), "actions[1].poll: missing"),
    (with_action({"type": "log", "message": ["x"]}), "actions[1].message: must be text"),
    (with_action({"type": "set_state", "key": "k"}), "actions[1].value: missing"),
    (with_action({"type": "set_state", "key": "k", "value": float("nan")}), "actions[1].value: must be a JSON value"),
    (with_action({"type": "incr_state", "key": "k", "by": "2"}), "actions[1].by: must be a number"),
    (with_action({"type": "incr_state", "key": "k", "by": True}), "actions[1].by: must be a number"),
    (with_action({"type": "incr_state", "key": "k", "by": float("inf")}), "actions[1].by: must be a number"),
    (with_action({"type": "stop", "now": True}), "actions[1].now: unknown field (known: type)"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "error"), MODEL_ERRORS)
def test_model_errors_name_the_bad_field(model: Any, error: str) -> None:
    with pytest.raises(ModelError) as caught:
        compile_model(model)
    assert str(caught.value) == error
    assert error.startswith(caught.value.path + ": ")
    with pytest.raises(ModelError):
        validate_model(model)
    with pytest.raises(ModelError):
        describe_model(model)


def test_validate_fills_in_defaults() -> None:
    assert validate_model({"version": 1, "actions": [{"type": "stop"}]}) == {
        "match": "all", "conditions": [], "actions": [{"type": "stop"}], "stop": False,
    }  # fmt: skip
    cond = validate_model(with_condition({"type": "text_matches", "pattern": "x"}))["conditions"][1]
    assert cond == {"type": "text_matches", "pattern": "x", "flags": "", "negate": False}


# --- describing ---


@pytest.mark.parametrize(
    ("model", "line"),
    [
        ({"conditions": [{"type": "text_contains", "keyword": "stop"}, {"type": "channel", "channel": "sms"}],
          "actions": [{"type": "reply", "text": "Bye"}, {"type": "move", "folder": "Unsubscribed"}]},
         "When text contains 'stop' and channel is sms: reply 'Bye'; move to 'Unsubscribed'"),
        ({"match": "any", "conditions": [{"type": "sender_matches", "pattern": ["+33*", "+34*"], "negate": True},
                                         {"type": "text_starts_with", "keyword": "vote", "negate": True}],
          "actions": [{"type": "vote", "poll": "colour"}], "stop": True},
         "When sender matches none of '+33*', '+34*' or text does not start with 'vote': "
         "vote in poll 'colour'; stop"),
        ({"conditions": [{"type": "time_window", "from": "22:00", "to": "06:00", "days": [6, 7],
                          "timezone": "Europe/London"},
                         {"type": "text_matches", "pattern": "^\\d+$", "flags": "i", "negate": True},
                         {"type": "connection", "name": "modem-1", "negate": True}],
          "actions": [{"type": "send", "to": ["+44", "+33"], "channel": "sms", "text": "From {sender}: {text}"},
                      {"type": "forward", "to": "a@x.org", "channel": "email"},
                      {"type": "assign", "user": "alice", "group": "support"},
                      {"type": "http", "method": "POST", "url": "https://x/hook"},
                      {"type": "log", "message": "a\nvery long message that goes on and on and on"},
                      {"type": "set_state", "key": "last", "value": {"n": 1}},
                      {"type": "incr_state", "key": "count", "by": 2}, {"type": "stop"}]},
         "When time is between 22:00 and 06:00 on Sat, Sun (Europe/London) and text does not match /^\\d+$/i "
         "and connection is not 'modem-1': send 'From {sender}: {text}' to +44, +33 by sms; "
         "forward to a@x.org by email; assign to user 'alice' and group 'support'; POST https://x/hook; "
         "log 'a very long message that goes on and on…'; set 'last' to '{\"n\": 1}'; add 2 to 'count'; stop"),
        ({"actions": [{"type": "reply", "text": "Hi", "channel": "email"}]}, "Always: reply 'Hi' by email"),
    ],
)  # fmt: skip
def test_describe_model(model: dict[str, Any], line: str) -> None:
    assert describe_model(model) == line
