"""Polls: the list, a live bar chart, a full-screen presentation mode
readable from the back of a hall, and (for admins) creating and closing a
poll. Counts come from hub.poll_results and update over the live stream
(msghub/web/live.py) as votes arrive."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.hub.db import connect
from msghub.rules.polls import Option, PollError, create_poll
from msghub.web.common import (
    check_csrf,
    csrf_failed,
    not_found,
    pool_of,
    read_form,
    render,
    require_role,
    require_user,
    search_terms,
    user_tx,
)
from msghub.web.display import filter_rows
from msghub.web.queries import WEB_QUERIES
from msghub.web.security import SessionUser


@require_user
async def poll_list(request: Request, user: SessionUser) -> Response:
    async with user_tx(request) as conn:
        polls = await (await conn.execute(WEB_QUERIES["poll_list"])).fetchall()
    q = search_terms(request)["q"]
    return render(
        request,
        "polls.html",
        {
            "polls": filter_rows(polls, q, ("name", "question")),
            "q": q,
            "search_action": "/polls",
            "filter_what": "polls",
            "search_placeholder": "Search polls",
        },
    )


async def _poll(request: Request) -> tuple[Any, list[Any], int] | None:
    poll_id = int(request.path_params["poll_id"])
    async with user_tx(request) as conn:
        poll = await (await conn.execute(WEB_QUERIES["poll_visible"], {"id": poll_id})).fetchone()
        if poll is None:
            return None
        results = await (await conn.execute(WEB_QUERIES["poll_results"], {"id": poll_id})).fetchall()
    return poll, results, sum(int(r["votes"]) for r in results)


@require_user
async def poll_chart(request: Request, user: SessionUser) -> Response:
    found = await _poll(request)
    if found is None:
        return not_found(request)
    poll, results, total = found
    present = request.url.path.endswith("/present")
    context = {"poll": poll, "results": results, "total": total, "present": present, "now": datetime.now(UTC)}
    return render(request, "poll.html", context)


BLANK_POLL = {
    "name": "",
    "question": "",
    "options": "",
    "opens_at": "",
    "closes_at": "",
    "one_vote_per_sender": "on",
    "reply_vote": "Thanks! Your vote for {option} counts.",
    "reply_revote": "Changed: your vote now goes to {option}.",
    "reply_closed": "Sorry, voting is closed.",
    "reply_unknown": "",
}


@require_role("admin")
async def poll_new(request: Request, user: SessionUser) -> Response:
    return render(request, "poll_new.html", {"form": BLANK_POLL, "error": None})


@require_role("admin")
async def poll_create(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    values = {key: form.get(key, "").strip() for key in BLANK_POLL}
    values["one_vote_per_sender"] = "on" if form.get("one_vote_per_sender") else ""
    try:
        conninfo = str(pool_of(request).conninfo)
        poll_id = await asyncio.to_thread(_create, conninfo, values)
    except (PollError, ValueError) as exc:
        return render(request, "poll_new.html", {"form": values, "error": str(exc)}, status_code=422)
    return RedirectResponse(f"/polls/{poll_id}", status_code=303)


def _create(conninfo: str, values: dict[str, str]) -> int:
    """Checks the form and creates the poll with its rule (one transaction)."""
    if not values["name"]:
        raise PollError("give the poll a name (people never see it; it names its rule)")
    if not values["question"]:
        raise PollError("give the poll a question")
    options = [Option.parse(line) for line in values["options"].splitlines() if line.strip()]
    with connect(conninfo) as conn:
        try:
            poll_id = create_poll(
                conn,
                values["name"],
                values["question"],
                options,
                opens_at=_when(values["opens_at"], "opens"),
                closes_at=_when(values["closes_at"], "closes"),
                one_vote_per_sender=bool(values["one_vote_per_sender"]),
                reply_vote=values["reply_vote"] or None,
                reply_revote=values["reply_revote"] or None,
                reply_closed=values["reply_closed"] or None,
                reply_unknown=values["reply_unknown"] or None,
            )
        except psycopg.errors.UniqueViolation:
            taken = values["name"]
            raise PollError(f"there is already a poll (or a rule) named {taken!r}: choose another name") from None
        except psycopg.errors.CheckViolation:
            raise PollError("voting must open before it closes") from None
        conn.commit()
    return poll_id


def _when(text: str, what: str) -> datetime | None:
    """A time from the form (UTC unless it names its zone)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise PollError(f"when voting {what}: {text!r} is not a time like 2026-12-24T18:00") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@require_role("admin")
async def poll_close(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    async with user_tx(request) as conn:
        poll_id = int(request.path_params["poll_id"])
        row = await (await conn.execute(WEB_QUERIES["poll_close"], {"id": poll_id})).fetchone()
    if row is None:
        return not_found(request)
    return RedirectResponse(f"/polls/{row['id']}", status_code=303)


routes: list[BaseRoute] = [
    Route("/polls", poll_list),
    Route("/polls/new", poll_new),
    Route("/polls/new", poll_create, methods=["POST"]),
    Route("/polls/{poll_id:int}", poll_chart),
    Route("/polls/{poll_id:int}/present", poll_chart),
    Route("/polls/{poll_id:int}/close", poll_close, methods=["POST"]),
]
