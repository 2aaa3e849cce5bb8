"""Writing a message: SMS, MMS or e-mail, to numbers, addresses, contacts or
a list; queued through hub.outbox as the signed-in user, so the outbox
trigger validates it exactly as it validates an integrator's row."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.hub.queries import QUERIES
from msghub.mms.media import PictureTooLarge, content_type_of, fit_files
from msghub.web.common import check_csrf, csrf_failed, render, require_user, user_tx
from msghub.web.compose_checks import MMS_MAX_BYTES, channel_refusal, mms_size
from msghub.web.pages.recipients import resolve_names
from msghub.web.queries import WEB_QUERIES
from msghub.web.security import SessionUser

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_FILES = 20
CHANNELS = ("sms", "mms", "email")
PRIORITIES = {0: "bulk", 1: "normal", 2: "high", 3: "urgent"}
_SPLIT = re.compile(r"[,;\n]+")
_ANGLE = re.compile(r"<([^<>]+)>\s*$")

# the outbox trigger's column -> the form field the error belongs to
FIELD_OF_COLUMN = {
    "recipient": "to",
    "recipients": "to",
    "list": "to",
    "list_id": "to",
    "text": "text",
    "attachments": "files",
    "sender": "sender",
    "send_at": "send_at",
    "valid_until": "valid_until",
    "connection": "connection",
    "priority": "priority",
    "channel": "channel",
    "cc": "cc",
    "bcc": "bcc",
}
# plainer words for the refusals people meet most
FRIENDLY = (
    ("no recipient", "Add at least one recipient, or choose a list."),
    ("empty message", "Write some text (or, for MMS and e-mail, attach a file)."),
    ("an SMS carries no attachments", "An SMS cannot carry files. Choose MMS or e-mail, or remove the files."),
    ("already expired", "That expiry time has passed. Choose a later one, or leave it empty."),
    ("send_at", "The message would expire before it is sent. Choose an expiry after the send time."),
    (
        "no route for",
        "No connection is set up to carry this message to that recipient. Choose a connection under Options, "
        "or ask an administrator to mark one as the default for this channel.",
    ),
)


@dataclass
class Draft:
    channel: str = "sms"
    to: str = ""
    to_list: str = ""
    cc: str = ""  # MMS copies: shown to every recipient
    bcc: str = ""  # and hidden ones
    sender: str = ""
    subject: str = ""
    text: str = ""
    connection: str = ""
    send_at: str = ""
    valid_until: str = ""
    tz_offset: str = "0"
    delivery_report: bool = False
    transliterate: bool = False
    priority: int = 1


def recipients(raw: str) -> list[str]:
    """'Ann <+1555...>, +1666...' -> ['+1555...', '+1666...']"""
    out = []
    for piece in _SPLIT.split(raw):
        piece = piece.strip()
        match = _ANGLE.search(piece)
        if match:
            piece = match.group(1).strip()
        if piece:
            out.append(piece)
    return out


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdecimal() and len(value) < 19


def local_time(value: str, tz_offset_min: str) -> dt.datetime | None:
    """A datetime-local value in the browser's zone (getTimezoneOffset minutes) as UTC."""
    if not value:
        return None
    naive = dt.datetime.fromisoformat(value)
    offset = int(tz_offset_min) if re.fullmatch(r"-?\d{1,4}", tz_offset_min) else 0
    return (naive + dt.timedelta(minutes=offset)).replace(tzinfo=dt.UTC)


def person_message(reason: str) -> str:
    for start, text in FRIENDLY:
        if reason.startswith(start):
            return text
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")


def refusal(exc: psycopg.Error) -> tuple[str, str]:
    """(form field, message for a person) for an error of the outbox insert."""
    primary = (exc.diag.message_primary or str(exc)).strip()
    column = exc.diag.column_name or ""
    reason = primary.split(": ", 1)[1] if primary.startswith("hub.outbox.") and ": " in primary else primary
    if isinstance(exc, psycopg.errors.CheckViolation) and "send_before_expiry" in (exc.diag.constraint_name or ""):
        return "valid_until", "The message would expire before it is sent. Choose an expiry after the send time."
    return FIELD_OF_COLUMN.get(column, "form"), person_message(reason)


async def form_context(request: Request, draft: Draft) -> dict[str, Any]:
    async with user_tx(request) as conn:
        lists = await (await conn.execute(WEB_QUERIES["compose_lists"])).fetchall()
        connections = await (await conn.execute(WEB_QUERIES["compose_connections"])).fetchall()
    return {
        "draft": draft,
        "kept_files": [],
        "lists": lists,
        "connections": connections,
        "priorities": PRIORITIES,
        "errors": {},
    }


@require_user
async def compose_form(request: Request, user: SessionUser) -> Response:
    draft = Draft()
    reply_to = request.query_params.get("reply_to", "")
    if reply_to.isdigit():
        async with user_tx(request) as conn:
            source = await (await conn.execute(WEB_QUERIES["reply_source"], {"id": int(reply_to)})).fetchone()
        if source is not None:
            draft.channel, draft.to = source["channel"], source["sender"] or ""
            if source["subject"]:
                subject = source["subject"]
                draft.subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    draft.to = request.query_params.get("to", draft.to)[:1000]
    return render(request, "compose.html", await form_context(request, draft))


async def read_draft(request: Request) -> tuple[Draft, dict[str, str], list[dict[str, str]]]:
    async with request.form(max_files=MAX_FILES, max_fields=100, max_part_size=MAX_UPLOAD_BYTES) as form:
        return await _draft_of(form)


async def _draft_of(form: FormData) -> tuple[Draft, dict[str, str], list[dict[str, str]]]:
    text: dict[str, str] = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    priority = text.get("priority", "1")
    draft = Draft(
        channel=text.get("channel", "sms"),
        to=text.get("to", ""),
        to_list=text.get("list", ""),
        cc=text.get("cc", ""),
        bcc=text.get("bcc", ""),
        sender=text.get("sender", "").strip(),
        subject=text.get("subject", ""),
        text=text.get("text", ""),
        connection=text.get("connection", ""),
        send_at=text.get("send_at", ""),
        valid_until=text.get("valid_until", ""),
        tz_offset=text.get("tz_offset", "0"),
        delivery_report="delivery_report" in text,
        transliterate="transliterate" in text,
        priority=int(priority) if priority in ("0", "1", "2", "3") else 1,
    )
    files = [kept for raw in form.getlist("kept_file") if isinstance(raw, str) and (kept := _kept(raw))]
    for _, value in form.multi_items():
        if isinstance(value, UploadFile) and value.filename:
            data = await value.read()
            files.append(
                {
                    "filename": value.filename[:200],
                    # by the bytes, not by the name the browser guessed from
                    "content_type": content_type_of(data, value.content_type),
                    "data": base64.b64encode(data).decode("ascii"),
                }
            )
    return draft, text, files


def _kept(raw: str) -> dict[str, str] | None:
    """A file of a refused form, carried back in the page (a browser cannot
    refill a file input) as JSON {filename, content_type, data}."""
    try:
        value = json.loads(raw)
        base64.b64decode(value["data"], validate=True)
        return {
            "filename": str(value["filename"])[:200],
            "content_type": str(value["content_type"])[:200],
            "data": str(value["data"]),
        }
    except (ValueError, KeyError, TypeError):
        return None


def _kept_view(files: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [
        {"filename": f["filename"], "kb": -(-len(f["data"]) * 3 // 4 // 1024), "json": json.dumps(f)} for f in files
    ]


@require_user
async def compose_send(request: Request, user: SessionUser) -> Response:
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD_BYTES:
        return render(
            request,
            "compose.html",
            {
                **await form_context(request, Draft()),
                "errors": {"files": f"The files are larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB together."},
            },
            status_code=413,
        )
    draft, fields, files = await read_draft(request)
    if not check_csrf(request, fields):
        return csrf_failed()
    errors: dict[str, str] = {}
    if draft.channel not in CHANNELS:
        errors["channel"] = "Choose SMS, MMS or e-mail."
    try:
        send_at = local_time(draft.send_at, draft.tz_offset)
    except ValueError:
        errors["send_at"] = "Give the send time as a date and a time."
    try:
        valid_until = local_time(draft.valid_until, draft.tz_offset)
    except ValueError:
        errors["valid_until"] = "Give the expiry as a date and a time."
    resolved = None
    if not errors:
        if draft.channel == "mms":
            files = _within_mms_ceiling(files)
        where, reason = channel_refusal(draft.channel, draft.text, files, draft.transliterate)
        if where:
            errors[where] = reason
    copies: dict[str, list[str] | None] = {"cc": None, "bcc": None}
    if not errors:
        async with user_tx(request) as conn:
            resolved = await resolve_names(conn, recipients(draft.to), draft.channel)
            for name, raw in (("cc", draft.cc), ("bcc", draft.bcc)):
                if not recipients(raw):
                    continue
                if draft.channel != "mms":  # the fields show only for MMS, but a form without scripts has them
                    errors[name] = "Only an MMS has copies: choose MMS, or empty Cc and Bcc."
                    continue
                found = await resolve_names(conn, recipients(raw), "mms")
                if found.error:
                    errors[name] = found.error
                copies[name] = found.addresses or None
        if resolved.error:
            errors["to"] = resolved.error
    if not errors and resolved is not None:
        params = {
            "channel": draft.channel,
            "recipients": resolved.addresses or None,
            "cc": copies["cc"],
            "bcc": copies["bcc"],
            # the form names a list by id (names repeat across owners); a name still works
            "list_id": int(draft.to_list) if _is_id(draft.to_list) else None,
            "list": None if _is_id(draft.to_list) else draft.to_list or None,
            "sender": draft.sender or None,
            "subject": draft.subject.strip() or None,
            "text": draft.text or None,
            "attachments": Jsonb(files) if files else None,
            "connection": draft.connection or None,
            "send_at": send_at,
            "valid_until": valid_until,
            "delivery_report": draft.delivery_report,
            "priority": draft.priority,
            "transliterate": draft.transliterate,
            "user_id": user.user_id,
        }
        try:
            try:
                outbox_id, ids = await _queue(request, params)
            except psycopg.errors.InvalidParameterValue as exc:
                # an MMS over its size class: scale the pictures to fit, once
                fitted = _fitted(exc, draft.channel, files)
                if fitted is None:
                    raise
                params["attachments"] = Jsonb(fitted)
                outbox_id, ids = await _queue(request, params)
        except (
            psycopg.errors.InvalidParameterValue,
            psycopg.errors.CheckViolation,
            psycopg.errors.InvalidTextRepresentation,
            psycopg.errors.DataException,
        ) as exc:
            where, message = refusal(exc)
            errors[where] = message
        else:
            target = f"/messages/{ids[0]}" if len(ids) == 1 else f"/folders/outbox?queued={outbox_id}"
            return RedirectResponse(target, status_code=303)
    context = await form_context(request, draft)
    context["errors"] = errors
    context["kept_files"] = _kept_view(files)
    return render(request, "compose.html", context, status_code=400)


_OVER_MMS_LIMIT = re.compile(r"over the mms limit of (\d+) bytes")


async def _queue(request: Request, params: dict[str, Any]) -> tuple[int, list[int]]:
    """Queues the form's row; (the hub.outbox row's id, the ids of the messages it made)."""
    async with user_tx(request) as conn:
        row = await (await conn.execute(WEB_QUERIES["compose_insert"], params)).fetchone()
        assert row is not None
        outbox_id = int(row["id"])
        return outbox_id, [r["id"] for r in await (await conn.execute(QUERIES["outbox_messages"],
                                                                            {"id": outbox_id})).fetchall()]


def _within_mms_ceiling(files: list[dict[str, str]]) -> list[dict[str, str]]:
    """The files with their pictures scaled to the largest MMS class when
    they exceed it; as they are when they fit, or when no scaling can make
    them fit (channel_refusal then says why)."""
    if mms_size(files) <= MMS_MAX_BYTES:
        return files
    try:
        return fit_files(files, MMS_MAX_BYTES - 1024)  # a little room for the SMIL msghub adds
    except PictureTooLarge:
        return files


def _fitted(exc: Exception, channel: str, files: list[dict[str, str]]) -> list[dict[str, str]] | None:
    found = _OVER_MMS_LIMIT.search(str(exc))
    if channel != "mms" or found is None:
        return None
    try:
        return fit_files(files, int(found.group(1)) - 1024)  # a little room for the SMIL msghub adds
    except PictureTooLarge:
        return None


routes: list[BaseRoute] = [
    Route("/compose", compose_form),
    Route("/compose", compose_send, methods=["POST"]),
]
