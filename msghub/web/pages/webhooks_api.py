"""Webhooks of an API key's owner: ``GET``/``POST /api/v1/webhooks``,
``DELETE /api/v1/webhooks/{id}`` (docs/API.md). A key with the ``read``
scope registers URLs for its user's messages; the secret that signs the
calls is shown once, in the answer to the POST. Webhooks for every message
and connection, or allowed to reach private addresses, are an
administrator's (``msghub webhook add``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.gateway.webhooks import EVENTS, new_secret
from msghub.rules.http_fetch import url_problem
from msghub.web.common import pool_of
from msghub.web.pages.api import ApiFailure, authenticate

MAX_BODY_BYTES = 16 * 1024
MAX_URL = 2000


def _json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def webhook_params(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiFailure(400, "invalid_json", "The body must be a JSON object.")
    unknown = sorted(set(body) - {"url", "events"})
    if unknown:
        raise ApiFailure(400, "unknown_field", f"Unknown field {unknown[0]!r}; give url and events.", unknown[0])
    url = body.get("url")
    if not isinstance(url, str) or len(url) > MAX_URL or url_problem(url) is not None:
        raise ApiFailure(400, "invalid", f"url must be an http or https URL of at most {MAX_URL} characters", "url")
    events = body.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) and e in EVENTS for e in events):
        raise ApiFailure(400, "invalid", f"events must be a non-empty list of: {', '.join(EVENTS)}", "events")
    return {"url": url, "events": sorted(set(events))}


async def webhooks(request: Request) -> Response:
    try:
        key = await authenticate(request, "read")
        if request.method == "GET":
            async with pool_of(request).connection() as conn:
                rows = await (await conn.execute(GATEWAY_QUERIES["webhooks_of"],
                                                 {"owner_user_id": key.user_id})).fetchall()
            return JSONResponse({"webhooks": [_json(r) for r in rows]})
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ApiFailure(413, "too_large", f"The request is larger than {MAX_BODY_BYTES} bytes.")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiFailure(400, "invalid_json", f"The body is not valid JSON: {exc}") from None
        params = webhook_params(body)
        secret = new_secret()
        async with pool_of(request).connection() as conn:
            row = await (await conn.execute(GATEWAY_QUERIES["webhook_insert"], {
                **params, "secret": secret, "owner_user_id": key.user_id, "allow_private": False})).fetchone()
        assert row is not None
        return JSONResponse({"id": row["id"], **params, "secret": secret}, status_code=201)
    except ApiFailure as failure:
        return failure.response()


async def delete_webhook(request: Request) -> Response:
    try:
        key = await authenticate(request, "read")
        async with pool_of(request).connection() as conn:
            row = await (await conn.execute(GATEWAY_QUERIES["webhook_delete"], {
                "id": int(request.path_params["webhook_id"]), "owner_user_id": key.user_id})).fetchone()
        if row is None:
            raise ApiFailure(404, "not_found", "No such webhook of this key's user.")
    except ApiFailure as failure:
        return failure.response()
    return Response(status_code=204)


routes: list[BaseRoute] = [
    Route("/api/v1/webhooks", webhooks, methods=["GET", "POST"]),
    Route("/api/v1/webhooks/{webhook_id:int}", delete_webhook, methods=["DELETE"]),
]
