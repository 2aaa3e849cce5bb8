"""Administration → Webhooks: every webhook with its pending and parked
deliveries, the newest parked deliveries with the error that parked them,
and a button that sends a webhook's parked deliveries again (what
``msghub webhook retry`` does). Admins only; changes carry the CSRF token
and go to the audit log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.web.common import (
    check_csrf,
    csrf_failed,
    not_found,
    path_id,
    read_form,
    record_audit,
    render,
    require_role,
    user_tx,
)
from msghub.web.security import SessionUser

PARKED_SHOWN = 100

admin_only = require_role("admin")


@admin_only
async def webhooks(request: Request, user: SessionUser) -> Response:
    async with user_tx(request) as conn:
        hooks = await (await conn.execute(GATEWAY_QUERIES["webhooks_of"], {"owner_user_id": None})).fetchall()
        parked = await (await conn.execute(GATEWAY_QUERIES["webhook_parked"], {"limit": PARKED_SHOWN})).fetchall()
    retried = request.query_params.get("retried", "")
    return render(request, "admin/webhooks.html", {
        "hooks": hooks, "parked": parked, "parked_shown": PARKED_SHOWN,
        "retried": int(retried) if retried.isdigit() and len(retried) < 10 else None})


@admin_only
async def retry(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    webhook_id = path_id(request)
    if webhook_id is None:
        return not_found(request)
    async with user_tx(request) as conn:
        count = (await conn.execute(GATEWAY_QUERIES["webhook_retry_parked"], {"id": webhook_id})).rowcount
        await record_audit(conn, request, user, "webhook.retry", str(webhook_id), {"deliveries": count})
    return RedirectResponse(f"/admin/webhooks?retried={count}", status_code=303)


routes: list[BaseRoute] = [
    Route("/admin/webhooks", webhooks),
    Route("/admin/webhooks/{id:int}/retry", retry, methods=["POST"]),
]
