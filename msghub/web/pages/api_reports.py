"""Poll results and statistics over the API (docs/API.md), scope ``read``:
the polls the key's user sees with their counts per option, and the
message counts per day (hub.stats_by_connection_day, hub.stats_by_user_day)
that the statistics page shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from msghub.web.api_fields import Field, Operation, answer, jsonable, not_found, routes_of
from msghub.web.common import as_user, pool_of
from msghub.web.pages.api import ApiFailure, ApiKey
from msghub.web.queries import API_QUERIES

MAX_STATS_DAYS = 366
DEFAULT_STATS_DAYS = 30
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
POLL_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"}, "name": {"type": "string"}, "question": {"type": "string"},
    "opens_at": _TIME_OR_NULL, "closes_at": _TIME_OR_NULL, "votes": {"type": "integer"}}
POLL = {"type": "object", "properties": POLL_PROPERTIES}
OPTION = {"type": "object", "properties": {
    "option_id": {"type": "integer"}, "position": {"type": "integer"}, "label": {"type": "string"},
    "votes": {"type": "integer"}, "percent": {"type": "number", "description": "of the poll's votes, 0 to 100"}}}
_COUNT = {"type": "integer"}
STATS_ROW = {"type": "object", "properties": {
    "day": {"type": "string", "format": "date"}, "connection": {"type": "string"}, "username": {"type": "string"},
    "channel": {"type": "string"}, "direction": {"type": "string", "enum": ["in", "out"]},
    **{name: _COUNT for name in ("messages", "segments", "sent", "delivered", "failed", "pending", "received")}}}


async def polls(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    async with as_user(pool_of(request), key.user_id) as conn:
        rows = await (await conn.execute(API_QUERIES["polls_all"])).fetchall()
    return answer({"polls": [jsonable(r) for r in rows]})


async def poll_results(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    params = {"id": args["poll_id"]}
    async with as_user(pool_of(request), key.user_id) as conn:
        poll = await (await conn.execute(API_QUERIES["poll"], params)).fetchone()
        if poll is None:
            raise not_found("poll")
        options = await (await conn.execute(API_QUERIES["poll_results"], params)).fetchall()
    return answer({**jsonable(poll), "votes": sum(o["votes"] for o in options),
                   "options": [jsonable(o) for o in options]})


async def stats(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    last: date = args["to"] or datetime.now(UTC).date()
    first: date = args["from"] or last - timedelta(days=DEFAULT_STATS_DAYS - 1)
    if first > last:
        raise ApiFailure(400, "invalid", "from must not be after to", "from")
    if (last - first).days >= MAX_STATS_DAYS:
        raise ApiFailure(400, "invalid", f"at most {MAX_STATS_DAYS} days at once", "from")
    query = "stats_by_user" if args["by"] == "user" else "stats_by_connection"
    async with as_user(pool_of(request), key.user_id) as conn:
        rows = await (await conn.execute(API_QUERIES[query], {"from": first, "to": last})).fetchall()
    return answer({"from": first.isoformat(), "to": last.isoformat(), "by": args["by"],
                   "rows": [jsonable(r) for r in rows]})


OPERATIONS = (
    Operation("GET", "/api/v1/polls", "listPolls", "the polls the key's user sees, with their vote counts (scope read)",
              "read", polls, answer={"type": "object", "properties": {"polls": {"type": "array", "items": POLL}}}),
    Operation("GET", "/api/v1/polls/{poll_id:int}/results", "pollResults",
              "a poll's votes per option, zero included (scope read)", "read", poll_results,
              answer={"type": "object", "properties": {**POLL_PROPERTIES,
                                                       "options": {"type": "array", "items": OPTION}}}),
    Operation("GET", "/api/v1/stats", "stats", "messages and SMS parts per day, UTC (scope read)", "read", stats,
              query=(Field("from", "date", f"the first day (default: {DEFAULT_STATS_DAYS} days before to)",
                           max_length=10),
                     Field("to", "date", "the last day (default: today)", max_length=10),
                     Field("by", "string", "connection: per connection and direction; user: per user, channel "
                           "and direction (others than admins see only their own)", enum=("connection", "user"),
                           default="connection")),
              answer={"type": "object", "properties": {
                  "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                  "by": {"type": "string"}, "rows": {"type": "array", "items": STATS_ROW}}}),
)

routes: list[BaseRoute] = routes_of(OPERATIONS)
