"""Poll results: a live bar chart, and a full-screen presentation mode
readable from the back of a hall. Counts come from hub.poll_results and
update over the live stream (msghub/web/live.py) as votes arrive."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from msghub.web.common import WEB_QUERIES, not_found, render, require_user, user_tx
from msghub.web.security import SessionUser


@require_user
async def poll_list(request: Request, user: SessionUser) -> Response:
    async with user_tx(request) as conn:
        polls = await (await conn.execute(WEB_QUERIES["poll_list"])).fetchall()
    return render(request, "polls.html", {"polls": polls})


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
    return render(request, "poll.html", {"poll": poll, "results": results, "total": total, "present": present})


routes: list[BaseRoute] = [
    Route("/polls", poll_list),
    Route("/polls/{poll_id:int}", poll_chart),
    Route("/polls/{poll_id:int}/present", poll_chart),
]
