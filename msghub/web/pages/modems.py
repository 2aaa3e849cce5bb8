"""Connections page, for admins: "Detect devices" probes serial ports for
GSM modems (msghub.connectors.modem.scan, read-only) and offers each new one
as a modem connection, keyed by its /dev/serial/by-id name."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from msghub.connectors.modem.known import QUERIES as MODEM_QUERIES
from msghub.connectors.modem.known import is_known, usable
from msghub.connectors.modem.scan import connection_name, scan
from msghub.connectors.modem.settings import SETTINGS, ports_of
from msghub.web.common import check_csrf, csrf_failed, read_form, record_audit, render, require_role, user_tx
from msghub.web.security import SessionUser


@require_role("admin")
async def detect(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    async with user_tx(request) as conn:
        row = await (await conn.execute(MODEM_QUERIES["modem_scan_globs_setting"])).fetchone()
        rows = await (await conn.execute(MODEM_QUERIES["modem_connections"])).fetchall()
    globs = tuple(g.strip() for g in str(row["value"] if row else "").split(",") if g.strip())
    ports: set[str] = set()
    imeis: set[str] = set()
    for r in rows:
        ports.update(ports_of(str(r["config"].get("port", ""))))
        imeis.update(d.get("imei") for d in (r["meta"] or {}).get("devices", []) if d.get("imei"))
    devices, skipped = await scan(globs)
    found: list[dict[str, Any]] = []
    for device in devices:
        state = "configured" if is_known(device, ports, imeis) else (
            "new" if usable(device, "") else "needs a PIN" if device.sim == "SIM PIN" else "not usable")
        found.append({**device.as_dict(), "state": state, "name": connection_name(device)})
    async with user_tx(request) as conn:
        await record_audit(conn, request, user, "modem.detect", "", {"found": len(found)})
    # the defaults of every setting, for the "Add" forms (an absent checkbox would mean "off")
    defaults = {s.name: s.default for s in SETTINGS}
    return render(request, "connections/detect.html", {"found": found, "skipped": skipped, "defaults": defaults,
                                                      "settings": SETTINGS})


routes: list[BaseRoute] = [Route("/connections/detect", detect, methods=["POST"])]
