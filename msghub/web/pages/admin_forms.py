"""Administration → Send forms: an admin edits a branded form's look
(title, colours, logo), its texts and its channels (docs/WEB.md). Forms are
created, and their logins and limits set, with ``msghub form set``.

The logo is checked by its bytes (magic number, then Pillow reads the
whole image) and its size before it is stored; every change carries the
admin's CSRF token and is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.gateway import forms
from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.web.common import check_csrf, csrf_failed, not_found, record_audit, render, require_role, user_tx
from msghub.web.security import SessionUser

MAX_UPLOAD_BYTES = forms.MAX_LOGO_BYTES + 64 * 1024  # the logo and the text fields

admin_only = require_role("admin")


@admin_only
async def forms_index(request: Request, user: SessionUser) -> Response:
    async with user_tx(request) as conn:
        rows = await (await conn.execute(GATEWAY_QUERIES["forms_all"])).fetchall()
    return render(request, "admin/forms.html", {"forms": rows})


async def _edit_page(request: Request, form: dict[str, Any], *, error: str | None = None, saved: bool = False,
                     status_code: int = 200) -> Response:
    return render(request, "admin/form_edit.html",
                  {"form": form, "channels": forms.CHANNELS, "error": error, "saved": saved,
                   "max_logo_kib": forms.MAX_LOGO_BYTES // 1024, "max_text": forms.MAX_TEXT_CHARS},
                  status_code=status_code)


async def _posted(request: Request) -> tuple[dict[str, str], list[str], bytes | None] | None:
    """The text fields, the channels ticked and the logo's bytes (None: no
    file chosen); None when the request is too large to be a real form."""
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD_BYTES:
        return None
    try:
        async with request.form(max_files=1, max_fields=30, max_part_size=64 * 1024) as raw:
            fields = {k: v for k, v in raw.items() if isinstance(v, str)}
            channels = [v for v in raw.getlist("channels") if isinstance(v, str)]
            upload = raw.get("logo")
            logo = None
            if isinstance(upload, UploadFile) and upload.filename:
                logo = await upload.read(forms.MAX_LOGO_BYTES + 1)
    except HTTPException:
        return None
    return fields, channels, logo


@admin_only
async def form_edit(request: Request, user: SessionUser) -> Response:
    slug = request.path_params["slug"]
    async with user_tx(request) as conn:
        row = await (await conn.execute(GATEWAY_QUERIES["form_by_slug"], {"slug": slug})).fetchone()
    if row is None:
        return not_found(request)
    form = dict(row)
    if request.method == "GET":
        return await _edit_page(request, form, saved=request.query_params.get("saved") == "1")
    posted = await _posted(request)
    if posted is None:
        return await _edit_page(request, form, error=f"The upload is too large: a logo has at most "
                                                     f"{forms.MAX_LOGO_BYTES // 1024} KiB.", status_code=413)
    fields, channels, logo = posted
    if not check_csrf(request, fields):
        return csrf_failed()
    values = {**form, **{k: fields.get(k, "") for k in ("title", "intro", "footer", "sent_text", "colour",
                                                         "background")}, "channels": channels}
    try:
        title = forms.text(fields.get("title", ""), "The title")
        if not title:
            raise forms.FormError("Give the form a title.")
        params = {
            "slug": slug, "title": title, "intro": forms.text(fields.get("intro", ""), "The text above the form"),
            "footer": forms.text(fields.get("footer", ""), "The text under the form"),
            "sent_text": forms.text(fields.get("sent_text", ""), "The text after sending"),
            "colour": forms.colour(fields.get("colour", "")), "background": forms.colour(fields.get("background", "")),
            "channels": forms.channels(channels), "remove_logo": fields.get("remove_logo") == "1" and logo is None,
            "logo": logo, "logo_type": forms.logo_type(logo) if logo is not None else None,
        }
    except forms.FormError as exc:
        message = str(exc)
        return await _edit_page(request, values, error=message[:1].upper() + message[1:], status_code=400)
    async with user_tx(request) as conn:
        await conn.execute(GATEWAY_QUERIES["form_branding_update"], params)
        await record_audit(conn, request, user, "form.brand", slug, {
            "title": params["title"], "channels": params["channels"],
            "logo": "new" if logo is not None else "removed" if params["remove_logo"] else "kept"})
    return RedirectResponse(f"/admin/forms/{slug}?saved=1", status_code=303)


routes: list[BaseRoute] = [
    Route("/admin/forms", forms_index),
    Route("/admin/forms/{slug}", form_edit, methods=["GET", "POST"]),
]
