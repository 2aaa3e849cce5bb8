"""The rule API's Python half: the JavaScript prelude, one rule run with its
lookups answered, and the actions a run produced, checked.

A rule never touches the database itself. It runs as a pure function of its
input and hands back actions; lookups it needs (contacts.find, state.get,
lists.members) stop the run, are answered by the caller, and the rule runs
again from the start with the answers in its input (at most MAX_LOOKUP_ROUNDS
times).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from msghub.rules.engine import Limits
from msghub.rules.errors import RuleEngineCrashed, RuleError, RuleScriptError, RuleTimeout
from msghub.rules.pool import SandboxPool

_LAZY_BLOCK = re.compile(r"^// @lazy (\w+)\n(.*?)^// @end\n", re.MULTILINE | re.DOTALL)


def _with_lazy_blocks(source: str) -> str:
    """Turns each "// @lazy NAME ... // @end" block of api.js into a string
    compiled on first use of NAME (see __lazy in api.js)."""

    def lazy(match: re.Match[str]) -> str:
        name, block = match.group(1), match.group(2)
        code = f"(function (__act, __text, __object, __lookup, message, input) {{'use strict';{block}return {name};}})"
        return f"__lazy({json.dumps(name)}, {json.dumps(code)});\n"

    return _LAZY_BLOCK.sub(lazy, source)


API_SOURCE = (Path(__file__).with_name("api.js")).read_text(encoding="utf-8")
PRELUDE = _with_lazy_blocks(API_SOURCE)
FINISH = "JSON.stringify({actions: __actions, needs: __needs, api: input.list_api ? __API : undefined})"
NEED_MARK = "__msghub_need__"
MAX_LOOKUP_ROUNDS = 8

# The answer to one lookup ("contacts.find {...}"), given its kind and arguments.
Answer = Callable[[str, dict[str, Any]], Awaitable[Any]]


class RuleActionError(RuleError):
    """A rule asked for an action that cannot be done as asked."""


@dataclass(slots=True)
class RunResult:
    actions: list[dict[str, Any]]


async def run_rule(
    pool: SandboxPool,
    source: str,
    input: Mapping[str, Any],
    answer: Answer,
    limits: Limits | None = None,
) -> RunResult:
    """Run one rule to its actions, answering its lookups; raises RuleError."""
    lookups: dict[str, Any] = {}
    for rounds in range(1, MAX_LOOKUP_ROUNDS + 2):
        run_input = dict(input, lookups=lookups)
        try:
            out = await pool.run(PRELUDE, source, run_input, FINISH, limits)
        except RuleScriptError as exc:
            key = _need_in(exc)
            if key is None:
                raise
            needs = [key]
        else:
            needs = [n for n in out.get("needs", []) if n not in lookups]
            if not needs:
                return RunResult(check_actions(out.get("actions")))
        if rounds > MAX_LOOKUP_ROUNDS:
            break
        for key in needs:
            kind, _, args = key.partition(" ")
            lookups[key] = _jsonable(await answer(kind, json.loads(args)))
    raise RuleActionError(f"rule needed more than {MAX_LOOKUP_ROUNDS} rounds of lookups; look up less per event")


def settled(outcome: dict[str, Any] | RuleError) -> RunResult | RuleError | None:
    """A run made without lookup answers (SandboxPool.run_many), if it stands:
    its result, or its error; None when it must be run again with run_rule
    (it asked for a lookup, or the engine failed under it)."""
    if isinstance(outcome, RuleError):
        if isinstance(outcome, RuleEngineCrashed | RuleTimeout):
            return None  # maybe another run's fault, or a busy machine: once more alone
        if isinstance(outcome, RuleScriptError) and _need_in(outcome) is not None:
            return None
        return outcome
    if outcome.get("needs"):
        return None
    try:
        return RunResult(check_actions(outcome.get("actions")))
    except RuleActionError as exc:
        return exc


def _need_in(exc: RuleScriptError) -> str | None:
    detail = exc.detail or ""
    start = detail.find(NEED_MARK)
    if start < 0:
        return None
    return detail[start + len(NEED_MARK) :]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# type -> (required fields, optional fields); values are checked by the
# code that applies them (it knows what a folder or a user is).
ACTION_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "reply": (set(), {"text", "channel", "subject", "attachments", "html", "delivery_report", "priority"}),
    "send": (
        set(),
        {
            "to",
            "list",
            "channel",
            "text",
            "subject",
            "attachments",
            "html",
            "connection",
            "delivery_report",
            "priority",
            "send_at",
            "valid_until",
        },
    ),
    "move": ({"folder"}, set()),
    "assign": (set(), {"user", "group"}),
    "stop": (set(), set()),
    "contact.create": (set(), {"name", "phone", "email", "notes", "lists"}),
    "list.add": ({"list", "member"}, set()),
    "http": ({"url"}, {"method", "headers", "body", "json", "timeout", "context"}),
    "sql.insert": ({"table", "row"}, set()),
    "state.set": ({"key", "value"}, set()),
    "state.incr": ({"key", "by"}, set()),
    "state.add": ({"key", "member"}, set()),
    "state.delete": ({"key"}, set()),
    "log": ({"level", "message"}, set()),
    "poll.vote": ({"poll"}, {"text"}),
}


def check_actions(actions: Any) -> list[dict[str, Any]]:
    """The run's actions, each with a known type and known fields."""
    if not isinstance(actions, list):
        raise RuleActionError("rule result has no list of actions")
    for n, action in enumerate(actions, 1):
        if not isinstance(action, dict) or action.get("type") not in ACTION_FIELDS:
            raise RuleActionError(f"action {n} has an unknown type: {str(action)[:100]}")
        kind = action["type"]
        required, optional = ACTION_FIELDS[kind]
        fields = set(action) - {"type"}
        missing = required - fields
        if missing:
            raise RuleActionError(f"{_call_name(kind)}: missing {', '.join(sorted(missing))}")
        unknown = fields - required - optional
        if unknown:
            raise RuleActionError(
                f"{_call_name(kind)}: unknown field {', '.join(sorted(unknown))}"
                f" (known: {', '.join(sorted(required | optional)) or 'none'})"
            )
        if kind == "assign" and not (fields & {"user", "group"}):
            raise RuleActionError("assign(): name a user or a group")
        if kind in ("reply", "send") and not (action.get("text") or action.get("attachments")):
            raise RuleActionError(f"{_call_name(kind)}: give a text or attachments")
        if kind == "send" and not (action.get("to") or action.get("list")):
            raise RuleActionError("send(): give a recipient (to) or a distribution list (list)")
    return actions


def _call_name(kind: str) -> str:
    return {
        "contact.create": "contacts.create()",
        "list.add": "lists.add()",
        "http": "http.request()",
        "log": "log",
        "sql.insert": "sql.insert()",
    }.get(kind, f"{kind}()")


def api_names() -> list[str]:
    """Every documented name of the rule API, as the prelude lists them."""
    from msghub.rules.engine import run_once

    out = run_once(PRELUDE, "", {"event": {}, "message": None, "rule": {}, "list_api": True}, FINISH)
    return list(out["api"])
