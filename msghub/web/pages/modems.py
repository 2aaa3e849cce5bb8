"""Connections page, for admins: "Detect devices" probes serial ports for
GSM modems (msghub.services.modems, read-only) and offers each new one
as a modem connection, keyed by its /dev/serial/by-id name."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from msghub.services import connections as connection_service
from msghub.services import modems
from msghub.web.common import check_csrf, csrf_failed, read_form, record_audit, render, require_role, user_tx
from msghub.web.security import SessionUser


@require_role("admin")
async def detect(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    async with user_tx(request) as conn:
        configured = await modems.known(conn)
    devices, skipped = await modems.scan(configured.globs)  # outside a transaction: it waits on the devices
    found: list[dict[str, Any]] = [d.as_dict() for d in modems.detected(devices, configured)]
    async with user_tx(request) as conn:
        await record_audit(conn, request, user, "modem.detect", "", {"found": len(found)})
    # the defaults of every setting, for the "Add" forms (an absent checkbox would mean "off")
    kind = connection_service.kind("modem")
    return render(request, "connections/detect.html", {"found": found, "skipped": skipped,
                                                      "defaults": kind.defaults(), "settings": kind.settings})


routes: list[BaseRoute] = [Route("/connections/detect", detect, methods=["POST"])]
