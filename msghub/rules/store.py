"""Rules and their tests in the database: adding, loading from a directory,
and running the stored tests (the CLI and the web UI both use these)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from msghub.errors import HubError
from msghub.rules.events import EVENT_TYPES
from msghub.rules.queries import STORE_QUERIES
from msghub.rules.testing import RuleTestFormatError, TestResult, check_test, run_stored

Conn = psycopg.Connection[Any]


class RuleStoreError(HubError):
    """A rule or rule test that cannot be stored as given."""


def check_events(events: Sequence[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown or not events:
        raise RuleStoreError(
            f"unknown event type {unknown[0] if unknown else '(none)'!r}: use {', '.join(EVENT_TYPES)}"
        )
    return list(events)


def save_rule(
    conn: Conn,
    name: str,
    *,
    source: str | None = None,
    model: dict[str, Any] | None = None,
    events: Sequence[str] = ("message_received",),
    position: int | None = None,
    enabled: bool = True,
    stop_processing: bool = False,
) -> int:
    """Creates or replaces a rule by name: JavaScript source, or an editor
    model (compiled to the JavaScript that runs). Returns its id."""
    kind = "javascript"
    if model is not None:
        from msghub.rules.model import ModelError, compile_model

        try:
            source = compile_model(model)
        except ModelError as exc:
            raise RuleStoreError(f"rule {name}: {exc}") from None
        kind = "visual"
    if source is None:
        raise RuleStoreError(f"rule {name}: give its JavaScript or an editor model")
    row = conn.execute(
        STORE_QUERIES["rule_save"],
        {
            "name": name,
            "kind": kind,
            "source": source,
            "model": Jsonb(model) if model is not None else None,
            "events": check_events(events),
            "position": position,
            "enabled": enabled,
            "stop": stop_processing,
        },
    ).fetchone()
    assert row is not None
    return int(row["id"])


def rule_id(conn: Conn, name: str) -> int:
    row = conn.execute(STORE_QUERIES["rule_id"], {"name": name}).fetchone()
    if row is None:
        raise RuleStoreError(f"no rule named {name!r}")
    return int(row["id"])


def save_test(conn: Conn, rule: str, test: dict[str, Any]) -> None:
    try:
        check_test(test)
    except RuleTestFormatError as exc:
        raise RuleStoreError(f"rule {rule}: {exc}") from None
    conn.execute(
        STORE_QUERIES["rule_test_save"],
        {
            "rule_id": rule_id(conn, rule),
            "name": test["name"],
            "event": Jsonb(test["event"]),
            "fixtures": Jsonb(test.get("fixtures") or {}),
            "mocks": Jsonb(test.get("mocks") or []),
            "expected": Jsonb(test["expected"]),
        },
    )


def load_directory(conn: Conn, directory: Path) -> list[str]:
    """Loads NAME.js (or NAME.model.json), NAME.rule.json (events, position,
    enabled, stop_processing) and NAME.tests.json (a list of tests) files.
    Returns the names of the rules loaded."""
    if not directory.is_dir():
        raise RuleStoreError(f"{directory} is not a directory")
    loaded = []
    sources = sorted(directory.glob("*.js")) + sorted(directory.glob("*.model.json"))
    for path in sources:
        name = path.name.removesuffix(".js").removesuffix(".model.json")
        meta = _json_file(directory / f"{name}.rule.json", {})
        kwargs: dict[str, Any] = {
            "events": meta.get("events", ["message_received"]),
            "position": meta.get("position"),
            "enabled": meta.get("enabled", True),
            "stop_processing": meta.get("stop_processing", False),
        }
        if path.suffix == ".js":
            save_rule(conn, name, source=path.read_text(encoding="utf-8"), **kwargs)
        else:
            save_rule(conn, name, model=_json_file(path, None), **kwargs)
        for test in _json_file(directory / f"{name}.tests.json", []):
            save_test(conn, name, test)
        loaded.append(name)
    return loaded


def _json_file(path: Path, default: Any) -> Any:
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RuleStoreError(f"{path}: not valid JSON: {exc}") from None


def poll_options(conn: Conn) -> dict[str, list[dict[str, Any]]]:
    rows = conn.execute(STORE_QUERIES["poll_options_by_name"]).fetchall()
    return {r["name"]: r["options"] for r in rows}


def run_stored_tests(conn: Conn, rule: str | None = None) -> list[tuple[str, TestResult]]:
    """Runs the stored tests of one rule (or all), records each result."""
    if rule is not None:
        rule_id(conn, rule)  # a clear error for a wrong name
    tests = conn.execute(STORE_QUERIES["rule_tests_to_run"], {"rule": rule, "rule_id": None}).fetchall()
    polls = poll_options(conn)

    results = asyncio.run(run_stored(tests, polls))
    for t, result in zip(tests, results, strict=True):
        conn.execute(STORE_QUERIES["rule_test_result"], {"result": Jsonb(result.as_json()), "id": t["id"]})
    return [(t["rule"], result) for t, result in zip(tests, results, strict=True)]
