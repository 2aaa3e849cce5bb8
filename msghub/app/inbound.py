"""Routes for kinds whose far side calls the hub over HTTP (mm7: the MMSC
POSTs deliveries, delivery reports and read replies).

For every kind of the registry that sets receives_http, the web role
answers POST /<kind>/<connection name>: the connection is looked up, the
kind's connector is made for the request with the connection's HubPort
(HubLink, not opened: the link of the connection is the supervisor's), and
its receive_http() answers. The web package itself imports no connector:
the composition root hands these routes to create_app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypedDict

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.app.hublink import HubLink
from msghub.connectors.base import Connector, HttpAnswer, HttpRequest
from msghub.connectors.registry import KINDS
from msghub.hub.db import Pool
from msghub.hub.queries import QUERIES


class _Connection(TypedDict):
    id: int
    kind: str
    enabled: bool
    config: dict[str, Any]


async def http_request(request: Request) -> HttpRequest:
    """The starlette request as the connector contract's HttpRequest."""
    headers: Mapping[str, str] = {name.lower(): value for name, value in request.headers.items()}
    return HttpRequest(request.method, headers, await request.body(), request.client.host if request.client else None)


def response(answer: HttpAnswer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type,
                    headers=dict(answer.headers))


def endpoint(cls: type[Connector], node: str) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        name = request.path_params["connection"]
        pool: Pool = request.app.state.pool
        async with pool.connection() as conn:
            row = await QUERIES.one(conn, "connection_by_name", _Connection, {"name": name})
        if row is None or row["kind"] != cls.kind or not row["enabled"]:
            return PlainTextResponse(f"no enabled {cls.kind} connection named {name!r}", status_code=404)
        hub = HubLink(pool, int(row["id"]), node)
        return response(await cls(name, row["config"], hub).receive_http(await http_request(request)))

    return receive


def inbound_routes(node: str = "web", kinds: Mapping[str, type[Connector]] = KINDS) -> list[BaseRoute]:
    """POST /<kind>/<connection name> for every kind that receives over HTTP;
    node names this hub node in what the HubLink records."""
    return [Route(f"/{kind}/{{connection}}", endpoint(cls, node), methods=["POST"])
            for kind, cls in sorted(kinds.items()) if cls.receives_http]
