"""Contacts and distribution lists: browse, search, edit, import, export.

Everything runs as the signed-in user (user_tx), so row-level security
decides which contacts and lists exist for them: someone else's contact
answers 404 exactly like a missing one (docs/SECURITY.md).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, TypedDict

import psycopg
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from msghub.contacts.contacts_io import (
    ExportContact,
    RecordError,
    check_contact,
    detect_format,
    write_csv,
    write_vcard,
)
from msghub.web.common import (
    MAX_ID,
    as_user,
    check_csrf,
    csrf_failed,
    not_found,
    path_id,
    pool_of,
    read_form,
    render,
    require_user,
    search_terms,
    user_tx,
)
from msghub.web.contacts_import import ImportJob, start_import
from msghub.web.queries import ADMIN_QUERIES
from msghub.web.security import SessionUser

PAGE_SIZE = 100
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
EXPORT_FETCH = 1000
EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "vcard4": ("text/vcard; charset=utf-8", "vcf"),
    "vcard3": ("text/vcard; charset=utf-8", "vcf"),
}


async def _owner_choices(conn: psycopg.AsyncConnection[Any]) -> list[dict[str, Any]]:
    return list(await (await conn.execute(ADMIN_QUERIES["owner_groups"])).fetchall())


def _owner(
    form: dict[str, str], user: SessionUser, groups: list[dict[str, Any]]
) -> tuple[int | None, int | None] | None:
    """(owner_user_id, owner_group_id) from the form's owner field: "me" or a
    group the user may give rows to; None when it is neither."""
    choice = form.get("owner", "me")
    if choice == "me":
        return user.user_id, None
    if choice.isdigit() and int(choice) in {g["id"] for g in groups}:
        return None, int(choice)
    return None


# ---------------------------------------------------------------- contacts


@require_user
async def contacts_index(request: Request, user: SessionUser) -> Response:
    search = search_terms(request)
    after_id = request.query_params.get("after_id", "")
    params = {
        **search,
        "after_id": int(after_id) if after_id.isdigit() and int(after_id) <= MAX_ID else None,
        "after_name": request.query_params.get("after_name", ""),
        "limit": PAGE_SIZE + 1,
    }
    async with user_tx(request) as conn:
        rows = await (await conn.execute(ADMIN_QUERIES["contacts_page"], params)).fetchall()
        lists = await (await conn.execute(ADMIN_QUERIES["lists_all"], {"q": "", "pattern": "%"})).fetchall()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render(
        request,
        "contacts/index.html",
        {
            "contacts": rows,
            "more": more,
            "last": rows[-1] if rows else None,
            "lists": lists,
            "search_action": "/contacts",
            "clear_filter_url": "/contacts",
            "paged": params["after_id"] is not None,
        },
    )


async def _contact_form(
    request: Request,
    contact: dict[str, Any] | None,
    *,
    values: dict[str, Any] | None = None,
    member_of: set[int] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    async with user_tx(request) as conn:
        groups = await _owner_choices(conn)
        lists = await (await conn.execute(ADMIN_QUERIES["lists_all"], {"q": "", "pattern": "%"})).fetchall()
        if contact is not None and member_of is None:
            member_of = {
                r["list_id"]
                for r in await (await conn.execute(ADMIN_QUERIES["contact_list_ids"], {"id": contact["id"]})).fetchall()
            }
    if values is None:
        values = dict(contact) if contact else {"name": "", "phone": "", "email": "", "notes": ""}
        values["owner"] = str(contact["owner_group_id"]) if contact and contact["owner_group_id"] else "me"
    return render(
        request,
        "contacts/contact.html",
        {
            "contact": contact,
            "values": values,
            "groups": groups,
            "lists": lists,
            "member_of": member_of or set(),
            "error": error,
        },
        status_code=status_code,
    )


@require_user
async def contact_new(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _contact_form(request, None)
    return await _save_contact(request, user, None)


@require_user
async def contact_edit(request: Request, user: SessionUser) -> Response:
    contact_id = path_id(request)
    contact = None
    if contact_id is not None:
        async with user_tx(request) as conn:
            contact = await (await conn.execute(ADMIN_QUERIES["contact_by_id"], {"id": contact_id})).fetchone()
    if contact is None:
        return not_found(request)
    if request.method == "GET":
        return await _contact_form(request, contact)
    return await _save_contact(request, user, contact)


async def _save_contact(request: Request, user: SessionUser, contact: dict[str, Any] | None) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    raw = await request.form()
    list_ids = [int(v) for v in raw.getlist("lists") if isinstance(v, str) and v.isdigit() and int(v) <= MAX_ID]
    checked = check_contact(
        form.get("name", ""), form.get("phone", ""), form.get("email", ""), form.get("notes", ""), (), "contact"
    )
    values = {k: form.get(k, "") for k in ("name", "phone", "email", "notes", "owner")}
    if isinstance(checked, RecordError):
        return await _contact_form(
            request,
            contact,
            values=values,
            member_of=set(list_ids),
            error=checked.message[:1].upper() + checked.message[1:] + ".",
            status_code=400,
        )
    async with user_tx(request) as conn:
        owner = _owner(form, user, await _owner_choices(conn))
        if owner is None:
            error = "Choose yourself or one of your groups as the owner."
        else:
            params = {
                "name": checked.name,
                "phone": checked.phone,
                "email": checked.email,
                "notes": checked.notes,
                "owner_user_id": owner[0],
                "owner_group_id": owner[1],
            }
            if contact is None:
                row = await (await conn.execute(ADMIN_QUERIES["contact_insert"], params)).fetchone()
            else:
                row = await (
                    await conn.execute(ADMIN_QUERIES["contact_update"], {**params, "id": contact["id"]})
                ).fetchone()
            assert row is not None
            await conn.execute(ADMIN_QUERIES["contact_set_lists"], {"id": row["id"], "list_ids": list_ids})
            return RedirectResponse(f"/contacts/{row['id']}?saved=1", status_code=303)
    return await _contact_form(request, contact, values=values, member_of=set(list_ids), error=error, status_code=400)


@require_user
async def contact_delete(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    contact_id = path_id(request)
    row = None
    if contact_id is not None:
        async with user_tx(request) as conn:
            row = await (await conn.execute(ADMIN_QUERIES["contact_delete"], {"id": contact_id})).fetchone()
    if row is None:
        return not_found(request)
    return RedirectResponse("/contacts?deleted=1", status_code=303)


# ---------------------------------------------------------------- lists


@require_user
async def lists_index(request: Request, user: SessionUser) -> Response:
    error = None
    status_code = 200
    if request.method == "POST":
        form = await read_form(request)
        if not check_csrf(request, form):
            return csrf_failed()
        name = form.get("name", "").strip()
        async with user_tx(request) as conn:
            owner = _owner(form, user, await _owner_choices(conn))
            if not name or len(name) > 200 or "\x00" in name:
                error = "Give the list a name (at most 200 characters)."
            elif owner is None:
                error = "Choose yourself or one of your groups as the owner."
            else:
                row = await (
                    await conn.execute(
                        ADMIN_QUERIES["list_insert"],
                        {
                            "name": name,
                            "description": form.get("description", "").strip()[:1000].replace("\x00", ""),
                            "owner_user_id": owner[0],
                            "owner_group_id": owner[1],
                        },
                    )
                ).fetchone()
                assert row is not None
                return RedirectResponse(f"/lists/{row['id']}", status_code=303)
        status_code = 400
    async with user_tx(request) as conn:
        lists = await (await conn.execute(ADMIN_QUERIES["lists_all"], search_terms(request))).fetchall()
        groups = await _owner_choices(conn)
    return render(
        request,
        "contacts/lists.html",
        {"lists": lists, "groups": groups, "error": error, "search_action": "/lists", "clear_filter_url": "/lists"},
        status_code=status_code,
    )


@require_user
async def list_detail(request: Request, user: SessionUser) -> Response:
    list_id = path_id(request)
    row = None
    error = None
    if list_id is not None and request.method == "POST":
        form = await read_form(request)
        if not check_csrf(request, form):
            return csrf_failed()
        name = form.get("name", "").strip()
        if not name or len(name) > 200 or "\x00" in name:
            error = "Give the list a name (at most 200 characters)."
        else:
            async with user_tx(request) as conn:
                updated = await (
                    await conn.execute(
                        ADMIN_QUERIES["list_update"],
                        {
                            "id": list_id,
                            "name": name,
                            "description": form.get("description", "").strip()[:1000].replace("\x00", ""),
                        },
                    )
                ).fetchone()
            if updated is None:
                return not_found(request)
            return RedirectResponse(f"/lists/{list_id}", status_code=303)
    if list_id is not None:
        async with user_tx(request) as conn:
            row = await (await conn.execute(ADMIN_QUERIES["list_by_id"], {"id": list_id})).fetchone()
            members = await (
                await conn.execute(ADMIN_QUERIES["list_members"], {"id": list_id, "limit": 1001})
            ).fetchall()
    if row is None:
        return not_found(request)
    return render(
        request,
        "contacts/list_detail.html",
        {"list": row, "members": members[:1000], "more": len(members) > 1000, "error": error},
        status_code=400 if error else 200,
    )


@require_user
async def list_delete(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    list_id = path_id(request)
    row = None
    if list_id is not None:
        async with user_tx(request) as conn:
            row = await (await conn.execute(ADMIN_QUERIES["list_delete"], {"id": list_id})).fetchone()
    if row is None:
        return not_found(request)
    return RedirectResponse("/lists", status_code=303)


@require_user
async def list_member_remove(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    list_id = path_id(request)
    contact = form.get("contact_id", "")
    if list_id is None or not contact.isdigit() or int(contact) > MAX_ID:
        return not_found(request)
    async with user_tx(request) as conn:
        row = await (await conn.execute(ADMIN_QUERIES["list_by_id"], {"id": list_id})).fetchone()
        if row is not None:
            await conn.execute(ADMIN_QUERIES["list_member_remove"], {"list_id": list_id, "contact_id": int(contact)})
    if row is None:
        return not_found(request)
    return RedirectResponse(f"/lists/{list_id}", status_code=303)


# ---------------------------------------------------------------- import


@require_user
async def import_page(request: Request, user: SessionUser) -> Response:
    if request.method == "POST":
        return await _upload(request, user)
    async with user_tx(request) as conn:
        groups = await _owner_choices(conn)
        recent = await (await conn.execute(ADMIN_QUERIES["imports_recent"])).fetchall()
    return render(request, "contacts/import.html", {"groups": groups, "recent": recent, "error": None})


async def _upload_error(request: Request, message: str, status_code: int = 400) -> Response:
    async with user_tx(request) as conn:
        groups = await _owner_choices(conn)
        recent = await (await conn.execute(ADMIN_QUERIES["imports_recent"])).fetchall()
    return render(
        request, "contacts/import.html", {"groups": groups, "recent": recent, "error": message}, status_code=status_code
    )


async def _upload(request: Request, user: SessionUser) -> Response:
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD_BYTES:
        return await _upload_error(
            request,
            f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it and import the parts.",
            413,
        )
    async with request.form(max_files=1, max_fields=20) as form:
        return await _save_upload(request, user, form)


async def _save_upload(request: Request, user: SessionUser, form: FormData) -> Response:
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not check_csrf(request, fields):
        return csrf_failed()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _upload_error(request, "Choose a CSV or vCard file to import.")
    on_duplicate = fields.get("on_duplicate", "update")
    if on_duplicate not in ("update", "skip"):
        return await _upload_error(request, "Choose what to do with duplicates: update or skip.")
    handle, path = tempfile.mkstemp(prefix="msghub-import-", suffix=".upload")
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := await upload.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise ValueError("too large")
                out.write(chunk)
        with open(path, "rb") as saved:
            head = saved.read(64)
    except ValueError:
        os.unlink(path)
        return await _upload_error(request, "The file is too large: split it and import the parts.", 413)
    if size == 0:
        os.unlink(path)
        return await _upload_error(request, "The file is empty.")
    chosen = fields.get("format", "auto")
    fmt = detect_format(upload.filename, head) if chosen == "auto" else chosen
    if fmt not in ("csv", "vcard"):
        os.unlink(path)
        return await _upload_error(request, "Choose the format: CSV, vCard, or let the hub tell from the file.")
    async with user_tx(request) as conn:
        owner = _owner(fields, user, await _owner_choices(conn))
        if owner is None:
            os.unlink(path)
            return await _upload_error(request, "Choose yourself or one of your groups as the owner.")
        row = await (
            await conn.execute(
                ADMIN_QUERIES["import_create"],
                {
                    "user_id": user.user_id,
                    "owner_user_id": owner[0],
                    "owner_group_id": owner[1],
                    "filename": upload.filename[:200],
                    "format": fmt,
                    "on_duplicate": on_duplicate,
                    "bytes_total": size,
                },
            )
        ).fetchone()
    assert row is not None
    start_import(pool_of(request), ImportJob(int(row["id"]), user.user_id, owner[0], owner[1], fmt, on_duplicate, path))
    return RedirectResponse(f"/contacts/imports/{row['id']}", status_code=303)


class ImportRow(TypedDict):
    """A contact import as import_by_id reads it (hub.contact_imports)."""
    id: int
    user_id: int
    owner_user_id: int | None
    owner_group_id: int | None
    filename: str
    format: str
    on_duplicate: str
    bytes_total: int
    bytes_done: int
    created: int
    updated: int
    skipped: int
    error_count: int
    errors: list[str]
    failure: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    state: str  # running, done, failed or interrupted


async def _import_row(request: Request) -> ImportRow | None:
    import_id = path_id(request)
    if import_id is None:
        return None
    async with user_tx(request) as conn:
        return await ADMIN_QUERIES.one(conn, "import_by_id", ImportRow, {"id": import_id})


def _progress(row: ImportRow) -> dict[str, Any]:
    return {
        "id": row["id"],
        "state": row["state"],
        "bytes_total": row["bytes_total"],
        "bytes_done": row["bytes_done"],
        "created": row["created"],
        "updated": row["updated"],
        "skipped": row["skipped"],
        "error_count": row["error_count"],
        "failure": row["failure"],
    }


@require_user
async def import_status(request: Request, user: SessionUser) -> Response:
    row = await _import_row(request)
    if row is None:
        return not_found(request)
    return render(request, "contacts/import_job.html", {"job": row})


@require_user
async def import_progress(request: Request, user: SessionUser) -> Response:
    row = await _import_row(request)
    if row is None:
        return not_found(request)
    return JSONResponse(_progress(row))


# ---------------------------------------------------------------- export


@require_user
async def export(request: Request, user: SessionUser) -> Response:
    fmt = request.query_params.get("format", "csv")
    raw_list = request.query_params.get("list", "")
    if fmt not in EXPORT_FORMATS or (raw_list and (not raw_list.isdigit() or int(raw_list) > MAX_ID)):
        return PlainTextResponse("Choose the format csv, vcard4 or vcard3, and a list by its number.", status_code=400)
    list_id = int(raw_list) if raw_list else None
    if list_id is not None:
        async with user_tx(request) as conn:
            if await (await conn.execute(ADMIN_QUERIES["list_by_id"], {"id": list_id})).fetchone() is None:
                return not_found(request)
    pool = pool_of(request)
    media_type, extension = EXPORT_FORMATS[fmt]

    async def body() -> AsyncIterator[str]:
        async with as_user(pool, user.user_id) as conn, conn.cursor(name="contacts_export") as cursor:
            await cursor.execute(ADMIN_QUERIES["contacts_export"], {"list_id": list_id})
            first = True
            while rows := await cursor.fetchmany(EXPORT_FETCH):
                contacts = [
                    ExportContact(r["name"], r["phone"], r["email"], r["notes"], list(r["lists"]), r["id"])
                    for r in rows
                ]
                if fmt == "csv":
                    for piece in write_csv(contacts, header=first):
                        yield piece
                else:
                    for card in write_vcard(contacts, "3.0" if fmt == "vcard3" else "4.0"):
                        yield card
                first = False
            if first and fmt == "csv":
                for piece in write_csv([]):
                    yield piece

    return StreamingResponse(
        body(), media_type=media_type, headers={"Content-Disposition": f'attachment; filename="contacts.{extension}"'}
    )


routes: list[BaseRoute] = [
    Route("/contacts", contacts_index),
    Route("/contacts/new", contact_new, methods=["GET", "POST"]),
    Route("/contacts/import", import_page, methods=["GET", "POST"]),
    Route("/contacts/export", export),
    Route("/contacts/imports/{id:int}", import_status),
    Route("/contacts/imports/{id:int}/progress", import_progress),
    Route("/contacts/{id:int}", contact_edit, methods=["GET", "POST"]),
    Route("/contacts/{id:int}/delete", contact_delete, methods=["POST"]),
    Route("/lists", lists_index, methods=["GET", "POST"]),
    Route("/lists/{id:int}", list_detail, methods=["GET", "POST"]),
    Route("/lists/{id:int}/delete", list_delete, methods=["POST"]),
    Route("/lists/{id:int}/remove", list_member_remove, methods=["POST"]),
]
