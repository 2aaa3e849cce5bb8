"""The rule runner: events in, rules run, actions applied, exactly once.

Each batch is one transaction: claim pending events (FOR UPDATE SKIP LOCKED,
so runners on several nodes share the work), run every enabled rule that
listens to each event's type, apply each rule's actions inside a savepoint,
mark the events done, commit. A runner that dies rolls back, and its events
are claimed again; nothing is done twice because nothing it did committed.

A rule that fails (a script error, a limit, an action the database refuses)
has its own actions rolled back to the savepoint, its error logged in
hub.rule_log with the event, and the next rule runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from msghub.hub.db import Pool
from msghub.hub.metrics import RULE_FAILURES, RULE_RUNS
from msghub.rules.actions import Applied, Conn, Context, apply_actions, needs_savepoint
from msghub.rules.api import FINISH, PRELUDE, RunResult, run_rule, settled
from msghub.rules.engine import Limits
from msghub.rules.errors import RuleError
from msghub.rules.pool import SandboxPool
from msghub.rules.queries import RUNNER_QUERIES

log = logging.getLogger(__name__)

BATCH = 100
POLL_INTERVAL_S = 1.0


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    name: str
    events: tuple[str, ...]
    source: str
    stop_processing: bool


class RuleRow(TypedDict):
    id: int
    name: str
    events: list[str]
    source: str
    stop_processing: bool
    owner_user_id: int | None
    owner_group_id: int | None


@dataclass(slots=True)
class BatchResult:
    events: int = 0
    http_requests: int = 0
    export_writes: int = 0


class RuleRunner:
    """Runs rules for events until stop(); several may run side by side.

    on_after_commit: called with the batch's BatchResult after each commit
    (the dispatchers use it to learn about new HTTP requests and exports).
    """

    def __init__(
        self,
        pool: Pool,
        sandbox: SandboxPool,
        node: str,
        *,
        batch: int = BATCH,
        poll_interval_s: float = POLL_INTERVAL_S,
        limits: Limits | None = None,
        on_after_commit: Callable[[BatchResult], None] | None = None,
    ) -> None:
        self.pool = pool
        self.sandbox = sandbox
        self.node = node
        self.batch = batch
        self.poll_interval_s = poll_interval_s
        self.limits = limits
        self.on_after_commit = on_after_commit
        self.wake = asyncio.Event()
        self._rules: list[Rule] | None = None
        self._polls: dict[str, tuple[float, dict[str, Any]]] = {}
        self._stopping = False

    def rules_changed(self, _payload: str = "") -> None:
        self._rules = None

    def notify(self, _payload: str = "") -> None:
        self.wake.set()

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self.wake.clear()
            try:
                result = await self.process_batch()
            except Exception:
                log.exception("rule runner batch failed; retrying")
                result = BatchResult()
                await asyncio.sleep(self.poll_interval_s)
            if result.events == 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.poll_interval_s)

    async def process_batch(self) -> BatchResult:
        """One transaction: claim, run, apply, mark done. Returns what it did."""
        result = BatchResult()
        async with self.pool.connection() as conn, conn.transaction():
            events = await (await conn.execute(RUNNER_QUERIES["claim_events"], {"limit": self.batch})).fetchall()
            if not events:
                return result
            rules = await self._load_rules(conn)
            inputs = {
                e["id"]: (event_for_rules(e), message_for_rules(e["message"]) if e["message"] else None) for e in events
            }
            first_runs = await self._run_ahead(events, inputs, rules)
            errors: list[str | None] = []
            for event in events:
                message = event["message"]
                errors.append(
                    await self._process_event(conn, event, message, inputs[event["id"]], rules, first_runs, result)
                )
            await conn.execute(
                RUNNER_QUERIES["finish_events"], {"ids": [e["id"] for e in events], "errors": errors, "node": self.node}
            )
            result.events = len(events)
        if self.on_after_commit is not None and (result.http_requests or result.export_writes):
            self.on_after_commit(result)
        return result

    async def _load_rules(self, conn: Conn) -> list[Rule]:
        if self._rules is None:
            rows = await RUNNER_QUERIES.all(conn, "enabled_rules", RuleRow)
            self._rules = [
                Rule(r["id"], r["name"], tuple(r["events"]), r["source"], r["stop_processing"]) for r in rows
            ]
        return self._rules

    async def _run_ahead(
        self, events: list[dict[str, Any]], inputs: dict[int, Inputs], rules: list[Rule]
    ) -> dict[tuple[int, int], RunResult | RuleError | None]:
        """Every rule for every event of the batch, run at once on all workers
        with no lookups answered. A run that needed none is a pure function of
        its input, so its result stands whatever the other events do; the
        rest run again, in order, when their turn comes."""
        pairs = [(e["id"], rule) for e in events for rule in _rules_for(e, rules)]
        outcomes = await self.sandbox.run_many(
            PRELUDE,
            [(rule.source, _rule_input(inputs[event_id], rule)) for event_id, rule in pairs],
            FINISH,
            self.limits,
        )
        return {(event_id, rule.id): settled(o) for (event_id, rule), o in zip(pairs, outcomes, strict=True)}

    async def _process_event(
        self,
        conn: Conn,
        event: Mapping[str, Any],
        message: Mapping[str, Any] | None,
        inputs: Inputs,
        rules: list[Rule],
        first_runs: dict[tuple[int, int], RunResult | RuleError | None],
        result: BatchResult,
    ) -> str | None:
        """Runs the event's rules; returns a summary of failures (or None)."""
        failed: list[str] = []
        for rule in _rules_for(event, rules):
            ctx = Context(rule.id, rule.name, event["id"], message, self._polls)
            RULE_RUNS.labels(rule.name).inc()
            try:
                run = first_runs.get((event["id"], rule.id))
                if isinstance(run, RuleError):
                    raise run
                if run is None:
                    run = await run_rule(
                        self.sandbox, rule.source, _rule_input(inputs, rule), _Lookups(conn, rule.id), self.limits
                    )
                if needs_savepoint(run.actions):
                    async with conn.transaction():  # a savepoint: this rule's actions only
                        applied = await apply_actions(conn, ctx, run.actions)
                else:  # nothing to write, or one statement that guards itself
                    applied = await apply_actions(conn, ctx, run.actions, alone=True)
            except RuleError as exc:
                RULE_FAILURES.labels(rule.name).inc()
                failed.append(f"{rule.name}: {exc}")
                await conn.execute(
                    RUNNER_QUERIES["rule_log"],
{"rule_id": rule.id, "event_id": event["id"], "level": "error", "message": str(exc)}
                )
                continue
            _count(result, applied)
            if applied.stop or rule.stop_processing:
                break
        return "; ".join(failed)[:4000] if failed else None


Inputs = tuple[dict[str, Any], dict[str, Any] | None]  # what rules see: the event, its message


def _rules_for(event: Mapping[str, Any], rules: list[Rule]) -> list[Rule]:
    # an HTTP answer goes to the rule that asked, whatever events it lists
    if event["type"] == "http_response":
        return [r for r in rules if r.id == event["payload"].get("rule_id")]
    return [r for r in rules if event["type"] in r.events]


def _rule_input(inputs: Inputs, rule: Rule) -> dict[str, Any]:
    event, message = inputs
    return {"event": event, "message": message, "rule": {"id": rule.id, "name": rule.name}}


def _count(result: BatchResult, applied: Applied) -> None:
    result.http_requests += applied.http_requests
    result.export_writes += applied.export_writes


class _Lookups:
    """Answers a rule's lookups from the database, in the runner's transaction."""

    def __init__(self, conn: Conn, rule_id: int) -> None:
        self.conn = conn
        self.rule_id = rule_id

    async def __call__(self, kind: str, args: dict[str, Any]) -> Any:
        if kind == "state.get":
            row = await (await self.conn.execute(RUNNER_QUERIES["state_get"],
                                                 {"rule_id": self.rule_id, **args})).fetchone()
            return None if row is None else row["value"]
        if kind == "contacts.find":
            params = {k: args.get(k) if isinstance(args.get(k), str) else None for k in ("phone", "email", "name")}
            rows = await (await self.conn.execute(RUNNER_QUERIES["contacts_find"], params)).fetchall()
            return [dict(r) for r in rows]
        if kind == "lists.members":
            rows = await (await self.conn.execute(RUNNER_QUERIES["list_members"], args)).fetchall()
            return [dict(r) for r in rows]
        raise RuleError(f"unknown lookup {kind!r}")


def _iso(value: datetime | str | None) -> str | None:
    # timestamps come as datetimes, or as ISO text inside JSON
    return value.isoformat() if isinstance(value, datetime) else value


def event_for_rules(event: Mapping[str, Any]) -> dict[str, Any]:
    """The `event` object a rule sees."""
    out: dict[str, Any] = {
        "id": event["id"],
        "type": event["type"],
        "created_at": _iso(event["created_at"]),
        "payload": event["payload"],
        "connection": None,
    }
    if event.get("connection_id") is not None:
        out["connection"] = {
            "id": event["connection_id"],
            "name": event["connection_name"],
            "kind": event["connection_kind"],
        }
    return out


def message_for_rules(m: Mapping[str, Any]) -> dict[str, Any]:
    """The `message` object a rule sees (docs/RULES.md lists its fields)."""
    return {
        "id": m["id"],
        "channel": m["channel"],
        "direction": m["direction"],
        "sender": m["sender"],
        "recipients": list(m["recipients"]),
        "subject": m["subject"],
        "text": m["body"],
        "parts": m["parts"],
        "status": m["status"],
        "created_at": _iso(m["created_at"]),
        "status_at": _iso(m["status_at"]),
        "folder": m["folder"],
        "connection": None
        if m["connection_id"] is None
        else {"id": m["connection_id"], "name": m["connection_name"], "kind": m["connection_kind"]},
        "failure": None
        if m["failure_code"] is None and m["failure_reason"] is None
        else {"code": m["failure_code"], "reason": m["failure_reason"]},
        "correlation_id": m["correlation_id"],
        "segments": m["segments"],
        # e-mail only: headers, Message-ID, In-Reply-To, References, cc, notes, attachment names
        "email": (m.get("meta") or {}).get("email") if m["channel"] == "email" else None,
    }
