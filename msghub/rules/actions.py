"""Applying a rule's actions to the database, inside the runner's transaction.

Everything here runs in the transaction that marks the event done, so the
actions and the event's "done" commit together or not at all. What must
happen after the commit (HTTP calls, writes to external databases) is only
written down here, as rows the dispatchers pick up.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from msghub.hub.db import Row
from msghub.rules.api import RuleActionError
from msghub.rules.keywords import match_keyword
from msghub.rules.queries import RUNNER_QUERIES

Conn = psycopg.AsyncConnection[Row]

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
MAX_HTTP_TIMEOUT_S = 30.0


@dataclass(slots=True)
class Applied:
    """What a rule's actions did that the runner needs to know afterwards."""

    stop: bool = False
    alone: bool = False  # no savepoint around these actions: see needs_savepoint
    http_requests: int = 0
    export_writes: int = 0
    http_asked: int = 0  # http.request() calls of the run, withheld ones included
    withheld: set[str] = field(default_factory=set)  # the limits that withheld actions (logged once each)


@dataclass(frozen=True, slots=True)
class Context:
    rule_id: int
    rule_name: str
    event_id: int
    message: Mapping[str, Any] | None  # the row from event_messages
    # the runner's cache of polls by name: (when read, row)
    polls: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)


def needs_savepoint(actions: list[dict[str, Any]]) -> bool:
    """Whether a rule's actions need the runner's savepoint to be undone
    together: not when they write nothing, nor when they are one poll vote,
    which runs in a subtransaction of its own (apply_actions(alone=True))."""
    writes = [a for a in actions if a["type"] != "stop"]
    return not (not writes or (len(writes) == 1 and writes[0]["type"] == "poll.vote"))


async def apply_actions(conn: Conn, ctx: Context, actions: list[dict[str, Any]], *, alone: bool = False) -> Applied:
    """Applies the actions in order. alone: no savepoint surrounds them
    (needs_savepoint said none is needed)."""
    applied = Applied(alone=alone)
    for n, action in enumerate(actions, 1):
        handler = _HANDLERS[action["type"]]
        try:
            await handler(conn, ctx, action, applied)
        except RuleActionError as exc:
            raise RuleActionError(f"action {n} ({action['type']}): {exc}") from None
        except psycopg.Error as exc:
            # the database's own words (an outbox refusal names the column)
            text = (exc.diag.message_primary or str(exc)).strip()
            raise RuleActionError(f"action {n} ({action['type']}): {text}") from None
    return applied


def _message(ctx: Context, what: str) -> Mapping[str, Any]:
    if ctx.message is None:
        raise RuleActionError(f"{what} needs a message, and this event has none")
    return ctx.message


def _opt_text(action: Mapping[str, Any], key: str) -> str | None:
    value = action.get(key)
    if value is not None and not isinstance(value, str):
        raise RuleActionError(f"{key} must be a string")
    return value


def _correlation(ctx: Context) -> str:
    """What a rule's messages carry in correlation_id: rule and event."""
    return f"rule:{ctx.rule_name}:event:{ctx.event_id}"


def _attachments(action: Mapping[str, Any]) -> Jsonb | None:
    attachments = action.get("attachments")
    if attachments is not None and not isinstance(attachments, list):
        raise RuleActionError("attachments must be a list of {filename, content_type, data (base64)}")
    html = action.get("html")
    if html is not None:
        if not isinstance(html, str):
            raise RuleActionError("html must be a string (the e-mail's HTML body)")
        # an unnamed text/html part is an e-mail's HTML body (msghub/connectors/smtp)
        body = {"content_type": "text/html", "data": base64.b64encode(html.encode("utf-8")).decode("ascii")}
        attachments = [body, *(attachments or [])]
    return Jsonb(attachments) if attachments else None


async def _queue(conn: Conn, ctx: Context, applied: Applied, **fields: Any) -> None:
    priority = fields.pop("priority", None)
    params = {
        "recipient": None,
        "recipients": None,
        "list": None,
        "subject": None,
        "connection": None,
        "send_at": None,
        "valid_until": None,
        "created_by": None,
        "owner_group_id": None,
        **fields,
        "attachments": _attachments(fields),
        "delivery_report": bool(fields.get("delivery_report", False)),
        "priority": 1 if priority is None else priority,
        "correlation_id": _correlation(ctx),
    }
    await conn.execute(RUNNER_QUERIES["outbox_insert"], params)


async def _reply(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    """An automatic answer (hub.auto_reply_v1: link, owners, subject, the
    hourly limit per address are the database's, shared with poll replies)."""
    m = _message(ctx, "reply()")
    if m["direction"] != "in":
        raise RuleActionError("reply() answers received messages; use send() for others")
    cur = await conn.execute(
        RUNNER_QUERIES["auto_reply"],
        {
            "message_id": m["id"],
            "text": _opt_text(action, "text"),
            "channel": _opt_text(action, "channel"),
            "subject": _opt_text(action, "subject"),
            "attachments": _attachments(action),
            "delivery_report": bool(action.get("delivery_report", False)),
            "priority": action.get("priority"),
            "correlation_id": _correlation(ctx),
        },
    )
    row = await cur.fetchone()
    if row is not None and row["id"] is not None:
        return
    await conn.execute(
        RUNNER_QUERIES["rule_log"],
        {
            "rule_id": ctx.rule_id,
            "event_id": ctx.event_id,
            "level": "warn",
            "message": f"reply to {m['sender']} withheld: the address had"
            " auto_reply_limit_per_hour automatic answers this hour",
        },
    )


async def _send(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    if await _send_chain_full(conn, ctx, applied):
        return
    to = action.get("to")
    recipient, recipients = None, None
    if isinstance(to, str):
        recipient = to
    elif isinstance(to, list) and all(isinstance(t, str) for t in to):
        recipients = to
    elif to is not None:
        raise RuleActionError("to must be an address or a list of addresses")
    await _queue(
        conn,
        ctx,
        applied,
        channel=action.get("channel") or "sms",
        recipient=recipient,
        recipients=recipients,
        list=_opt_text(action, "list"),
        subject=_opt_text(action, "subject"),
        text=_opt_text(action, "text"),
        attachments=action.get("attachments"),
        html=action.get("html"),
        connection=_opt_text(action, "connection"),
        send_at=_opt_text(action, "send_at"),
        valid_until=_opt_text(action, "valid_until"),
        delivery_report=action.get("delivery_report", False),
        priority=action.get("priority"),
    )


async def _send_chain_full(conn: Conn, ctx: Context, applied: Applied) -> bool:
    """Whether the event's message ends a chain of rule_send_chain_depth
    messages rules sent, each for an event of the one before (logged once
    per run). Only rule-sent messages are looked at: their correlation_id
    names the event they were sent for."""
    correlation = (ctx.message or {}).get("correlation_id")
    if not isinstance(correlation, str) or not correlation.startswith("rule:"):
        return False
    row = await (await conn.execute(RUNNER_QUERIES["send_chain_full"], {"correlation_id": correlation})).fetchone()
    if not (row and row["full"]):
        return False
    if "rule_send_chain_depth" not in applied.withheld:
        applied.withheld.add("rule_send_chain_depth")
        await conn.execute(
            RUNNER_QUERIES["rule_log"],
            {
                "rule_id": ctx.rule_id,
                "event_id": ctx.event_id,
                "level": "warn",
                "message": "send() withheld: the message this event is about ends a chain of"
                " rule_send_chain_depth messages rules sent for each other's events"
                " (later ones of this run too, without another warning)",
            },
        )
    return True


async def _move(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    m = _message(ctx, "move()")
    name = action["folder"].strip()
    if not name:
        raise RuleActionError("the folder name is empty")
    # folders belong to whoever owns the message, so its owners see it
    owner = {"name": name, "owner_user_id": m["owner_user_id"], "owner_group_id": m["owner_group_id"]}
    row = await (await conn.execute(RUNNER_QUERIES["folder_find"], owner)).fetchone()
    if row is None:
        row = await (await conn.execute(RUNNER_QUERIES["folder_create"], owner)).fetchone()
    assert row is not None
    await conn.execute(RUNNER_QUERIES["message_move"], {"folder_id": row["id"], "message_id": m["id"]})


async def _assign(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    m = _message(ctx, "assign()")
    user, group = action.get("user"), action.get("group")
    if user and group:
        raise RuleActionError("assign to a user or to a group, not both")
    user_id = group_id = None
    if user:
        user_id = await _id_by_name(conn, "user_by_name", user, "user")
    if group:
        group_id = await _id_by_name(conn, "group_by_name", group, "group")
    await conn.execute(
        RUNNER_QUERIES["assign"],
        {"message_id": m["id"], "user_id": user_id, "group_id": group_id, "actor": f"rule {ctx.rule_name}"},
    )


async def _id_by_name(conn: Conn, query: str, name: Any, what: str) -> int:
    if not isinstance(name, str):
        raise RuleActionError(f"the {what} must be named by a string")
    row = await (await conn.execute(RUNNER_QUERIES[query], {"name": name})).fetchone()
    if row is None:
        raise RuleActionError(f"no {what} named {name!r}")
    return int(row["id"])


async def _contact_id(conn: Conn, fields: Mapping[str, Any], create: bool) -> int:
    """An existing contact with the same phone or e-mail, or a new one."""
    phone = fields.get("phone")
    if phone is not None:
        if not isinstance(phone, str):
            raise RuleActionError("phone must be a string")
        normalized = (await (await conn.execute(RUNNER_QUERIES["normalize_phone"],
                                                {"phone": phone})).fetchone() or {}).get("phone")
        if normalized is None:
            raise RuleActionError(f"malformed phone number {phone!r}")
        phone = normalized
    email = _opt_text(fields, "email")
    if phone is None and email is None:
        if isinstance(fields.get("contact_id"), int):
            return int(fields["contact_id"])
        raise RuleActionError("a contact needs a phone or an e-mail address")
    row = await (await conn.execute(RUNNER_QUERIES["contact_find_exact"], {"phone": phone, "email": email})).fetchone()
    if row is not None:
        return int(row["id"])
    if not create:
        raise RuleActionError("no such contact")
    made = await conn.execute(
        RUNNER_QUERIES["contact_create"],
        {
            "name": _opt_text(fields, "name") or "",
            "phone": phone,
            "email": email,
            "notes": _opt_text(fields, "notes") or "",
        },
    )
    row = await made.fetchone()
    assert row is not None
    return int(row["id"])


async def _add_to_list(conn: Conn, list_name: Any, contact_id: int) -> None:
    if not isinstance(list_name, str) or not list_name.strip():
        raise RuleActionError("a list is named by a non-empty string")
    row = await (await conn.execute(RUNNER_QUERIES["list_find_or_create"], {"name": list_name})).fetchone()
    assert row is not None
    await conn.execute(RUNNER_QUERIES["list_add_member"], {"list_id": row["id"], "contact_id": contact_id})


async def _contact_create(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    contact_id = await _contact_id(conn, action, create=True)
    lists = action.get("lists") or []
    if not isinstance(lists, list):
        raise RuleActionError("lists must be a list of list names")
    for name in lists:
        await _add_to_list(conn, name, contact_id)


async def _list_add(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    await _add_to_list(conn, action["list"], await _contact_id(conn, action["member"], create=True))


async def _http(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    url = action["url"]
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise RuleActionError("url must be an http:// or https:// address")
    method = str(action.get("method") or "GET").upper()
    if method not in HTTP_METHODS:
        raise RuleActionError(f"unknown method {method!r} (use {', '.join(sorted(HTTP_METHODS))})")
    headers = action.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise RuleActionError("headers must be an object of strings")
    body = action.get("body")
    if "json" in action:
        body = json.dumps(action["json"])
        headers = {"Content-Type": "application/json", **headers}
    elif body is not None and not isinstance(body, str):
        raise RuleActionError("body must be a string (or use json)")
    timeout = action.get("timeout", 10)
    if not isinstance(timeout, int | float) or not 0 < timeout <= MAX_HTTP_TIMEOUT_S:
        raise RuleActionError(f"timeout must be between 0 and {MAX_HTTP_TIMEOUT_S:g} seconds")
    applied.http_asked += 1
    cur = await conn.execute(
        RUNNER_QUERIES["http_request"],
        {
            "rule_id": ctx.rule_id,
            "event_id": ctx.event_id,
            "message_id": ctx.message["id"] if ctx.message else None,
            "method": method,
            "url": url,
            "headers": Jsonb(headers),
            "body": body,
            "timeout_s": timeout,
            "context": Jsonb(action.get("context")),
            "nth": applied.http_asked,
        },
    )
    row = await cur.fetchone()
    limit = None if row is None else row["withheld"]
    if limit is None:
        applied.http_requests += 1
        return
    if limit not in applied.withheld:  # one warning per limit and run, however many calls it stops
        applied.withheld.add(limit)
        await conn.execute(
            RUNNER_QUERIES["rule_log"],
            {
                "rule_id": ctx.rule_id,
                "event_id": ctx.event_id,
                "level": "warn",
                "message": f"http.request() to {url[:200]} withheld: {_WITHHELD[limit]}"
                " (later ones of this run too, without another warning)",
            },
        )


_WITHHELD = {
    "rule_http_per_event": "the rule made rule_http_per_event requests for this event",
    "rule_http_per_minute": "the rule made rule_http_per_minute requests this minute",
    "rule_http_chain_depth": "the answer it runs for ends a chain of rule_http_chain_depth requests made on answers",
}


async def _sql_insert(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    name = action["table"]
    export = await (await conn.execute(RUNNER_QUERIES["export_table"], {"name": name})).fetchone()
    if export is None:
        raise RuleActionError(f"{name!r} is not an export table an administrator has allowed")
    row = action["row"]
    allowed = export["columns"]
    if allowed is not None:
        unknown = sorted(set(row) - set(allowed))
        if unknown:
            raise RuleActionError(f"column {', '.join(unknown)} may not be written (allowed: {', '.join(allowed)})")
    if export["database_url"] is None:
        from msghub.rules.exports import insert_local

        try:
            await insert_local(conn, export, row)
        except ValueError as exc:
            raise RuleActionError(str(exc)) from None
    else:
        await conn.execute(RUNNER_QUERIES["export_write_insert"],
                           {"name": name, "rule_id": ctx.rule_id, "row": Jsonb(row)})
        applied.export_writes += 1


async def _state_set(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    await conn.execute(RUNNER_QUERIES["state_set"],
                       {"rule_id": ctx.rule_id, "key": action["key"], "value": Jsonb(action["value"])})


async def _state_incr(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    await conn.execute(RUNNER_QUERIES["state_incr"], {"rule_id": ctx.rule_id, "key": action["key"], "by": action["by"]})


async def _state_add(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    await conn.execute(
        RUNNER_QUERIES["state_add"],
{"rule_id": ctx.rule_id, "key": action["key"], "member": json.dumps(action["member"])}
    )


async def _state_delete(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    await conn.execute(RUNNER_QUERIES["state_delete"], {"rule_id": ctx.rule_id, "key": action["key"]})


async def _log(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    level = action["level"] if action["level"] in ("info", "warn", "error") else "info"
    await conn.execute(
        RUNNER_QUERIES["rule_log"],
        {"rule_id": ctx.rule_id, "event_id": ctx.event_id, "level": level, "message": str(action["message"])[:4000]},
    )


async def _poll_vote(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    m = _message(ctx, "poll.vote()")
    poll = await _poll(conn, ctx, action["poll"])
    if poll is None:
        raise RuleActionError(f"no poll named {action['poll']!r}")
    text = action.get("text", m["body"])
    option_id = match_option(poll["options"], text)
    # the vote and the poll's answer to it, queued like reply() would
    cur = await conn.execute(
        RUNNER_QUERIES["poll_vote_alone" if applied.alone else "poll_vote"],
        {"poll_id": poll["id"], "option_id": option_id, "message_id": m["id"], "correlation_id": _correlation(ctx)},
    )
    outcome = await cur.fetchone()
    assert outcome is not None
    if outcome.get("error"):
        raise RuleActionError(outcome["error"])


# Poll options by name, kept for a moment by each runner: a vote costs a
# round trip less, and an edited poll is seen within POLL_CACHE_S (opening
# times are checked by the database at every vote, not here).
POLL_CACHE_S = 2.0


async def _poll(conn: Conn, ctx: Context, name: str) -> dict[str, Any] | None:
    now = time.monotonic()
    cached = ctx.polls.get(name)
    if cached is not None and now - cached[0] < POLL_CACHE_S:
        return cached[1]
    row = await (await conn.execute(RUNNER_QUERIES["poll_by_name"], {"name": name})).fetchone()
    if row is not None:
        if len(ctx.polls) > 1000:
            ctx.polls.clear()
        ctx.polls[name] = (now, row)
    return row


def match_option(options: list[dict[str, Any]], text: str) -> int | None:
    """The option whose keyword the text means, or None (none, or ambiguous)."""
    owner: dict[str, int] = {}
    for option in options:
        for keyword in option["keywords"]:
            owner.setdefault(keyword, option["id"])
    found = match_keyword(text or "", owner)
    return None if found is None else owner[found]


async def _stop(conn: Conn, ctx: Context, action: dict[str, Any], applied: Applied) -> None:
    applied.stop = True


_HANDLERS = {
    "reply": _reply,
    "send": _send,
    "move": _move,
    "assign": _assign,
    "stop": _stop,
    "contact.create": _contact_create,
    "list.add": _list_add,
    "http": _http,
    "sql.insert": _sql_insert,
    "state.set": _state_set,
    "state.incr": _state_incr,
    "state.add": _state_add,
    "state.delete": _state_delete,
    "log": _log,
    "poll.vote": _poll_vote,
}
