"""The HTTP API: send messages and read them with an API key (docs/API.md).

Every request carries ``Authorization: Bearer mh_<key id>_<secret>``. Cookies
are never looked at, so a browser session cannot be ridden into the API and
the API needs no CSRF token. A request works as the key's owner: the outbox
trigger validates what it sends and row-level security decides what it reads,
exactly as for that user's web session. Errors are JSON:
``{"error": {"code": ..., "message": ..., "field": ...}}`` with a 4xx status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.gateway.throttle import FailedLogins, RateLimit
from msghub.hub.login_limits import ADDRESS_WINDOW_S, address_blocked, address_failed
from msghub.web.common import MAX_ID, as_user, json_error, pool_of
from msghub.web.queries import ADMIN_QUERIES

KEY_PREFIX = "mh"
MAX_BODY_BYTES = 30 * 1024 * 1024  # base64 attachments of the largest e-mail
SEND_MEDIA_TYPES = ("application/json", "multipart/form-data")
MAX_FORM_FILES = 100
MAX_FORM_FIELDS = 10_000  # to may repeat once per recipient
MAX_FORM_PART_BYTES = 4 * 1024 * 1024  # a text field: the longest text, UTF-8
MAX_PAGE = 500
DEFAULT_PAGE = 100
FOLDERS = ("inbox", "outbox", "sent", "failed", "all")
PRIORITIES = {"bulk": 0, "normal": 1, "high": 2, "urgent": 3}

# request field -> how it is checked; the outbox column is the same name
# except for "to" (recipient or recipients)
_STRING_FIELDS = ("channel", "text", "subject", "sender", "list", "connection", "idempotency_key", "correlation_id")
_BOOL_FIELDS = ("delivery_report", "transliterate")
_TIME_FIELDS = ("send_at", "valid_until")
_COPY_FIELDS = ("cc", "bcc")  # MMS copies (MM7, MM1): one message to `to` with the others as Cc and Bcc
MAX_COPIES = 100  # hub.outbox refuses more; said here before the database is asked
KNOWN_FIELDS = frozenset(("to", "attachments", "priority", *_STRING_FIELDS, *_BOOL_FIELDS, *_TIME_FIELDS,
                          *_COPY_FIELDS))
MAX_STRING = {"idempotency_key": 200, "correlation_id": 200, "subject": 998, "text": 1_000_000}
# requests a minute one key may make (per hub process); more answer 429 with Retry-After
KEY_RATE_PER_MINUTE = int(os.environ.get("MSGHUB_API_KEY_RATE_PER_MINUTE") or 1200)
_key_rate = RateLimit(KEY_RATE_PER_MINUTE)
_failed_logins = FailedLogins()


@dataclass(frozen=True)
class ApiKey:
    id: int
    user_id: int
    username: str
    scopes: tuple[str, ...]


def new_key() -> tuple[str, str, bytes]:
    """(key id, the whole key to show once, SHA-256 of the secret to store)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secret}", hashlib.sha256(secret.encode()).digest()


def _split_key(token: str) -> tuple[str, str] | None:
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id.isalnum() or not key_id.isascii() or not secret:
        return None
    return key_id, secret


class ApiFailure(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, *,
                 retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.retry_after_s = retry_after_s

    def response(self) -> Response:
        extra = {"field": self.field} if self.field else {}
        response = json_error(self.status, self.code, self.message, **extra)
        if self.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="msghub"'
        if self.retry_after_s is not None:
            response.headers["Retry-After"] = str(self.retry_after_s)
        return response


async def authenticate(request: Request, scope: str) -> ApiKey:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiFailure(401, "unauthorized", "Send an API key: Authorization: Bearer mh_<key id>_<secret>.")
    invalid = ApiFailure(401, "unauthorized", "The API key is not valid (unknown, revoked, or its user is disabled).")
    address = request.client.host if request.client else None
    client = address or "unknown"
    # system mode (the pool's default): the key is not anyone's row yet
    async with pool_of(request).connection() as conn:
        if await address_blocked(conn, "api_address", address):
            raise ApiFailure(429, "rate_limited", "Too many wrong API keys from this address: try again later.",
                             retry_after_s=ADDRESS_WINDOW_S)
        parts = _split_key(token.strip())
        row = None if parts is None else await (await conn.execute(
            ADMIN_QUERIES["api_key_lookup"], {"key_id": parts[0]})).fetchone()
        digest = hashlib.sha256((parts[1] if parts else "").encode()).digest()
        if row is None or not hmac.compare_digest(bytes(row["secret_sha256"]), digest):
            await address_failed(conn, "api_address", address)
            row = None
        else:
            await conn.execute(ADMIN_QUERIES["api_key_used"], {"id": row["id"]})
    if row is None or parts is None:
        # slowed after the pool's connection is back: a guesser holds no connection while waiting
        await _failed_logins.failed("api", client)
        raise invalid
    _failed_logins.succeeded(client)
    key_id = parts[0]
    key = ApiKey(int(row["id"]), int(row["user_id"]), row["username"], tuple(row["scopes"]))
    wait_s = _key_rate.retry_after(key_id)
    if wait_s is not None:
        raise ApiFailure(429, "rate_limited", f"More than {_key_rate.per_minute} requests a minute with this key.",
                         retry_after_s=wait_s)
    if scope not in key.scopes:
        raise ApiFailure(403, "forbidden", f"This API key lacks the {scope!r} scope.")
    return key


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _message_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _json_value(v) for k, v in row.items()}


def _parse_time(name: str, value: Any) -> datetime:
    if not isinstance(value, str):
        raise ApiFailure(400, "invalid", f"{name} must be an ISO 8601 date and time string", name)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiFailure(400, "invalid", f"{name} {value[:40]!r} is not an ISO 8601 date and time", name) from None
    if parsed.tzinfo is None:
        raise ApiFailure(400, "invalid", f"{name} needs a time zone, e.g. 2026-01-31T09:00:00Z", name)
    return parsed


def outbox_params(body: Any) -> dict[str, Any]:
    """The outbox row for a request body; ApiFailure (400, naming the field)
    for what is malformed before the database sees it."""
    if not isinstance(body, dict):
        raise ApiFailure(400, "invalid_json", "The body must be a JSON object.")
    unknown = sorted(set(body) - KNOWN_FIELDS)
    if unknown:
        raise ApiFailure(
            400, "unknown_field", f"Unknown field {unknown[0]!r}; see docs/API.md for the fields.", unknown[0]
        )
    params: dict[str, Any] = {name: None for name in _STRING_FIELDS + _TIME_FIELDS}
    params.update(
        recipient=None, recipients=None, attachments=None, delivery_report=False, priority=1, transliterate=False
    )
    for name in _STRING_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiFailure(400, "invalid", f"{name} must be a string", name)
        if isinstance(value, str) and (len(value) > MAX_STRING.get(name, 1000) or "\x00" in value):
            raise ApiFailure(400, "invalid", f"{name} is too long or contains a NUL character", name)
        params[name] = value
    params["channel"] = params["channel"] or "sms"
    to = body.get("to")
    if isinstance(to, str):
        params["recipient"] = to
    elif isinstance(to, list) and to and all(isinstance(t, str) for t in to) and len(to) <= 10_000:
        params["recipients"] = to
    elif to is not None:
        raise ApiFailure(400, "invalid", "to must be an address or a non-empty list of addresses", "to")
    for name in _COPY_FIELDS:
        copies = body.get(name)
        if isinstance(copies, str):
            copies = [copies]
        if copies is not None and not (isinstance(copies, list) and all(isinstance(c, str) for c in copies)
                                       and len(copies) <= MAX_COPIES):
            raise ApiFailure(400, "invalid", f"{name} must be an address or a list of at most {MAX_COPIES}", name)
        params[name] = copies or None
    if to is None and params["list"] is None:
        raise ApiFailure(400, "invalid", "give to (an address or a list of them) or list (a distribution list)", "to")
    for name in _BOOL_FIELDS:
        value = body.get(name, False)
        if not isinstance(value, bool):
            raise ApiFailure(400, "invalid", f"{name} must be true or false", name)
        params[name] = value
    for name in _TIME_FIELDS:
        if body.get(name) is not None:
            params[name] = _parse_time(name, body[name])
    priority = body.get("priority", 1)
    if isinstance(priority, str) and priority in PRIORITIES:
        priority = PRIORITIES[priority]
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 3:
        raise ApiFailure(400, "invalid", "priority must be 0-3 or bulk, normal, high, urgent", "priority")
    params["priority"] = priority
    attachments = body.get("attachments")
    if attachments is not None:
        if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
            raise ApiFailure(
                400, "invalid", 'attachments must be a list of {"filename", "content_type", "data"}', "attachments"
            )
        for index, item in enumerate(attachments):
            extra = sorted(set(item) - {"filename", "content_type", "data"})
            if extra:
                raise ApiFailure(400, "invalid", f"attachments[{index}]: unknown key {extra[0]!r}", "attachments")
        params["attachments"] = Jsonb(attachments)
    return params


async def multipart_body(request: Request) -> dict[str, Any]:
    """A multipart/form-data send as the JSON body it stands for: the same
    field names (``to`` may repeat), every file part an attachment."""
    try:
        async with request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS,
                                max_part_size=MAX_FORM_PART_BYTES) as form:
            return await _form_fields(form.multi_items())
    except HTTPException as exc:
        raise ApiFailure(400, "invalid_form", f"The multipart body is malformed: {exc.detail}") from None


async def _form_fields(items: list[tuple[str, str | UploadFile]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    attachments: list[dict[str, str]] = []
    recipients: list[str] = []
    for name, value in items:
        if isinstance(value, UploadFile):
            data = await value.read()
            attachments.append({"filename": value.filename or name, "data": base64.b64encode(data).decode(),
                                "content_type": value.content_type or "application/octet-stream"})
        elif name == "to":
            recipients.append(value)
        elif name in _COPY_FIELDS:
            body.setdefault(name, []).append(value)
        elif name in body:
            raise ApiFailure(400, "invalid", f"{name} is given twice", name)
        elif name in _BOOL_FIELDS:
            if value.lower() not in ("true", "false", "1", "0"):
                raise ApiFailure(400, "invalid", f"{name} must be true or false", name)
            body[name] = value.lower() in ("true", "1")
        elif name == "priority" and value.isascii() and value.isdigit():
            body[name] = int(value)
        elif name == "attachments":
            raise ApiFailure(400, "invalid", "attachments of a multipart send are file parts", name)
        else:
            body[name] = value
    if recipients:
        body["to"] = recipients[0] if len(recipients) == 1 else recipients
    if attachments:
        body["attachments"] = attachments
    return body


def _outbox_error(exc: psycopg.Error) -> ApiFailure:
    column = exc.diag.column_name
    message = exc.diag.message_primary or str(exc) or "refused by the database"
    field = {"recipient": "to", "recipients": "to"}.get(column or "", column)
    if isinstance(exc, psycopg.errors.CheckViolation) and exc.diag.constraint_name == "messages_send_before_expiry":
        field = "send_at"
    if isinstance(exc, psycopg.errors.InvalidParameterValue | psycopg.errors.CheckViolation):
        return ApiFailure(422, "refused", message, field)
    # text the database cannot store (a NUL character, a time out of range)
    return ApiFailure(400, "invalid", message, field)


def _key_conflict() -> ApiFailure:
    """Another sender's idempotency key (the outbox refuses it: schema/50_outbox.sql)."""
    return ApiFailure(409, "conflict", "This idempotency_key was used by someone else.", "idempotency_key")


async def send_message(request: Request) -> Response:
    try:
        key = await authenticate(request, "send")
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in SEND_MEDIA_TYPES:
            raise ApiFailure(
                415, "unsupported_media_type",
                "Send the message as JSON (Content-Type: application/json) or as multipart/form-data.",
            )
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            raise ApiFailure(413, "too_large", f"The request is larger than {MAX_BODY_BYTES} bytes.")
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ApiFailure(413, "too_large", f"The request is larger than {MAX_BODY_BYTES} bytes.")
        if media_type == "multipart/form-data":
            body = await multipart_body(request)
        else:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ApiFailure(400, "invalid_json", f"The body is not valid JSON: {exc}") from None
        params = outbox_params(body)
        duplicate = False
        async with as_user(pool_of(request), key.user_id) as conn:
            try:
                async with conn.transaction():
                    row = await (await conn.execute(ADMIN_QUERIES["api_outbox_insert"], params)).fetchone()
            except (psycopg.DataError, psycopg.errors.CheckViolation) as exc:
                if exc.diag.column_name == "idempotency_key" and "another sender" in (exc.diag.message_primary or ""):
                    raise _key_conflict() from None
                raise _outbox_error(exc) from None
            if row is None:
                # the outbox skipped it: this idempotency key was used before
                duplicate = True
                row = await (
                    await conn.execute(
                        ADMIN_QUERIES["api_outbox_by_key"], {"idempotency_key": params["idempotency_key"]}
                    )
                ).fetchone()
                if row is None:
                    raise _key_conflict()
            messages = await (
                await conn.execute(ADMIN_QUERIES["api_outbox_messages"], {"outbox_id": row["id"]})
            ).fetchall()
    except ApiFailure as failure:
        return failure.response()
    return JSONResponse(
        {"outbox_id": row["id"], "duplicate": duplicate, "messages": [_message_json(m) for m in messages]},
        status_code=200 if duplicate else 201,
    )


async def get_message(request: Request) -> Response:
    try:
        key = await authenticate(request, "read")
        message_id = int(request.path_params["message_id"])
        row = None
        if message_id <= MAX_ID:
            async with as_user(pool_of(request), key.user_id) as conn:
                row = await (await conn.execute(ADMIN_QUERIES["api_message"], {"id": message_id})).fetchone()
        if row is None:
            raise ApiFailure(404, "not_found", "No such message, or not one this key's user can see.")
    except ApiFailure as failure:
        return failure.response()
    return JSONResponse(_message_json(row))


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiFailure(400, "invalid", f"{name} must be a whole number from {low} to {high}", name)
    return int(raw)


async def list_messages(request: Request) -> Response:
    try:
        key = await authenticate(request, "read")
        folder = request.query_params.get("folder", "inbox")
        if folder not in FOLDERS:
            raise ApiFailure(400, "invalid", f"folder must be one of {', '.join(FOLDERS)}", "folder")
        after = _int_param(request, "after", 0, 0, MAX_ID)
        limit = _int_param(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
        async with as_user(pool_of(request), key.user_id) as conn:
            rows = await (
                await conn.execute(ADMIN_QUERIES["api_messages"], {"folder": folder, "after": after, "limit": limit})
            ).fetchall()
    except ApiFailure as failure:
        return failure.response()
    return JSONResponse(
        {"messages": [_message_json(r) for r in rows], "next_after": rows[-1]["id"] if len(rows) == limit else None}
    )


async def cancel_message(request: Request) -> Response:
    try:
        key = await authenticate(request, "send")
        message_id = int(request.path_params["message_id"])
        row = None
        if message_id <= MAX_ID:
            async with as_user(pool_of(request), key.user_id) as conn:
                row = await (await conn.execute(ADMIN_QUERIES["api_message"], {"id": message_id})).fetchone()
                if row is not None and row["direction"] == "out":
                    done = await (await conn.execute(ADMIN_QUERIES["api_cancel"], {"id": message_id})).fetchone()
                    if done and done["cancelled"]:
                        row = await (await conn.execute(ADMIN_QUERIES["api_message"], {"id": message_id})).fetchone()
                        assert row is not None
                        return JSONResponse(_message_json(row))
        if row is None:
            raise ApiFailure(404, "not_found", "No such message, or not one this key's user can see.")
        raise ApiFailure(
            409, "conflict", f"Only a queued outgoing message can be cancelled; this one is {row['status']}."
        )
    except ApiFailure as failure:
        return failure.response()


async def messages(request: Request) -> Response:
    if request.method == "POST":
        return await send_message(request)
    return await list_messages(request)


routes: list[BaseRoute] = [
    Route("/api/v1/messages", messages, methods=["GET", "POST"]),
    Route("/api/v1/messages/{message_id:int}", get_message, methods=["GET"]),
    Route("/api/v1/messages/{message_id:int}/cancel", cancel_message, methods=["POST"]),
]
