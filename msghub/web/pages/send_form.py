"""Branded public send forms: ``/g/<slug>`` (docs/WEB.md).

Each form has its own title, text, colours and logo (served by
``/g/<slug>/theme.css`` and ``/g/<slug>/logo``, so the page needs no inline
style or script under the strict Content-Security-Policy), the recipients
it may reach, and its login: a signed-in msghub user, a shared access code,
or none (a kiosk). Every send spends a signed one-time token the page
carried, and at most rate_per_hour sends per client address and hour are
taken; failures are logged. A deployment overrides the templates by putting
its own ``form.html`` in the directory MSGHUB_FORM_TEMPLATES names.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
from typing import Any

import jinja2
import psycopg
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.gateway import forms
from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.web.common import HERE, as_user, current_user, pool_of, read_form

log = logging.getLogger(__name__)

TEMPLATES_ENV = "MSGHUB_FORM_TEMPLATES"
# the forms' own policy: no inline code, nothing from elsewhere, no framing
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


@functools.lru_cache(maxsize=4)
def _environment(override: str | None) -> jinja2.Environment:
    """The deployment's directory first, then msghub's own templates."""
    loaders: list[jinja2.BaseLoader] = []
    if override:
        loaders.append(jinja2.FileSystemLoader(override))
    loaders.append(jinja2.FileSystemLoader(str(HERE / "templates" / "send_form")))
    return jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True)



def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _strict(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    return response


async def _secret(request: Request) -> str:
    async with pool_of(request).connection() as conn:
        row = await (await conn.execute(GATEWAY_QUERIES["form_key"])).fetchone()
    assert row is not None, "hub.send_form_key is empty (msghub migrate makes it)"
    return str(row["secret"])


async def _form(request: Request) -> dict[str, Any] | None:
    async with pool_of(request).connection() as conn:
        row = await (await conn.execute(GATEWAY_QUERIES["form_by_slug"],
                                        {"slug": request.path_params["slug"]})).fetchone()
    return dict(row) if row else None


async def _page(request: Request, form: dict[str, Any], status: int = 200, **context: Any) -> Response:
    token = forms.new_token(await _secret(request), form["slug"], _client(request))
    needs_account = form["login"] == "account" and await current_user(request) is None
    template = _environment(os.environ.get(TEMPLATES_ENV)).get_template("form.html")
    html = template.render(form=form, token=token, needs_account=needs_account, to=context.pop("to", ""),
                           text=context.pop("text", ""), **context)
    return _strict(HTMLResponse(html, status_code=status))


def _not_found() -> Response:
    return _strict(HTMLResponse("<!doctype html><title>Not found</title><p>No such form.</p>", status_code=404))


async def show(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _not_found()
    if request.method == "GET":
        return await _page(request, form)
    return await _send(request, form)


async def _send(request: Request, form: dict[str, Any]) -> Response:
    client = _client(request)
    fields = await read_form(request, max_bytes=64 * 1024)
    to, text = fields.get("to", "").strip(), fields.get("text", "")
    again = {"to": to, "text": text}
    try:
        nonce = forms.check_token(await _secret(request), form["slug"], client, fields.get("token", ""))
    except forms.FormError as error:
        return await _page(request, form, 403, error=str(error), **again)
    user = await current_user(request)
    if form["login"] == "account" and user is None:
        return await _page(request, form, 403, error="Please sign in first.", **again)
    if form["login"] == "code" and not hmac.compare_digest(
            forms.code_digest(fields.get("code", "")), bytes(form["code_sha256"] or b"")):
        log.warning("send form %s: wrong access code from %s", form["slug"], client)
        return await _page(request, form, 403, error="The access code is not right.", **again)
    if not to or not text.strip():
        return await _page(request, form, 400, error="Give a number and a message.", **again)
    if not forms.recipient_allowed(to, list(form["allowed_prefixes"])):
        return await _page(request, form, 400, error="This form cannot send to that number.", **again)
    async with pool_of(request).connection() as conn:
        spent = await (await conn.execute(GATEWAY_QUERIES["form_spend"], {
            "nonce": nonce, "slug": form["slug"], "client": client, "rate_per_hour": form["rate_per_hour"]})).fetchone()
    if spent is None:
        log.warning("send form %s: refused a reused token or too many sends from %s", form["slug"], client)
        return await _page(request, form, 429, error="Too many messages from here, or the form was sent twice. "
                                                    "Please wait and try again.", **again)
    sender_user = user.user_id if form["login"] == "account" and user else form["owner_user_id"]
    try:
        async with as_user(pool_of(request), sender_user) as conn:
            outbox = await (await conn.execute(GATEWAY_QUERIES["form_outbox_insert"], {
                "recipient": to, "sender": form["sender"], "text": text, "connection": form["connection"],
                "transliterate": bool(fields.get("transliterate")),
                "correlation_id": f"form:{form['slug']}"})).fetchone()
            assert outbox is not None
            message = await (await conn.execute(GATEWAY_QUERIES["form_message_of"],
                                                {"outbox_id": outbox["id"]})).fetchone()
            assert message is not None
            await conn.execute(GATEWAY_QUERIES["form_used"], {"message_id": message["id"], "nonce": nonce})
    except (psycopg.errors.CheckViolation, psycopg.errors.InvalidParameterValue, psycopg.DataError) as exc:
        return await _page(request, form, 400, error=exc.diag.message_primary or "The message was refused.", **again)
    return await _page(request, form, 200, sent={"nonce": nonce, "recipient": to, "status": "queued"})


async def status(request: Request) -> Response:
    async with pool_of(request).connection() as conn:
        row = await (await conn.execute(GATEWAY_QUERIES["form_status"], {
            "slug": request.path_params["slug"], "nonce": request.query_params.get("n", "")})).fetchone()
    if row is None:
        return _strict(JSONResponse({"error": "unknown"}, status_code=404))
    return _strict(JSONResponse({"status": row["status"], "segments": row["segments"]}))


async def theme(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _not_found()
    # both colours passed forms.colour() and the database's check: nothing else reaches the CSS
    css = (HERE / "static" / "send-form.css").read_text(encoding="utf-8")
    css = css.replace("#1f6feb", form["colour"]).replace("#ffffff", form["background"])
    return _strict(Response(css, media_type="text/css"))


async def logo(request: Request) -> Response:
    async with pool_of(request).connection() as conn:
        row = await (await conn.execute(GATEWAY_QUERIES["form_logo"], {"slug": request.path_params["slug"]})).fetchone()
    if row is None:
        return _not_found()
    return _strict(Response(bytes(row["logo"]), media_type=row["logo_type"]))


routes: list[BaseRoute] = [
    Route("/g/{slug}", show, methods=["GET", "POST"]),
    Route("/g/{slug}/status", status, methods=["GET"]),
    Route("/g/{slug}/theme.css", theme, methods=["GET"]),
    Route("/g/{slug}/logo", logo, methods=["GET"]),
]
