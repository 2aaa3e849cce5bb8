"""Search over every message the user may see (the header's search box on
pages that are not a message list). Folder pages filter themselves."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from msghub.web.common import render, require_user
from msghub.web.pages.messages import list_page, query_text
from msghub.web.security import SessionUser


@require_user
async def search(request: Request, user: SessionUser) -> Response:
    if not query_text(request):
        return render(request, "search_empty.html", {})
    return await list_page(request, "all", view="search", title="Search", empty_text="")


routes: list[BaseRoute] = [Route("/search", search)]
