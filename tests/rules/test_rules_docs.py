"""docs/RULES.md cannot fall behind the rule API.

Every name the prelude lists in __API has a section with an example; every
```js block on the page runs as a rule in the real sandbox (worker process,
lookups answered by replay as the runner does) and produces actions that
pass check_actions. A block runs for an SMS message_received event with the
text "hello" unless its first lines say otherwise:

    // event: http_response      another event type (a sample of it is built here)
    // text: JOIN Ann Smith      the message's text
    // channel: email            an e-mail instead of an SMS
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from msghub.rules.api import ACTION_FIELDS, RunResult, api_names, check_actions, run_rule
from msghub.rules.events import EVENT_TYPES
from msghub.rules.pool import SandboxPool
from msghub.rules.runner import event_for_rules, message_for_rules
from msghub.rules.testing import EXPECTED_KEYS, check_test, run_test

RULES_MD = Path(__file__).resolve().parents[2] / "docs" / "RULES.md"

RULE = {"id": 3, "name": "docs-example"}
WHEN = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)

# What an API function records, so its example can be seen to record it:
# name -> (action type, log level or None).
ACTION_OF: dict[str, tuple[str, str | None]] = {
    "reply": ("reply", None),
    "send": ("send", None),
    "move": ("move", None),
    "assign": ("assign", None),
    "stop": ("stop", None),
    "contacts.create": ("contact.create", None),
    "lists.add": ("list.add", None),
    "http.request": ("http", None),
    "sql.insert": ("sql.insert", None),
    "state.set": ("state.set", None),
    "state.incr": ("state.incr", None),
    "state.add": ("state.add", None),
    "state.delete": ("state.delete", None),
    "log.info": ("log", "info"),
    "log.warn": ("log", "warn"),
    "log.error": ("log", "error"),
    "console.log": ("log", "info"),
    "poll.vote": ("poll.vote", None),
}

# Functions that take an object of fields: each field is named in their section.
FIELDS_OF = {
    "reply": "reply",
    "send": "send",
    "assign": "assign",
    "contacts.create": "contact.create",
    "http.request": "http",
}

LOOKUP_ANSWERS: dict[str, Any] = {"state.get": None, "contacts.find": [], "lists.members": []}


# --- reading the page ---------------------------------------------------------


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    body: str  # from the heading to the next heading of the same or a higher level


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    source: str


def _text() -> str:
    return RULES_MD.read_text(encoding="utf-8")


def sections(text: str) -> list[Section]:
    lines = text.splitlines()
    headings: list[tuple[int, int, str]] = []  # line index, level, title
    in_fence = False
    for n, line in enumerate(lines):
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        m = re.match(r"(#{1,6})\s+(.*)$", line)
        if m and not in_fence:
            headings.append((n, len(m.group(1)), m.group(2).strip()))
    out = []
    for i, (start, level, title) in enumerate(headings):
        end = next((s for s, lv, _ in headings[i + 1 :] if lv <= level), len(lines))
        out.append(Section(level, title, "\n".join(lines[start:end])))
    return out


def blocks(text: str, lang: str) -> list[Block]:
    pattern = re.compile(rf"^```{lang}\n(.*?)^```[ \t]*$", re.M | re.S)
    return [Block(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in pattern.finditer(text)]


def heading_names(name: str) -> re.Pattern[str]:
    """`name` at the start of a backtick span, as itself or called: `reply(content)`."""
    return re.compile(r"`" + re.escape(name) + r"(?:`|\()")


def sections_of(name: str, all_sections: list[Section]) -> list[Section]:
    pattern = heading_names(name)
    return [s for s in all_sections if pattern.search(s.title)]


def section_titled(title: str, all_sections: list[Section]) -> Section:
    found = [s for s in all_sections if s.title == title]
    assert len(found) == 1, f"RULES.md needs one section titled {title!r}"
    return found[0]


def markers(source: str) -> dict[str, str]:
    """The `// key: value` lines a block starts with."""
    out = {}
    for line in source.splitlines():
        m = re.match(r"//\s*(event|text|channel):\s?(.*)$", line.strip())
        if not m:
            break
        out[m.group(1)] = m.group(2).strip()
    return out


# --- the sample input ---------------------------------------------------------


def _message_row(**changes: Any) -> dict[str, Any]:
    row = {
        "id": 42,
        "channel": "sms",
        "direction": "in",
        "sender": "+447700900001",
        "recipients": ["+447700900100"],
        "subject": None,
        "body": "hello",
        "parts": [],
        "status": "received",
        "created_at": WHEN,
        "status_at": WHEN,
        "folder": None,
        "connection_id": 1,
        "connection_name": "gsm",
        "connection_kind": "loopback",
        "failure_code": None,
        "failure_reason": None,
        "correlation_id": None,
        "segments": 1,
    }
    row.update(changes)
    return row


_OUT = {
    "direction": "out",
    "sender": "+447700900100",
    "recipients": ["+447700900001"],
    "body": "Your order is ready.",
    "correlation_id": "order-7",
}

# event type -> (message row changes, or None for no message; payload)
_SAMPLES: dict[str, tuple[dict[str, Any] | None, dict[str, Any]]] = {
    "message_received": ({}, {}),
    "message_sent": ({**_OUT, "status": "sent"}, {}),
    "message_failed": (
        {**_OUT, "status": "failed", "failure_code": "rejected", "failure_reason": "unknown subscriber"},
        {"failure_code": "rejected", "failure_reason": "unknown subscriber"},
    ),
    "delivery_report": (
        {**_OUT, "status": "failed", "failure_code": "undelivered", "failure_reason": "absent subscriber"},
        {"status": "failed", "reason": "absent subscriber", "operator_ref": "op-123"},
    ),
    "connection_up": (None, {"error": None, "previous": "down"}),
    "connection_down": (None, {"error": "no answer to keep-alive", "previous": "up"}),
    "data_imported": (
        None,
        {
            "import_id": 7,
            "topic": "orders",
            "row": {"order": 1001, "name": "Jane", "phone": "+447700900123", "status": "shipped"},
        },
    ),
    "schedule": (None, {"schedule": "daily-report", "due_at": "2026-11-26T08:00:00+00:00"}),
    "quota_warning": (None, {"quota": "sales monthly", "quota_id": 3, "unit": "money", "currency": "EUR",
                             "limit": 500, "used": 402.5, "percent": 80, "period": "month",
                             "period_start": "2026-11-01", "user_id": None, "group_id": 2}),
    # the answer's event carries the message of the event that asked
    "http_response": (
        {},
        {
            "request_id": 5,
            "rule_id": RULE["id"],
            "method": "GET",
            "url": "https://api.example.org/weather?city=Oslo",
            "context": {"sender": "+447700900001", "city": "Oslo"},
            "response": {
                "status": 200,
                "headers": {"content-type": "application/json"},
                "body": '{"temp": 3}',
                "json": {"temp": 3},
                "truncated": False,
                "error": None,
                "elapsed_ms": 84,
            },
        },
    ),
}

_EMAIL = {
    "channel": "email",
    "sender": "ann@example.org",
    "recipients": ["orders@example.org"],
    "subject": "Order 7",
    "connection_name": "mail",
    "segments": None,
}


def sample_input(source: str) -> dict[str, Any]:
    """The rule input for a block: its event (and message), as the runner builds them."""
    given = markers(source)
    kind = given.get("event", "message_received")
    assert kind in _SAMPLES, f"no sample for event type {kind!r}"
    changes, payload = _SAMPLES[kind]
    message = None
    if changes is not None:
        row = _message_row(**changes)
        if given.get("channel") == "email":
            row.update(_EMAIL)
        if "text" in given:
            row["body"] = given["text"]
        message = message_for_rules(row)
    with_connection = kind not in ("data_imported", "schedule", "http_response", "quota_warning")
    event = event_for_rules(
        {
            "id": 1001,
            "type": kind,
            "created_at": WHEN,
            "payload": payload,
            "connection_id": 1 if with_connection else None,
            "connection_name": "gsm",
            "connection_kind": "loopback",
        }
    )
    return json.loads(json.dumps({"event": event, "message": message, "rule": RULE}))


# --- running blocks -----------------------------------------------------------


async def _answer(kind: str, args: dict[str, Any]) -> Any:
    assert kind in LOOKUP_ANSWERS, f"unknown lookup {kind} {args}"
    return LOOKUP_ANSWERS[kind]


class Sandbox:
    """One worker process and the event loop it belongs to; runs are remembered."""

    def __init__(self, runner: asyncio.Runner, pool: SandboxPool) -> None:
        self.runner, self.pool = runner, pool
        self._runs: dict[str, RunResult] = {}

    def run(self, source: str) -> RunResult:
        if source not in self._runs:
            self._runs[source] = self.runner.run(run_rule(self.pool, source, sample_input(source), _answer))
        return self._runs[source]

    def run_test(self, rule: Mapping[str, Any], test: Mapping[str, Any]) -> Any:
        return self.runner.run(run_test(self.pool, rule, test))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with asyncio.Runner() as runner:
        pool = SandboxPool(workers=1)
        try:
            yield Sandbox(runner, pool)
        finally:
            pool.close()


# --- the tests ----------------------------------------------------------------

TEXT = _text()
SECTIONS = sections(TEXT)
JS_BLOCKS = blocks(TEXT, "js")


def test_every_api_name_has_a_section_with_an_example():
    names = api_names()
    assert "reply" in names and "state.incr" in names
    undocumented = [n for n in names if not sections_of(n, SECTIONS)]
    assert undocumented == [], f"RULES.md has no heading for: {', '.join(undocumented)}"
    without_example = [n for n in names if not any("```js\n" in s.body for s in sections_of(n, SECTIONS))]
    assert without_example == [], f"RULES.md sections without a ```js example: {', '.join(without_example)}"


def test_each_example_uses_what_its_section_documents():
    unused = []
    for name in api_names():
        used = re.compile(r"(?<![\w.$])" + re.escape(name) + r"\s*[(.]")
        examples = [b.source for s in sections_of(name, SECTIONS) for b in blocks(s.body, "js")]
        if not any(used.search(source) for source in examples):
            unused.append(name)
    assert unused == [], f"examples that do not use their function: {', '.join(unused)}"


@pytest.mark.parametrize("block", JS_BLOCKS, ids=[f"RULES.md:{b.line}" for b in JS_BLOCKS])
def test_example_runs_in_the_sandbox(sandbox, block):
    run = sandbox.run(block.source)
    assert check_actions(run.actions) == run.actions
    # an example that does nothing for its sample input shows nothing
    assert run.actions, f"the example at line {block.line} recorded no action; give it a `// text:` it acts on"


def test_the_page_has_examples_for_every_event_type():
    assert len(JS_BLOCKS) > 30
    used = {markers(b.source).get("event", "message_received") for b in JS_BLOCKS}
    assert used >= {"message_received", "http_response", "data_imported", "schedule", "connection_down"}
    assert set(_SAMPLES) == set(EVENT_TYPES), "every event type needs a sample input here"


def test_action_map_covers_every_action_type():
    assert {kind for kind, _ in ACTION_OF.values()} == set(ACTION_FIELDS)
    assert set(ACTION_OF) <= set(api_names())


@pytest.mark.parametrize("name", sorted(ACTION_OF))
def test_examples_record_their_functions_action(sandbox, name):
    kind, level = ACTION_OF[name]
    recorded = [
        a
        for s in sections_of(name, SECTIONS)
        for b in blocks(s.body, "js")
        for a in sandbox.run(b.source).actions
        if a["type"] == kind and (level is None or a["level"] == level)
    ]
    assert recorded, f"no example of {name} records a {kind} action"


@pytest.mark.parametrize("name", sorted(FIELDS_OF))
def test_every_field_of_an_action_is_documented(name):
    required, optional = ACTION_FIELDS[FIELDS_OF[name]]
    body = "\n".join(s.body for s in sections_of(name, SECTIONS))
    missing = sorted(f for f in required | optional if f"`{f}`" not in body)
    assert missing == [], f"the section of {name} does not name: {', '.join(missing)}"


def test_every_field_of_event_message_and_rule_is_documented():
    data = sample_input("// event: message_received\n")
    for name, fields in (("event", data["event"]), ("message", data["message"]), ("rule", RULE)):
        body = "\n".join(s.body for s in sections_of(name, SECTIONS))
        missing = sorted(f for f in fields if f"`{f}`" not in body)
        assert missing == [], f"the section of `{name}` does not name: {', '.join(missing)}"


def test_every_event_type_is_documented():
    body = section_titled("Events", SECTIONS).body
    missing = [t for t in EVENT_TYPES if f"| `{t}` |" not in body]
    assert missing == [], f"event types missing from the table in RULES.md: {', '.join(missing)}"


def test_every_expected_key_of_rule_tests_is_documented():
    body = section_titled("Rule tests", SECTIONS).body
    missing = sorted(k for k in EXPECTED_KEYS if f"| `{k}` |" not in body)
    assert missing == [], f"rule test keys missing from RULES.md: {', '.join(missing)}"


def test_the_documented_rule_tests_pass(sandbox):
    body = section_titled("Rule tests", SECTIONS).body
    examples = [json.loads(b.source) for b in blocks(body, "json")]
    single = [e for e in examples if isinstance(e, dict)]
    lists = [e for e in examples if isinstance(e, list)]
    assert len(single) == 1 and len(lists) == 1, "expected one example test and one list of tests"
    check_test(single[0])
    rule_source = blocks(body, "js")[-1].source
    results = [sandbox.run_test({**RULE, "source": rule_source}, test) for test in lists[0]]
    assert len(results) >= 3
    failed = {r.name: r.failures for r in results if not r.passed}
    assert failed == {}


def test_a_wrong_expectation_in_the_documented_tests_fails(sandbox):
    """The comparison the previous test relies on can fail."""
    body = section_titled("Rule tests", SECTIONS).body
    tests = next(json.loads(b.source) for b in blocks(body, "json") if b.source.lstrip().startswith("["))
    wrong = {**tests[0], "expected": {**tests[0]["expected"], "sends": [{"text": "Oslo: 30 degrees"}]}}
    result = sandbox.run_test({**RULE, "source": blocks(body, "js")[-1].source}, wrong)
    assert not result.passed
    assert any("Oslo: 30 degrees" in f for f in result.failures)


def test_the_documented_editor_model_compiles_and_runs(sandbox):
    from msghub.rules.model import compile_model

    body = section_titled("Rule editor", SECTIONS).body
    models = [json.loads(b.source) for b in blocks(body, "json")]
    assert len(models) == 2
    compile_model(models[1])  # the http action that replies with its answer: a valid model
    source = compile_model(models[0])
    # Thursday 09:30 in London, an SMS that starts with the keyword
    acted = sandbox.runner.run(run_rule(sandbox.pool, source, sample_input("// text: INFO please\n"), _answer))
    assert [a["type"] for a in acted.actions] == ["reply", "move", "stop"]
    assert acted.actions[0]["text"] == "Hello +447700900001, we are open until 17:00 today."
    quiet = sandbox.runner.run(run_rule(sandbox.pool, source, sample_input("// text: hello\n"), _answer))
    assert quiet.actions == []


def test_the_rule_commands_documented_are_the_ones_there_are():
    from msghub.app.cli import build_parser
    from tests.test_docs import _commands

    commands = set(_commands(build_parser()))
    ours = {c for c in commands if c.split()[1] in ("rules", "poll")}
    assert "msghub rules test" in ours
    undocumented = sorted(c for c in ours if f"`{c}" not in TEXT)
    assert undocumented == [], f"commands missing from RULES.md: {', '.join(undocumented)}"
    named = {m.strip() for m in re.findall(r"`(msghub(?: [a-z][a-z-]*)+)", TEXT)}
    unknown = sorted(c for c in named if c not in commands)
    assert unknown == [], f"RULES.md names commands msghub does not have: {', '.join(unknown)}"
