"""Administration of costs: tariffs (one by one, or a CSV price list
pasted in) and quotas (docs/COSTS.md). Admins only; every change goes
through msghub.services.costs, which records it in the audit log."""

from __future__ import annotations

from decimal import Decimal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.services import costs
from msghub.services.tariff_csv import TariffCsvError, TariffSpec, parse_price
from msghub.web.common import actor_of, check_csrf, csrf_failed, path_id, read_form, render, require_role, user_tx
from msghub.web.queries import ADMIN_QUERIES
from msghub.web.security import SessionUser

admin_only = require_role("admin")
MAX_CSV_BYTES = 512 * 1024


async def _choices(request: Request) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"connection": [], "user": [], "group": []}
    async with user_tx(request) as conn:
        for row in await (await conn.execute(ADMIN_QUERIES["cost_form_choices"])).fetchall():
            found[row["kind"]].append(row["name"])
    return found


async def _tariffs_page(request: Request, *, error: str = "", status_code: int = 200,
                        form: dict[str, str] | None = None) -> Response:
    async with user_tx(request) as conn:
        rows = await costs.list_tariffs(conn)
    return render(request, "admin/tariffs.html", {
        "tariffs": rows, "choices": await _choices(request), "error": error, "form": form or {},
        "saved": request.query_params.get("saved", "")}, status_code=status_code)


def _tariff_spec(form: dict[str, str]) -> TariffSpec:
    max_bytes = form.get("max_bytes", "").strip()
    if max_bytes and not max_bytes.isdigit():
        raise ValueError(f"max bytes {max_bytes!r}: a whole number")
    return TariffSpec(connection=form.get("connection", ""), price=parse_price(form.get("price", "")),
                      currency=form.get("currency", "").strip().upper(), channel=form.get("channel", "sms"),
                      direction=form.get("direction", "out"), prefix=form.get("prefix", "").replace(" ", ""),
                      max_bytes=int(max_bytes) if max_bytes else None)


@admin_only
async def tariffs(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _tariffs_page(request)
    form = await read_form(request, max_bytes=MAX_CSV_BYTES)
    if not check_csrf(request, form):
        return csrf_failed()
    try:
        async with user_tx(request) as conn:
            if form.get("action") == "import":
                count = await costs.import_tariffs(conn, actor_of(request, user), form.get("csv", ""))
                saved = f"{count} tariffs imported"
            else:
                await costs.add_tariff(conn, actor_of(request, user), _tariff_spec(form))
                saved = "tariff added"
    except (costs.CostError, TariffCsvError, ValueError) as exc:
        return await _tariffs_page(request, error=str(exc), status_code=400, form=form)
    return RedirectResponse(f"/admin/tariffs?saved={saved.replace(' ', '+')}", status_code=303)


@admin_only
async def tariff_remove(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    tariff_id = path_id(request)
    try:
        async with user_tx(request) as conn:
            await costs.remove_tariff(conn, actor_of(request, user), tariff_id or 0)
    except costs.CostError as exc:
        return await _tariffs_page(request, error=str(exc), status_code=404)
    return RedirectResponse("/admin/tariffs?saved=tariff+removed", status_code=303)


async def _quotas_page(request: Request, *, error: str = "", status_code: int = 200,
                       form: dict[str, str] | None = None) -> Response:
    async with user_tx(request) as conn:
        rows = await costs.list_quotas(conn)
    return render(request, "admin/quotas.html", {
        "quotas": rows, "choices": await _choices(request), "error": error, "form": form or {},
        "periods": costs.PERIODS}, status_code=status_code)


def _quota_spec(form: dict[str, str]) -> costs.QuotaSpec:
    holder = form.get("holder", "")
    kind, _, name = holder.partition(":")
    warn = form.get("warn_percent", "").strip()
    if warn and not warn.isdigit():
        raise ValueError(f"warn at {warn!r}: a whole percentage")
    try:
        amount = Decimal(form.get("amount", "").strip().replace(",", "."))
    except ArithmeticError:
        raise ValueError(f"limit {form.get('amount', '')!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"limit {form.get('amount', '')!r} is not a number")
    currency = form.get("currency", "").strip().upper() or None
    return costs.QuotaSpec(name=form.get("name", "").strip(), amount=amount, period=form.get("period", ""),
                           user=name if kind == "user" else None, group=name if kind == "group" else None,
                           connection=form.get("connection") or None, currency=currency,
                           warn_percent=int(warn) if warn else None,
                           admins_exempt=form.get("hold_admins") != "on")


@admin_only
async def quotas(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _quotas_page(request)
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    try:
        async with user_tx(request) as conn:
            if form.get("action") == "remove":
                await costs.remove_quota(conn, actor_of(request, user), form.get("name", ""))
            else:
                await costs.add_quota(conn, actor_of(request, user), _quota_spec(form))
    except (costs.CostError, ValueError) as exc:
        return await _quotas_page(request, error=str(exc), status_code=400, form=form)
    return RedirectResponse("/admin/quotas", status_code=303)


routes: list[BaseRoute] = [
    Route("/admin/tariffs", tariffs, methods=["GET", "POST"]),
    Route("/admin/tariffs/{id:int}/remove", tariff_remove, methods=["POST"]),
    Route("/admin/quotas", quotas, methods=["GET", "POST"]),
]
