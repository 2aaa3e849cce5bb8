"""What became of what a program sent (docs/API.md): its messages found by
correlation id or idempotency key (``GET /api/v1/status``), and one
message's SMS parts and delivery reports
(``GET /api/v1/messages/{id}/reports``). Both run as the key's user."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from msghub.web.api_fields import AFTER, Field, Operation, answer, jsonable, limit_field, not_found, routes_of
from msghub.web.common import as_user, pool_of
from msghub.web.pages.api import ApiFailure, ApiKey
from msghub.web.queries import API_QUERIES

MAX_PAGE = 500
_TEXT = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
STATUS_ROW = {"type": "object", "properties": {
    "id": {"type": "integer"}, "outbox_id": {"type": ["integer", "null"]}, "idempotency_key": _TEXT,
    "correlation_id": _TEXT, "channel": {"type": "string"}, "connection": _TEXT, "recipient": _TEXT,
    "status": {"type": "string", "enum": ["queued", "sending", "sent", "delivered", "failed"]},
    "status_at": _TIME, "attempts": {"type": "integer"}, "segments": {"type": ["integer", "null"]},
    "failure_code": _TEXT, "failure_reason": _TEXT, "possible_duplicate": {"type": "boolean"},
    "send_at": _TEXT, "valid_until": _TEXT, "created_at": _TIME}}


async def status(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    if (args["correlation_id"] is None) == (args["idempotency_key"] is None):
        raise ApiFailure(400, "invalid", "give correlation_id or idempotency_key (one of them)", "correlation_id")
    async with as_user(pool_of(request), key.user_id) as conn:
        rows = await (await conn.execute(API_QUERIES["status_by_reference"], args)).fetchall()
    return answer({"messages": [jsonable(r) for r in rows],
                   "next_after": rows[-1]["id"] if len(rows) == args["limit"] else None})


async def reports(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    params = {"id": args["message_id"]}
    async with as_user(pool_of(request), key.user_id) as conn:
        message = await (await conn.execute(API_QUERIES["message_visible"], params)).fetchone()
        if message is None:
            raise not_found("message")
        segments = await (await conn.execute(API_QUERIES["message_segments"], params)).fetchall()
        received = await (await conn.execute(API_QUERIES["message_reports"], params)).fetchall()
    return answer({"message_id": message["id"], "status": message["status"],
                   "segments": [jsonable(s) for s in segments], "reports": [jsonable(r) for r in received]})


OPERATIONS = (
    Operation("GET", "/api/v1/status", "status", "the messages of a correlation id or an idempotency key (scope read)",
              "read", status, query=(
                  Field("correlation_id", "string", "the correlation_id given when sending", max_length=200),
                  Field("idempotency_key", "string", "the idempotency_key of the send request", max_length=200),
                  AFTER, limit_field(100, MAX_PAGE)),
              answer={"type": "object", "properties": {"messages": {"type": "array", "items": STATUS_ROW},
                                                       "next_after": {"type": ["integer", "null"]}}}),
    Operation("GET", "/api/v1/messages/{message_id:int}/reports", "reports",
              "a message's SMS parts and the delivery reports received for it (scope read)", "read", reports,
              answer={"type": "object", "properties": {
                  "message_id": {"type": "integer"}, "status": {"type": "string"},
                  "segments": {"type": "array", "items": {"type": "object", "properties": {
                      "seq": {"type": "integer"}, "total": {"type": "integer"}, "operator_ref": _TEXT,
                      "status": {"type": "string", "enum": ["sent", "buffered", "delivered", "failed"]},
                      "status_at": _TIME, "reason": _TEXT}}},
                  "reports": {"type": "array", "items": {"type": "object", "properties": {
                      "id": {"type": "integer"}, "status": {"type": "string", "enum": ["buffered", "delivered",
                                                                                       "failed"]},
                      "reason": _TEXT, "operator_ref": {"type": "string"}, "reported_at": _TIME}}}}}),
)

routes: list[BaseRoute] = routes_of(OPERATIONS)
