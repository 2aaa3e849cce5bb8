"""Progress of a send to many: "6,000 messages queued", then how many have
left, for the banner of the outbox page (folder.html, outbox.js polls the
JSON while messages wait)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.web.common import not_found, require_user, user_tx
from msghub.web.queries import WEB_QUERIES
from msghub.web.security import SessionUser


async def progress_of(request: Request, outbox_id: int) -> dict[str, Any] | None:
    """The counts of one outbox row's messages the user sees, or None."""
    async with user_tx(request) as conn:
        row = await (await conn.execute(WEB_QUERIES["outbox_progress"], {"id": outbox_id})).fetchone()
    if row is None or not row["total"]:
        return None
    first = row["first_send_at"]
    return {
        "id": outbox_id,
        "total": row["total"],
        "waiting": row["waiting"],
        "sent": row["sent"],
        "failed": row["failed"],
        "first_send_at": first.isoformat() if first else None,
    }


async def queued_banner(request: Request) -> dict[str, Any] | None:
    """The outbox page's banner when it was reached from a send (?queued=<outbox id>)."""
    raw = request.query_params.get("queued", "")
    return await progress_of(request, int(raw)) if raw.isdigit() and len(raw) < 19 else None


@require_user
async def progress(request: Request, user: SessionUser) -> Response:
    found = await progress_of(request, request.path_params["id"])
    return JSONResponse(found) if found else not_found(request)


routes: list[BaseRoute] = [Route("/outbox/{id:int}/progress", progress)]
