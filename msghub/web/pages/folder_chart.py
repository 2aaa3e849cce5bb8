"""Charts by folder (issue 18, item 5): the messages received in a time
window by the folder rules sorted them into, as the poll chart's bars, with
the same full-screen presentation mode; the page asks for new counts every
few seconds (folder_chart.js)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.web.common import render, require_user, user_tx
from msghub.web.queries import WEB_QUERIES
from msghub.web.security import SessionUser

# the windows offered, in hours, and their names
WINDOWS = {1: "the last hour", 24: "the last 24 hours", 168: "the last 7 days", 720: "the last 30 days"}
DEFAULT_WINDOW_H = 24


def window_of(request: Request) -> int:
    raw = request.query_params.get("hours", "")
    return int(raw) if raw.isdigit() and int(raw) in WINDOWS else DEFAULT_WINDOW_H


async def chart_data(request: Request, hours: int) -> dict[str, Any]:
    async with user_tx(request) as conn:
        rows = await (await conn.execute(WEB_QUERIES["folder_chart"], {"hours": hours})).fetchall()
    total = sum(int(r["messages"]) for r in rows)
    bars = [
        {
            "label": r["label"],
            "key": f"folder:{r['folder_id']}" if r["folder_id"] else "inbox",
            "messages": int(r["messages"]),
            "percent": round(100.0 * int(r["messages"]) / total, 1) if total else 0.0,
        }
        for r in rows
    ]
    return {"hours": hours, "total": total, "bars": bars}


async def _page(request: Request, present: bool) -> Response:
    hours = window_of(request)
    data = await chart_data(request, hours)
    return render(
        request, "folder_chart.html", {**data, "windows": WINDOWS, "window_name": WINDOWS[hours], "present": present}
    )


@require_user
async def folder_chart(request: Request, user: SessionUser) -> Response:
    return await _page(request, present=False)


@require_user
async def folder_chart_present(request: Request, user: SessionUser) -> Response:
    return await _page(request, present=True)


@require_user
async def folder_chart_json(request: Request, user: SessionUser) -> Response:
    return JSONResponse(await chart_data(request, window_of(request)))


routes: list[BaseRoute] = [
    Route("/stats/folders", folder_chart),
    Route("/stats/folders/present", folder_chart_present),
    Route("/stats/folders.json", folder_chart_json),
]
