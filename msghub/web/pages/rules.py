"""Rules: the list in run order, the editor (visual or JavaScript), rule
tests with their results, and each rule's log.

Admins and operators see rules (row-level security decides which); only
admins create, change, reorder, delete and test them, because rules run with
the hub's authority. The visual editor is a server-rendered form whose field
names are the paths of msghub.rules.model (``conditions[0].keyword``), so a
ModelError is shown beside the field it names. Rows are added and removed by
submit buttons, which static/rules.js turns into in-page edits when
JavaScript runs. Rule tests run the real rule in the real sandbox and apply
nothing (msghub.rules.testing): pressing "Run tests" never sends a message.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

import psycopg
from psycopg.types.json import Jsonb
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.rules.errors import RuleError
from msghub.rules.events import EVENT_TYPES
from msghub.rules.model import ModelError, compile_model, describe_model
from msghub.rules.pool import SandboxPool
from msghub.rules.queries import STORE_QUERIES
from msghub.rules.testing import RuleTestFormatError, TestResult, check_test, run_stored
from msghub.web.common import (
    Handler,
    UserHandler,
    check_csrf,
    csrf_failed,
    json_error,
    not_found,
    path_id,
    pool_of,
    read_form,
    record_audit,
    render,
    require_user,
    search_terms,
    user_tx,
    wants_json,
)
from msghub.web.display import shorten
from msghub.web.queries import RULES_QUERIES
from msghub.web.rule_test_form import test_from_fields
from msghub.web.rules_form import (
    ACTION_KINDS,
    BLANKS,
    CONDITION_KINDS,
    DAYS,
    blank_row,
    error_key,
    model_from_rows,
    rows_from_form,
    rows_from_model,
)
from msghub.web.security import SessionUser

MAX_NAME = 200
MAX_RULE_FORM_BYTES = 512 * 1024
LOG_LINES = 100
VIEWER_ROLES = ("admin", "operator")
NEW_TEST: dict[str, Any] = {
    "name": "what this test checks",
    "event": {"type": "message_received", "message": {"sender": "+447700900001", "text": "hello"}},
    "fixtures": {},
    "mocks": [],
    "expected": {"replies": [], "error": None},
}


# --- access ---


def _forbidden(request: Request, what: str) -> Response:
    if wants_json(request):
        return json_error(403, "forbidden", what)
    return render(request, "rules/forbidden.html", {"what": what}, status_code=403)


def viewers(handler: UserHandler) -> Handler:
    """Admins and operators may look at rules, their tests and their logs."""

    @functools.wraps(handler)
    async def inner(request: Request, user: SessionUser) -> Response:
        if user.role not in VIEWER_ROLES:
            return _forbidden(request, "Rules are shown to administrators and operators only.")
        return await handler(request, user)

    return require_user(inner)


ADMINS_ONLY = (
    "Only administrators create, change, reorder, delete and test rules, "
    "because a rule acts with the hub's authority on every message."
)


def admins(handler: UserHandler) -> Handler:
    """Only admins change or run rules: a rule acts with the hub's authority."""

    @functools.wraps(handler)
    async def inner(request: Request, user: SessionUser) -> Response:
        if user.role != "admin":
            return _forbidden(request, ADMINS_ONLY)
        return await handler(request, user)

    return require_user(inner)


class RuleRow(TypedDict):
    """A rule as the pages read it (rule_row)."""
    id: int
    name: str
    kind: str  # code or visual
    events: list[str]
    position: int
    enabled: bool
    stop_processing: bool
    model: dict[str, Any] | None
    source: str
    created_at: datetime
    updated_at: datetime


async def _rule(conn: psycopg.AsyncConnection[Any], rule_id: int | None) -> RuleRow | None:
    if rule_id is None:
        return None
    return await RULES_QUERIES.one(conn, "rule_row", RuleRow, {"id": rule_id})


# --- the list ---


SUMMARY_CHARS = 140


def summary(rule: Mapping[str, Any]) -> str:
    """One line for the list: the model described, or the source's first comment."""
    if rule["kind"] == "visual" and rule["model"] is not None:
        try:
            return shorten(describe_model(rule["model"]), SUMMARY_CHARS)
        except ModelError as exc:
            return shorten(f"The editor's model is not valid: {exc}", SUMMARY_CHARS)
    # the leading comment, over as many lines as it runs
    words: list[str] = []
    for line in str(rule["source"]).splitlines():
        text = line.strip()
        if not text.startswith("//"):
            if text or words:
                break
            continue
        words.append(text.lstrip("/ ").strip())
    return shorten(" ".join(w for w in words if w), SUMMARY_CHARS) or "JavaScript"


@viewers
async def index(request: Request, user: SessionUser) -> Response:
    search = search_terms(request)
    async with user_tx(request) as conn:
        rows = await (await conn.execute(RULES_QUERIES["rules_page"], search)).fetchall()
    rules = [{**r, "summary": summary(r)} for r in rows]
    ran = request.query_params.get("ran", "")
    passed = request.query_params.get("passed", "")
    return render(
        request,
        "rules/index.html",
        {
            "rules": rules,
            "q": search["q"],
            "is_admin": user.role == "admin",
            "ran": int(ran) if ran.isdigit() else None,
            "passed": int(passed) if passed.isdigit() else 0,
            "search_action": "/rules",
            "clear_filter_url": "/rules",
            # for base.html's search box and yellow bar, once they name what is searched
            "filter_what": "rules",
            "search_placeholder": "Search rules",
        },
    )


@admins
async def set_enabled(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    enabled = request.url.path.endswith("/enable")
    rule_id = path_id(request)
    async with user_tx(request) as conn:
        row = None
        if rule_id is not None:
            row = await (
                await conn.execute(RULES_QUERIES["rule_set_enabled"], {"id": rule_id, "enabled": enabled})
            ).fetchone()
        if row is not None:
            await record_audit(conn, request, user, "rule.enable" if enabled else "rule.disable", row["name"])
    if row is None:
        return not_found(request)
    return RedirectResponse("/rules", status_code=303)


@admins
async def move(request: Request, user: SessionUser) -> Response:
    """Moves a rule one place up or down in the run order; positions become 10, 20, 30..."""
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    rule_id = path_id(request)
    step = {"up": -1, "down": 1}.get(form.get("direction", ""))
    if step is None:
        return PlainTextResponse("Move a rule up or down.", status_code=400)
    async with user_tx(request) as conn:
        order = await (await conn.execute(RULES_QUERIES["rules_order_locked"])).fetchall()
        ids = [r["id"] for r in order]
        if rule_id not in ids:
            return not_found(request)
        at = ids.index(rule_id)
        to = at + step
        if 0 <= to < len(ids):
            ids[at], ids[to] = ids[to], ids[at]
        await conn.execute(RULES_QUERIES["rules_renumber"], {"ids": ids})
        await record_audit(conn, request, user, "rule.move", order[at]["name"], {"direction": form["direction"]})
    return RedirectResponse(f"/rules#rule-{rule_id}", status_code=303)


# --- the editor (its form layer: msghub/web/rules_form.py) ---
def _editor(
    request: Request,
    rule: RuleRow | None,
    shown: dict[str, Any],
    errors: dict[str, str] | None = None,
    *,
    compiled: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "rules/edit.html",
        {
            "rule": rule,
            "v": shown,
            "errors": errors or {},
            "compiled": compiled,
            "notice": notice,
            "event_types": EVENT_TYPES,
            "condition_kinds": CONDITION_KINDS,
            "action_kinds": ACTION_KINDS,
            "days": DAYS,
            "blanks": BLANKS,
        },
        status_code=status_code,
    )


def _shown_rule(rule: RuleRow) -> dict[str, Any]:
    model = rule["model"] if isinstance(rule["model"], dict) else {}
    return {
        "name": rule["name"],
        "kind": rule["kind"],
        "events": list(rule["events"]),
        "enabled": rule["enabled"],
        "stop_processing": rule["stop_processing"],
        "source": rule["source"] if rule["kind"] == "javascript" else "",
        "match": model.get("match", "all"),
        "model_stop": model.get("stop") is True,
        "rows": rows_from_model(model),
    }


@admins
async def new(request: Request, user: SessionUser) -> Response:
    if request.method == "POST":
        return await _save(request, user, None)
    kind = "javascript" if request.query_params.get("kind") == "javascript" else "visual"
    shown = {
        "name": "",
        "kind": kind,
        "events": ["message_received"],
        "enabled": True,
        "stop_processing": False,
        "source": "// What this rule does, in one line (the rules list shows it).\n"
        "if (message && keywords.contains(message.text, 'hours')) {\n"
        "  reply('We are open 9-17, Monday to Saturday.');\n}\n",
        "match": "all",
        "model_stop": False,
        "rows": {"conditions": [], "actions": [blank_row("actions", "reply")]},
    }
    return _editor(request, None, shown)


@viewers
async def edit(request: Request, user: SessionUser) -> Response:
    if request.method == "POST":
        if user.role != "admin":
            return _forbidden(request, ADMINS_ONLY)
        async with user_tx(request) as conn:
            rule = await _rule(conn, path_id(request))
        if rule is None:
            return not_found(request)
        return await _save(request, user, rule)
    async with user_tx(request) as conn:
        rule = await _rule(conn, path_id(request))
        tests = (
            []
            if rule is None
            else await (await conn.execute(RULES_QUERIES["rule_tests"], {"rule_id": rule["id"]})).fetchall()
        )
    if rule is None:
        return not_found(request)
    if user.role != "admin":
        return render(request, "rules/view.html", {"rule": {**rule, "summary": summary(rule)}, "tests": tests})
    return _editor(request, rule, _shown_rule(rule), compiled=rule["source"] if rule["kind"] == "visual" else None)


async def _save(request: Request, user: SessionUser, rule: RuleRow | None) -> Response:
    form = await read_form(request, MAX_RULE_FORM_BYTES)
    if not check_csrf(request, form):
        return csrf_failed()
    op = form.get("op", "save")
    kind = "javascript" if form.get("kind") == "javascript" else "visual"
    if rule is not None and rule["kind"] == "javascript" and kind == "visual":
        kind = "javascript"  # a hand-written rule never becomes a visual one
    rows = rows_from_form(form)
    shown: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "kind": kind,
        "events": [e for e in EVENT_TYPES if form.get(f"event.{e}") == "on"],
        "enabled": form.get("enabled") == "on",
        "stop_processing": form.get("stop_processing") == "on",
        "source": form.get("source", "").replace("\r\n", "\n"),
        "match": form.get("match") if form.get("match") in ("all", "any") else "all",
        "model_stop": form.get("model_stop") == "on",
        "rows": rows,
    }
    if op.startswith("remove:"):
        _, section, n = [*op.split(":"), "", ""][:3]
        if section in rows and n.isdigit() and int(n) < len(rows[section]):
            del rows[section][int(n)]
        return _editor(request, rule, shown)
    if op in ("add_condition", "add_action"):
        section = "conditions" if op == "add_condition" else "actions"
        row = blank_row(section, form.get(f"new_{section}", ""))
        if row is not None:
            rows[section].append(row)
        return _editor(request, rule, shown)

    errors: dict[str, str] = {}
    if not shown["name"]:
        errors["name"] = "give the rule a name"
    elif len(shown["name"]) > MAX_NAME:
        errors["name"] = f"at most {MAX_NAME} characters"
    if not shown["events"]:
        errors["events"] = "tick at least one event the rule runs for"
    model: dict[str, Any] | None = None
    source = shown["source"]
    if kind == "visual":
        model, errors_in_rows = model_from_rows(rows, shown["match"], shown["model_stop"])
        errors.update(errors_in_rows)
        if not errors_in_rows:
            try:
                source = compile_model(model)
            except ModelError as exc:
                errors[error_key(exc, rows)] = exc.problem
    elif not source.strip():
        errors["source"] = "write the rule's JavaScript"
    elif "\x00" in source:
        errors["source"] = "contains a NUL character, which JavaScript source cannot hold"
    elif op == "save":
        problem = await syntax_error(source)
        if problem:
            errors["source"] = problem

    if op in ("preview", "convert"):
        if kind != "visual" or any(k.startswith(("conditions", "actions", "_")) for k in errors):
            errors.pop("name", None)
            errors.pop("events", None)
            return _editor(request, rule, shown, errors, status_code=400 if errors else 200)
        if op == "preview":
            return _editor(request, rule, shown, compiled=source)
        converted = {**shown, "kind": "javascript", "source": source}
        return _editor(
            request,
            rule,
            converted,
            notice="This is the JavaScript the editor made. Saving turns the rule into a JavaScript rule "
            "for good: it cannot go back to the visual editor.",
        )
    if errors:
        return _editor(request, rule, shown, errors, status_code=400)

    params = {
        "name": shown["name"],
        "kind": kind,
        "source": source,
        "model": Jsonb(model) if model is not None else None,
        "events": shown["events"],
        "enabled": shown["enabled"],
        "stop": shown["stop_processing"],
    }
    try:
        async with user_tx(request) as conn:
            if rule is None:
                row = await (await conn.execute(RULES_QUERIES["rule_insert"], params)).fetchone()
                action = "rule.create"
            else:
                row = await (await conn.execute(RULES_QUERIES["rule_update"], {**params, "id": rule["id"]})).fetchone()
                action = "rule.convert" if rule["kind"] != kind else "rule.update"
            if row is None:
                return not_found(request)
            await record_audit(conn, request, user, action, shown["name"], {"kind": kind})
    except psycopg.errors.UniqueViolation:
        errors["name"] = f"a rule named {shown['name']!r} already exists"
        return _editor(request, rule, shown, errors, status_code=400)
    return RedirectResponse(f"/rules/{row['id']}?saved=1", status_code=303)


PARSED = "msghub: parsed"


async def syntax_error(source: str) -> str | None:
    """Where and why JavaScript does not parse, or None. The check runs in the
    sandbox and throws before the first statement, so none of the rule runs."""
    try:
        async with SandboxPool(1) as sandbox:
            await sandbox.run("", f"throw {PARSED!r};\n{source}", {}, "'{}'")
    except RuleError as exc:
        if PARSED in str(exc) or not exc.detail.startswith("SyntaxError"):
            return None
        where = f"line {exc.line - 1}, column {exc.column}: " if exc.line and exc.line > 1 else ""
        return f"{where}{exc.detail}"
    return None


@admins
async def delete(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    rule_id = path_id(request)
    async with user_tx(request) as conn:
        row = None
        if rule_id is not None:
            row = await (await conn.execute(RULES_QUERIES["rule_delete"], {"id": rule_id})).fetchone()
        if row is not None:
            await record_audit(conn, request, user, "rule.delete", row["name"])
    if row is None:
        return not_found(request)
    return RedirectResponse("/rules", status_code=303)


# --- rule tests ---


async def run_tests(request: Request, user: SessionUser, rule_id: int | None) -> list[TestResult]:
    """Runs the stored tests of one rule (or of every rule the user sees) in
    a sandbox of their own, and records each result. Nothing is applied."""
    async with user_tx(request) as conn:
        tests = await (await conn.execute(STORE_QUERIES["rule_tests_to_run"],
                                          {"rule": None, "rule_id": rule_id})).fetchall()
        polls = {
            r["name"]: r["options"]
            for r in await (await conn.execute(STORE_QUERIES["poll_options_by_name"])).fetchall()
        }
    results = await run_stored(tests, polls)
    async with user_tx(request) as conn:
        for t, result in zip(tests, results, strict=True):
            await conn.execute(STORE_QUERIES["rule_test_result"], {"result": Jsonb(result.as_json()), "id": t["id"]})
        await record_audit(
            conn,
            request,
            user,
            "rule.test",
            tests[0]["rule"] if rule_id is not None and tests else "all rules",
            {"tests": len(results), "passed": sum(r.passed for r in results)},
        )
    return results


@admins
async def run_all(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    results = await run_tests(request, user, None)
    passed = sum(r.passed for r in results)
    return RedirectResponse(f"/rules?ran={len(results)}&passed={passed}", status_code=303)


def _test_json(test: dict[str, Any]) -> str:
    shown = {k: test[k] for k in ("name", "event", "fixtures", "mocks", "expected") if k in test}
    return json.dumps(shown, indent=2, ensure_ascii=False)


async def _tests_page(
    request: Request,
    rule: RuleRow,
    *,
    draft: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    async with user_tx(request) as conn:
        tests = await (await conn.execute(RULES_QUERIES["rule_tests"], {"rule_id": rule["id"]})).fetchall()
    user: SessionUser = request.state.user
    sample = {
        **NEW_TEST,
        "event": {**NEW_TEST["event"], "type": rule["events"][0] if rule["events"] else "message_received"},
    }
    ran = request.query_params.get("ran", "")
    return render(
        request,
        "rules/tests.html",
        {
            "rule": rule,
            "tests": tests,
            "is_admin": user.role == "admin",
            "draft": draft if draft is not None else _test_json(sample),
            "error": error,
            "ran": int(ran) if ran.isdigit() else None,
            "passed_count": sum(1 for t in tests if (t["last_result"] or {}).get("passed")),
            "event_types": EVENT_TYPES,
        },
        status_code=status_code,
    )


@viewers
async def tests_page(request: Request, user: SessionUser) -> Response:
    async with user_tx(request) as conn:
        rule = await _rule(conn, path_id(request))
    if rule is None:
        return not_found(request)
    return await _tests_page(request, rule)


def parse_test(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """A test from the JSON a person typed: (test, None) or (None, what is wrong)."""
    try:
        test = json.loads(text)
    except ValueError as exc:
        return None, f"not valid JSON: {exc}"
    if not isinstance(test, dict):
        return None, 'a rule test is a JSON object: {"name": ..., "event": ..., "expected": ...}'
    unknown = sorted(set(test) - {"name", "event", "fixtures", "mocks", "expected"})
    if unknown:
        return None, f"unknown key {', '.join(unknown)} (known: event, expected, fixtures, mocks, name)"
    try:
        check_test(test)
    except RuleTestFormatError as exc:
        return None, str(exc)
    if not isinstance(test.get("fixtures") or {}, dict) or not isinstance(test.get("mocks") or [], list):
        return None, f"{test['name']}: fixtures must be an object and mocks a list"
    return test, None


def _test_params(rule_id: int, test: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule_id": rule_id,
        "name": test["name"].strip(),
        "event": Jsonb(test["event"]),
        "fixtures": Jsonb(test.get("fixtures") or {}),
        "mocks": Jsonb(test.get("mocks") or []),
        "expected": Jsonb(test["expected"]),
    }


@admins
async def test_new(request: Request, user: SessionUser) -> Response:
    form = await read_form(request, MAX_RULE_FORM_BYTES)
    if not check_csrf(request, form):
        return csrf_failed()
    async with user_tx(request) as conn:
        rule = await _rule(conn, path_id(request))
    if rule is None:
        return not_found(request)
    # the form's fields, or the test as JSON
    fields = form.get("mode") == "fields"
    text = json.dumps(test_from_fields(form), ensure_ascii=False) if fields else form.get("test", "")
    test, error = parse_test(text)
    if test is None:
        return await _tests_page(request, rule, draft=text, error=error, status_code=400)
    try:
        async with user_tx(request) as conn:
            await conn.execute(RULES_QUERIES["rule_test_insert"], _test_params(rule["id"], test))
            await record_audit(conn, request, user, "rule.test_add", rule["name"], {"test": test["name"]})
    except psycopg.errors.UniqueViolation:
        error = f"this rule already has a test named {test['name'].strip()!r}"
        return await _tests_page(request, rule, draft=text, error=error, status_code=400)
    return RedirectResponse(f"/rules/{rule['id']}/tests", status_code=303)


@viewers
async def test_edit(request: Request, user: SessionUser) -> Response:
    rule_id, test_id = path_id(request), path_id(request, "test_id")
    async with user_tx(request) as conn:
        rule = await _rule(conn, rule_id)
        test = None
        if rule is not None and test_id is not None:
            test = await (
                await conn.execute(RULES_QUERIES["rule_test_row"], {"rule_id": rule["id"], "id": test_id})
            ).fetchone()
    if rule is None or test is None:
        return not_found(request)
    context = {"rule": rule, "test": test, "text": _test_json(test), "error": None, "is_admin": user.role == "admin"}
    if request.method == "GET":
        return render(request, "rules/test_edit.html", context)
    if user.role != "admin":
        return _forbidden(request, ADMINS_ONLY)
    form = await read_form(request, MAX_RULE_FORM_BYTES)
    if not check_csrf(request, form):
        return csrf_failed()
    text = form.get("test", "")
    parsed, error = parse_test(text)
    if parsed is None:
        return render(request, "rules/test_edit.html", {**context, "text": text, "error": error}, status_code=400)
    try:
        async with user_tx(request) as conn:
            await conn.execute(
                RULES_QUERIES["rule_test_update"], {**_test_params(rule["id"], parsed), "id": test["id"]}
            )
            await record_audit(conn, request, user, "rule.test_update", rule["name"], {"test": parsed["name"]})
    except psycopg.errors.UniqueViolation:
        error = f"this rule already has a test named {parsed['name'].strip()!r}"
        return render(request, "rules/test_edit.html", {**context, "text": text, "error": error}, status_code=400)
    return RedirectResponse(f"/rules/{rule['id']}/tests", status_code=303)


@admins
async def test_delete(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    rule_id, test_id = path_id(request), path_id(request, "test_id")
    async with user_tx(request) as conn:
        row = None
        if rule_id is not None and test_id is not None:
            row = await (
                await conn.execute(RULES_QUERIES["rule_test_delete"], {"rule_id": rule_id, "id": test_id})
            ).fetchone()
        if row is not None:
            await record_audit(conn, request, user, "rule.test_delete", row["rule"], {"test": row["name"]})
    if row is None:
        return not_found(request)
    return RedirectResponse(f"/rules/{rule_id}/tests", status_code=303)


@admins
async def tests_run(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    async with user_tx(request) as conn:
        rule = await _rule(conn, path_id(request))
    if rule is None:
        return not_found(request)
    results = await run_tests(request, user, rule["id"])
    return RedirectResponse(f"/rules/{rule['id']}/tests?ran={len(results)}", status_code=303)


# --- the log ---


@viewers
async def log_page(request: Request, user: SessionUser) -> Response:
    async with user_tx(request) as conn:
        rule = await _rule(conn, path_id(request))
    if rule is None:
        return not_found(request)
    # hub.rule_log is the runner's, readable in system mode only: the user
    # has just been shown to see this rule (docs/SECURITY.md).
    async with pool_of(request).connection() as conn:
        lines = await (
            await conn.execute(RULES_QUERIES["rule_log_tail"], {"rule_id": rule["id"], "limit": LOG_LINES})
        ).fetchall()
    return render(request, "rules/log.html", {"rule": rule, "lines": lines, "limit": LOG_LINES})


routes: list[BaseRoute] = [
    Route("/rules", index),
    Route("/rules/new", new, methods=["GET", "POST"]),
    Route("/rules/run-tests", run_all, methods=["POST"]),
    Route("/rules/{id:int}", edit, methods=["GET", "POST"]),
    Route("/rules/{id:int}/enable", set_enabled, methods=["POST"]),
    Route("/rules/{id:int}/disable", set_enabled, methods=["POST"]),
    Route("/rules/{id:int}/move", move, methods=["POST"]),
    Route("/rules/{id:int}/delete", delete, methods=["POST"]),
    Route("/rules/{id:int}/tests", tests_page),
    Route("/rules/{id:int}/tests/new", test_new, methods=["POST"]),
    Route("/rules/{id:int}/tests/run", tests_run, methods=["POST"]),
    Route("/rules/{id:int}/tests/{test_id:int}", test_edit, methods=["GET", "POST"]),
    Route("/rules/{id:int}/tests/{test_id:int}/delete", test_delete, methods=["POST"]),
    Route("/rules/{id:int}/log", log_page),
]
