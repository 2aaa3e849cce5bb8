"""Branded public send forms: ``/g/<slug>`` (docs/WEB.md).

Each form has its own title, text, colours and logo (served by
``/g/<slug>/theme.css`` and ``/g/<slug>/logo``, so the page needs no inline
style or script under the strict Content-Security-Policy), the recipients
it may reach, its channels (SMS; MMS with a picture checked by its bytes;
e-mail), and its login: a signed-in msghub user, a shared access code,
or none (a kiosk). Every send spends a signed one-time token the page
carried, and at most rate_per_hour sends per client address and hour are
taken; failures are logged. A deployment overrides the templates by putting
its own ``form.html`` in the directory MSGHUB_FORM_TEMPLATES names.
"""

from __future__ import annotations

import base64
import functools
import hmac
import logging
import os
from typing import Any

import jinja2
import psycopg
from psycopg.types.json import Jsonb
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.gateway import forms
from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.web.common import HERE, as_user, current_user, pool_of

log = logging.getLogger(__name__)

TEMPLATES_ENV = "MSGHUB_FORM_TEMPLATES"
MAX_FIELDS_BYTES = 64 * 1024  # the text fields; an MMS form also takes a picture
RECIPIENT_WORD = {"sms": "a number", "mms": "a number", "email": "an e-mail address"}
RECIPIENT_NOUN = {"sms": "number", "mms": "number", "email": "address"}
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
    channel = context.pop("channel", None) or form["channels"][0]
    html = template.render(form=form, token=token, needs_account=needs_account, to=context.pop("to", ""),
                           text=context.pop("text", ""), subject=context.pop("subject", ""), channel=channel,
                           max_picture_kib=forms.MAX_PICTURE_BYTES // 1024, **context)
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


async def _fields(request: Request, form: dict[str, Any]) -> tuple[dict[str, str], bytes | None] | None:
    """The posted text fields and the picture's bytes (None: none chosen);
    None when the request is larger than this form takes."""
    limit = MAX_FIELDS_BYTES + (forms.MAX_PICTURE_BYTES if "mms" in form["channels"] else 0)
    length = request.headers.get("content-length", "")
    # browsers always say how long a form is; a body of unknown length is not read
    if not length.isdigit() or int(length) > limit:
        return None
    try:
        async with request.form(max_files=1, max_fields=20, max_part_size=MAX_FIELDS_BYTES) as raw:
            fields = {k: v for k, v in raw.items() if isinstance(v, str)}
            upload = raw.get("picture")
            picture = None
            if isinstance(upload, UploadFile) and upload.filename:
                picture = await upload.read(forms.MAX_PICTURE_BYTES + 1)
    except HTTPException:
        return None
    return fields, picture


async def _send(request: Request, form: dict[str, Any]) -> Response:
    client = _client(request)
    posted = await _fields(request, form)
    if posted is None:
        return await _page(request, form, 413,
                           error="The message is too large for this form, or its length was not given.")
    fields, picture = posted
    channel = fields.get("channel") or form["channels"][0]
    to, text, subject = fields.get("to", "").strip(), fields.get("text", ""), fields.get("subject", "").strip()
    again = {"to": to, "text": text, "subject": subject, "channel": channel}
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
    if channel not in form["channels"]:
        return await _page(request, form, 400, error="This form does not send that kind of message.", **again)
    attachments = None
    if channel == "mms" and picture is not None:
        try:
            kind = forms.image_type(picture, "the picture", forms.MAX_PICTURE_BYTES)
        except forms.FormError as error:
            reason = str(error)
            return await _page(request, form, 400, error=reason[:1].upper() + reason[1:] + ".", **again)
        attachments = Jsonb([{"filename": f"picture.{kind.removeprefix('image/')}", "content_type": kind,
                              "data": base64.b64encode(picture).decode()}])
    if not to or not (text.strip() or attachments):
        what = "a picture or a message" if channel == "mms" else "a message"
        return await _page(request, form, 400, error=f"Give {RECIPIENT_WORD[channel]} and {what}.", **again)
    if not forms.recipient_allowed(to, list(form["allowed_prefixes"]), channel):
        return await _page(request, form, 400, error=f"This form cannot send to that {RECIPIENT_NOUN[channel]}.",
                           **again)
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
                "channel": channel, "recipient": to, "sender": None if channel == "email" else form["sender"],
                "subject": subject if channel != "sms" and subject else None, "text": text,
                "attachments": attachments, "connection": form["connection"],
                "delivery_report": channel != "email",
                "transliterate": channel == "sms" and bool(fields.get("transliterate")),
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
