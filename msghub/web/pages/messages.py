"""Folders (Inbox, Outbox, Sent, Failed, custom and group folders) and one
message: its content and parts, delivery history, assigning, moving."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.hub.queries import QUERIES
from msghub.web.common import (
    check_csrf,
    csrf_failed,
    not_found,
    pool_of,
    read_form,
    render,
    require_user,
    templates,
    user_tx,
)
from msghub.web.pages.outbox import queued_banner
from msghub.web.parts import PART_CSP, disposition, email_parts, mms_slides, part_view, served_type
from msghub.web.queries import WEB_QUERIES
from msghub.web.security import SessionUser

PAGE_SIZE = 50
MAX_QUERY_CHARS = 200

STANDARD_FOLDERS: dict[str, tuple[str, str]] = {
    "inbox": ("Inbox", "Your inbox is empty. Messages you receive appear here as they arrive."),
    "outbox": ("Outbox", "Nothing is waiting to be sent. Messages you write wait here until they leave."),
    "sent": ("Sent", "Nothing sent yet. Write a message with “Write a message” on the left."),
    "failed": ("Failed", "No failed messages. Messages that could not be sent appear here with the reason."),
}


def query_text(request: Request) -> str:
    return request.query_params.get("q", "").strip()[:MAX_QUERY_CHARS]


def keyset(request: Request) -> int | None:
    raw = request.query_params.get("before", "")
    return int(raw) if raw.isdigit() else None


async def change_watermark(request: Request) -> str:
    """Where the change feed stands before the page is read: the live stream
    starts there, so nothing between rendering and connecting is missed."""
    async with pool_of(request).connection() as conn:
        row = await (await conn.execute(WEB_QUERIES["change_watermark"])).fetchone()
    return str(row["xid"]) if row else "0"


async def list_page(
    request: Request, kind: str, *, folder_id: int | None = None, view: str, title: str, empty_text: str
) -> Response:
    """One page of a message list, newest first, keyset-paged. kind is the
    list hub.web_message_ids_v1 reads; view is the live stream's name for it."""
    since = await change_watermark(request)
    params = {
        "view": kind,
        "folder_id": folder_id,
        "q": query_text(request),
        "before": keyset(request),
        "limit": PAGE_SIZE + 1,
    }
    async with user_tx(request) as conn:
        ids = [r["id"] for r in await (await conn.execute(WEB_QUERIES["message_ids"], params)).fetchall()]
        more = len(ids) > PAGE_SIZE
        ids = ids[:PAGE_SIZE]
        rows = await (await conn.execute(WEB_QUERIES["message_rows"], {"ids": ids, "q": ""})).fetchall()
        user: SessionUser = request.state.user
        groups = await (await conn.execute(WEB_QUERIES["my_groups"], {"user_id": user.user_id})).fetchall()
    return render(
        request,
        "folder.html",
        {
            "rows": rows,
            "view": view,
            "title": title,
            "empty_text": empty_text,
            "since": since,
            "groups": groups,
            "next_before": ids[-1] if more else None,
            "search_action": request.url.path,
            "queued": await queued_banner(request) if kind == "outbox" else None,
        },
    )


@require_user
async def folder(request: Request, user: SessionUser) -> Response:
    key = request.path_params["key"]
    if key in STANDARD_FOLDERS:
        title, empty = STANDARD_FOLDERS[key]
        return await list_page(request, key, view=key, title=title, empty_text=empty)
    if not key.isdigit():
        return not_found(request)
    async with user_tx(request) as conn:
        row = await (await conn.execute(WEB_QUERIES["folder_by_id"], {"id": int(key)})).fetchone()
    if row is None:
        return not_found(request)
    title = row["name"] + (f" ({row['group_name']})" if row["group_name"] else "")
    return await list_page(
        request,
        "folder",
        folder_id=row["id"],
        view=f"folder:{key}",
        title=title,
        empty_text="This folder is empty. Move messages here from their page.",
    )


@require_user
async def message(request: Request, user: SessionUser) -> Response:
    message_id = int(request.path_params["message_id"])
    since = await change_watermark(request)
    async with user_tx(request) as conn:
        row = await (await conn.execute(QUERIES["message_by_id"], {"id": message_id})).fetchone()
        if row is None:
            return not_found(request)
        meta = await (await conn.execute(WEB_QUERIES["message_meta"], {"id": message_id})).fetchone()
        parts = await (await conn.execute(WEB_QUERIES["message_parts"], {"id": message_id})).fetchall()
        conversation = await (await conn.execute(WEB_QUERIES["message_conversation"], {"id": message_id})).fetchall()
        history = await (await conn.execute(QUERIES["message_history"], {"id": message_id})).fetchall()
        assignees = await (await conn.execute(QUERIES["assignees"])).fetchall()
    views = email_parts(message_id, [part_view(p) for p in parts], request.query_params.get("images") == "1")
    slides, others = mms_slides(views) if row["channel"] == "mms" and views else ([], views)
    return render(
        request,
        "message.html",
        {
            "message": row,
            "meta": meta,
            "parts": others,
            "slides": slides,
            # the body of an MMS is its text parts joined: shown on the slides instead
            "slide_text": any(p["kind"] == "text" for slide in slides for p in slide["parts"]),
            "conversation": conversation if len(conversation) > 1 else [],
            "history": history,
            "assignees": assignees,
            "since": since,
            "moved": request.query_params.get("moved"),
        },
    )


@require_user
async def conversation(request: Request, user: SessionUser) -> Response:
    """The conversation list alone, for a live message page to refresh when an answer arrives."""
    message_id = int(request.path_params["message_id"])
    async with user_tx(request) as conn:
        row = await (await conn.execute(QUERIES["message_by_id"], {"id": message_id})).fetchone()
        if row is None:
            return not_found(request)
        found = await (await conn.execute(WEB_QUERIES["message_conversation"], {"id": message_id})).fetchall()
    return templates.TemplateResponse(request, "_conversation.html", {
        "conversation": found if len(found) > 1 else [], "current": message_id})


@require_user
async def history(request: Request, user: SessionUser) -> Response:
    """The delivery history list alone, for a live message page to refresh."""
    message_id = int(request.path_params["message_id"])
    async with user_tx(request) as conn:
        row = await (await conn.execute(QUERIES["message_by_id"], {"id": message_id})).fetchone()
        if row is None:
            return not_found(request)
        steps = await (await conn.execute(QUERIES["message_history"], {"id": message_id})).fetchall()
    return templates.TemplateResponse(request, "_history.html", {"history": steps})


@require_user
async def part(request: Request, user: SessionUser) -> Response:
    """One part's bytes: a download, or inline for plain images and sound."""
    async with user_tx(request) as conn:
        row = await (
            await conn.execute(
                WEB_QUERIES["message_part_data"],
                {"message_id": request.path_params["message_id"], "part_id": request.path_params["part_id"]},
            )
        ).fetchone()
    if row is None:
        return not_found(request)
    media_type = served_type(row["content_type"])
    inline = request.query_params.get("inline") == "1" and media_type != "application/octet-stream"
    return Response(
        bytes(row["data"]),
        media_type=media_type,
        headers={
            "Content-Disposition": disposition(row["filename"], int(request.path_params["part_id"]), inline),
            "Content-Security-Policy": PART_CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )


@require_user
async def assign(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    kind, _, raw_id = form.get("assignee", "").partition(":")
    if kind not in ("user", "group", "") or (kind and not raw_id.isdigit()):
        return PlainTextResponse("Choose a user or a group from the list.", status_code=400)
    message_id = int(request.path_params["message_id"])
    async with user_tx(request) as conn:
        row = await (
            await conn.execute(
                QUERIES["assign_message"],
                {
                    "message_id": message_id,
                    "actor": user.username,
                    "user_id": int(raw_id) if kind == "user" else None,
                    "group_id": int(raw_id) if kind == "group" else None,
                },
            )
        ).fetchone()
    if not row or not row["assigned"]:
        return not_found(request)
    return RedirectResponse(f"/messages/{message_id}", status_code=303)


@require_user
async def move(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    raw = form.get("folder", "")
    if raw and not raw.isdigit():
        return PlainTextResponse("Choose a folder from the list.", status_code=400)
    message_id = int(request.path_params["message_id"])
    async with user_tx(request) as conn:
        row = await (
            await conn.execute(
                WEB_QUERIES["move_message"], {"message_id": message_id, "folder_id": int(raw) if raw else None}
            )
        ).fetchone()
    if row is None:
        return not_found(request)
    return RedirectResponse(f"/messages/{message_id}?moved=1", status_code=303)


@require_user
async def new_folder(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    name = form.get("name", "").strip()[:100]
    raw_group = form.get("group", "")
    async with user_tx(request) as conn:
        groups = {
            g["id"] for g in await (await conn.execute(WEB_QUERIES["my_groups"], {"user_id": user.user_id})).fetchall()
        }
        group_id = int(raw_group) if raw_group.isdigit() else None
        if not name or (group_id is not None and group_id not in groups):
            return PlainTextResponse("Give the folder a name (and pick one of your groups, or none).", status_code=400)
        row = await (
            await conn.execute(
                WEB_QUERIES["create_folder"], {"name": name, "user_id": user.user_id, "group_id": group_id}
            )
        ).fetchone()
    assert row is not None
    return RedirectResponse(f"/folders/{row['id']}", status_code=303)


routes: list[BaseRoute] = [
    Route("/folders/{key}", folder),
    Route("/folders", new_folder, methods=["POST"]),
    Route("/messages/{message_id:int}", message),
    Route("/messages/{message_id:int}/parts/{part_id:int}", part),
    Route("/messages/{message_id:int}/history", history),
    Route("/messages/{message_id:int}/conversation", conversation),
    Route("/messages/{message_id:int}/assign", assign, methods=["POST"]),
    Route("/messages/{message_id:int}/move", move, methods=["POST"]),
]
