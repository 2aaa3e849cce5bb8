"""Rule tests: a simulated event, what lookups find, mock HTTP answers, and
the actions expected. They run the real rule in the real sandbox, but apply
nothing: actions are collected and compared. A rule test never writes to the
database and never sends anything. The format is in docs/RULES.md.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from msghub.rules.actions import match_option
from msghub.rules.api import run_rule
from msghub.rules.errors import RuleError
from msghub.rules.pool import SandboxPool

# An http_response may lead to another request; a test follows that far.
MAX_HTTP_HOPS = 5

EXPECTED_KEYS = {
    "replies",
    "sends",
    "folder",
    "assign",
    "http",
    "rows",
    "votes",
    "state",
    "logs",
    "contacts",
    "lists",
    "stopped",
    "error",
}


class RuleTestFormatError(ValueError):
    """A rule test that is not well-formed (not a failing test: a broken one)."""


@dataclass(slots=True)
class Actual:
    """What the rule did, sorted by kind."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    sends: list[dict[str, Any]] = field(default_factory=list)
    folder: str | None = None
    assign: dict[str, Any] | None = None
    http: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    lists: list[dict[str, Any]] = field(default_factory=list)
    stopped: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in EXPECTED_KEYS}


@dataclass(slots=True)
class TestResult:
    name: str
    passed: bool
    failures: list[str]
    actual: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "failures": self.failures, "actual": self.actual}


def check_test(test: Mapping[str, Any]) -> None:
    """Raises RuleTestFormatError naming what is wrong with a test's shape."""
    if not isinstance(test, Mapping):
        raise RuleTestFormatError("a rule test is a JSON object")
    name = test.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleTestFormatError("name: every rule test needs a name")
    event = test.get("event")
    if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
        raise RuleTestFormatError(f"{name}: event must be an object with a type")
    expected = test.get("expected")
    if not isinstance(expected, Mapping):
        raise RuleTestFormatError(f"{name}: expected must be an object")
    unknown = sorted(set(expected) - EXPECTED_KEYS)
    if unknown:
        raise RuleTestFormatError(
            f"{name}: expected has unknown key {', '.join(unknown)} (known: {', '.join(sorted(EXPECTED_KEYS))})"
        )
    for mock in test.get("mocks") or []:
        if not isinstance(mock, Mapping) or not isinstance(mock.get("url"), str):
            raise RuleTestFormatError(f"{name}: every mock needs a url")


def simulated_input(event: Mapping[str, Any], rule: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's input for a simulated event, with defaults filled in."""
    m = event.get("message")
    message = None
    if m is not None:
        channel = m.get("channel", "sms")
        connection = m.get("connection")
        message = {
            "id": m.get("id", 1),
            "channel": channel,
            "direction": m.get("direction", "in"),
            "sender": m.get("sender", "+447700900000"),
            "recipients": m.get("recipients", ["+447700900999"]),
            "subject": m.get("subject"),
            "text": m.get("text", ""),
            "parts": m.get("parts", []),
            "status": m.get("status", "received"),
            "created_at": m.get("created_at", event.get("created_at", "2026-01-01T12:00:00+00:00")),
            "status_at": m.get("status_at"),
            "folder": m.get("folder"),
            "connection": {"id": 1, "name": connection, "kind": "simulated"}
            if isinstance(connection, str)
            else connection,
            "failure": m.get("failure"),
            "correlation_id": m.get("correlation_id"),
            "segments": m.get("segments"),
        }
    connection = event.get("connection")
    return {
        "event": {
            "id": event.get("id", 1),
            "type": event["type"],
            "created_at": event.get("created_at", "2026-01-01T12:00:00+00:00"),
            "payload": event.get("payload", {}),
            "connection": {"id": 1, "name": connection, "kind": "simulated"}
            if isinstance(connection, str)
            else connection,
        },
        "message": message,
        "rule": {"id": rule.get("id", 0), "name": rule.get("name", "test")},
    }


class _FixtureLookups:
    def __init__(self, fixtures: Mapping[str, Any], state: dict[str, Any]) -> None:
        self.fixtures = fixtures
        self.state = state

    async def __call__(self, kind: str, args: dict[str, Any]) -> Any:
        if kind == "state.get":
            return self.state.get(args["key"])
        contacts = list(self.fixtures.get("contacts") or [])
        if kind == "contacts.find":
            return [c for c in contacts if _contact_matches(c, args)]
        if kind == "lists.members":
            return [c for c in contacts if args["list"] in (c.get("lists") or [])]
        raise RuleError(f"unknown lookup {kind!r}")


def _contact_matches(contact: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    for key in ("phone", "email"):
        if isinstance(query.get(key), str) and (contact.get(key) or "").lower() != query[key].lower():
            return False
    name = query.get("name")
    return not (isinstance(name, str) and name.lower() not in (contact.get("name") or "").lower())


async def run_test(
    sandbox: SandboxPool,
    rule: Mapping[str, Any],
    test: Mapping[str, Any],
    polls: Mapping[str, list[dict[str, Any]]] | None = None,
) -> TestResult:
    """Runs one rule test. rule: {id, name, source}; polls: options by poll
    name for poll.vote (the test's fixtures.polls take precedence)."""
    check_test(test)
    fixtures = test.get("fixtures") or {}
    actual = Actual(state=dict(fixtures.get("state") or {}))
    known_polls = {**(polls or {}), **(fixtures.get("polls") or {})}
    failures: list[str] = []
    rule_input = simulated_input(test["event"], rule)
    for _hop in range(MAX_HTTP_HOPS + 1):
        try:
            run = await run_rule(sandbox, rule["source"], rule_input, _FixtureLookups(fixtures, actual.state))
        except RuleError as exc:
            actual.error = str(exc)
            break
        follow_up = _collect(run.actions, actual, known_polls, test.get("mocks") or [], failures, rule_input)
        if follow_up is None:
            break
        rule_input = follow_up
    failures += compare(test["expected"], actual)
    return TestResult(test["name"], not failures, failures, actual.as_dict())


async def run_stored(tests: Sequence[Mapping[str, Any]], polls: Mapping[str, list[dict[str, Any]]]) -> list[TestResult]:
    """Runs rows of stored tests (rule_id, rule, source, name, event,
    fixtures, mocks, expected) in one sandbox of their own, in order. A
    malformed stored test (written by SQL, say) is a failed result, not an
    error that stops the others."""
    results: list[TestResult] = []
    if not tests:
        return results
    async with SandboxPool(1) as sandbox:
        for t in tests:
            rule = {"id": t["rule_id"], "name": t["rule"], "source": t["source"]}
            try:
                results.append(await run_test(sandbox, rule, t, polls))
            except RuleTestFormatError as exc:
                results.append(TestResult(t["name"], False, [f"the test is malformed: {exc}"], {}))
    return results


def _collect(
    actions: list[dict[str, Any]],
    actual: Actual,
    polls: Mapping[str, list[dict[str, Any]]],
    mocks: list[Mapping[str, Any]],
    failures: list[str],
    rule_input: dict[str, Any],
) -> dict[str, Any] | None:
    """Files the actions under their kinds; returns the input of a follow-up
    http_response run, if a mocked request was made."""
    follow_up = None
    for action in actions:
        kind = action["type"]
        fields = {k: v for k, v in action.items() if k != "type"}
        if kind == "reply":
            actual.replies.append(fields)
        elif kind == "send":
            actual.sends.append(fields)
        elif kind == "move":
            actual.folder = fields["folder"]
        elif kind == "assign":
            actual.assign = fields
        elif kind == "stop":
            actual.stopped = True
        elif kind == "contact.create":
            actual.contacts.append(fields)
        elif kind == "list.add":
            actual.lists.append(fields)
        elif kind == "sql.insert":
            actual.rows.append(fields)
        elif kind == "log":
            actual.logs.append(fields)
        elif kind.startswith("state."):
            _apply_state(actual.state, kind, fields)
        elif kind == "poll.vote":
            actual.votes.append(_vote(fields, polls, rule_input))
        elif kind == "http":
            actual.http.append(fields)
            mock = _mock_for(fields, mocks)
            if mock is None:
                failures.append(f"no mock answers {fields.get('method', 'GET')} {fields['url']}")
            elif follow_up is None:
                follow_up = _http_response_input(fields, mock, rule_input)
    return follow_up


def _apply_state(state: dict[str, Any], kind: str, fields: Mapping[str, Any]) -> None:
    key = fields["key"]
    if kind == "state.set":
        state[key] = fields["value"]
    elif kind == "state.incr":
        now = state.get(key)
        state[key] = (now if isinstance(now, int | float) else 0) + fields["by"]
    elif kind == "state.add":
        stored = state.get(key)
        members: list[Any] = stored if isinstance(stored, list) else []
        if fields["member"] not in members:
            members = [*members, fields["member"]]
        state[key] = members
    elif kind == "state.delete":
        state.pop(key, None)


def _vote(
    fields: Mapping[str, Any], polls: Mapping[str, list[dict[str, Any]]], rule_input: Mapping[str, Any]
) -> dict[str, Any]:
    vote = {"poll": fields["poll"], "option": None}
    options = polls.get(fields["poll"])
    message = rule_input.get("message") or {}
    text = fields.get("text", message.get("text", ""))
    if options is not None:
        numbered = [{"id": n, **o} for n, o in enumerate(options)]
        chosen = match_option(numbered, text)
        vote["option"] = None if chosen is None else numbered[chosen]["label"]
    return vote


def _mock_for(request: Mapping[str, Any], mocks: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    method = str(request.get("method") or "GET").upper()
    for mock in mocks:
        if str(mock.get("method") or "GET").upper() != method:
            continue
        url = mock["url"]
        if url == request["url"] or (url.endswith("*") and fnmatch.fnmatchcase(request["url"], url)):
            return mock
    return None


def _http_response_input(
    request: Mapping[str, Any], mock: Mapping[str, Any], previous: Mapping[str, Any]
) -> dict[str, Any]:
    given = mock.get("response") or {}
    response = {
        "status": given.get("status", 200),
        "headers": given.get("headers", {}),
        "body": given.get("body", ""),
        "json": given.get("json"),
        "error": given.get("error"),
        "elapsed_ms": 0,
    }
    return {
        "event": {
            "id": previous["event"]["id"] + 1,
            "type": "http_response",
            "created_at": previous["event"]["created_at"],
            "payload": {
                "request_id": None,
                "rule_id": previous["rule"]["id"],
                "method": str(request.get("method") or "GET").upper(),
                "url": request["url"],
                "context": request.get("context"),
                "response": response,
            },
            "connection": None,
        },
        # the answer's event carries the asking event's message, so reply() works
        "message": previous["message"],
        "rule": previous["rule"],
    }


def compare(expected: Mapping[str, Any], actual: Actual) -> list[str]:
    """Differences between the expected and actual actions, one line each."""
    out: list[str] = []
    got = actual.as_dict()
    for key, want in expected.items():
        have = got[key]
        if key == "error":
            if want is None and have is not None:
                out.append(f"the rule failed: {have}")
            elif want is not None and (have is None or str(want) not in have):
                out.append(f"error: expected one containing {want!r}, got {have!r}")
        elif key == "state":
            for k, v in want.items():
                if have.get(k) != v:
                    out.append(f"state[{k!r}]: expected {v!r}, got {have.get(k)!r}")
        elif isinstance(want, list):
            if len(want) != len(have):
                out.append(f"{key}: expected {len(want)}, got {len(have)}: {have!r}")
                continue
            for n, (w, h) in enumerate(zip(want, have, strict=True)):
                out += [f"{key}[{n}].{d}" for d in _subset_differences(w, h)]
        elif isinstance(want, dict):
            out += [f"{key}.{d}" for d in _subset_differences(want, have or {})]
        elif want != have:
            out.append(f"{key}: expected {want!r}, got {have!r}")
    return out


def _subset_differences(want: Any, have: Any) -> list[str]:
    if not isinstance(want, dict) or not isinstance(have, dict):
        return [] if want == have else [f"expected {want!r}, got {have!r}"]
    return [f"{k}: expected {v!r}, got {have.get(k)!r}" for k, v in want.items() if have.get(k) != v]
