"""Kannel-compatible ``/cgi-bin/sendsms`` (docs/KANNEL.md): Kannel's fields,
answers and status codes, over msghub's outbox.

A sendsms user is an API key with the ``send`` scope: ``username`` is the
key's id and ``password`` its secret (or the whole key). Credentials in the
URL are refused unless an administrator turned ``kannel_url_passwords`` on;
a POST (a form body, or text with X-Kannel-* headers) always works. Each
failed login slows that address's next answers and is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import parse_qsl

import psycopg
from psycopg.types.json import Jsonb
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.gateway import kannel
from msghub.gateway.queries import GATEWAY_QUERIES
from msghub.gateway.throttle import FailedLogins
from msghub.web.common import as_user, pool_of
from msghub.web.queries import ADMIN_QUERIES

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
_failures = FailedLogins()


def _answer(status_text: tuple[int, str]) -> Response:
    status, text = status_text
    return PlainTextResponse(text, status_code=status, media_type="text/html",
                             headers={"Cache-Control": "no-cache", "Pragma": "no-cache"})


def _raw_pairs(query: bytes) -> dict[str, bytes]:
    """The fields as bytes (the first of repeated names wins, as in Kannel)."""
    args: dict[str, bytes] = {}
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
        args.setdefault(name, value.encode("latin-1"))
    return args


async def _user_of(request: Request, username: str, password: str) -> tuple[int, str] | None:
    key_id, secret = username, password
    prefix, _, rest = password.partition("_")
    if prefix == "mh" and "_" in rest:
        key_id, _, secret = rest.partition("_")
        if username and username != key_id:
            return None
    if not key_id or not secret or not key_id.isascii() or not key_id.isalnum():
        return None
    async with pool_of(request).connection() as conn:
        row = await (await conn.execute(ADMIN_QUERIES["api_key_lookup"], {"key_id": key_id})).fetchone()
        digest = hashlib.sha256(secret.encode()).digest()
        if row is None or not hmac.compare_digest(bytes(row["secret_sha256"]), digest) or "send" not in row["scopes"]:
            return None
        await conn.execute(ADMIN_QUERIES["api_key_used"], {"id": row["id"]})
    return int(row["user_id"]), key_id


async def _url_passwords_allowed(request: Request) -> bool:
    async with pool_of(request).connection() as conn:
        row = await (await conn.execute(GATEWAY_QUERIES["setting"], {"key": "kannel_url_passwords"})).fetchone()
    return bool(row and row["value"] == "on")


async def _fields(request: Request) -> dict[str, bytes]:
    """The request's fields, or KannelError for a body Kannel would refuse."""
    query = _raw_pairs(request.scope.get("query_string", b""))
    if request.method == "GET":
        return query
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        raise kannel.KannelError(413, "Request too large, rejected")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise kannel.KannelError(413, "Request too large, rejected")
    content_type, _, rest = request.headers.get("content-type", "").partition(";")
    content_type = content_type.strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        # msghub accepts a form as well: the fields of a GET, in the body
        return {**query, **_raw_pairs(body)}
    if content_type in ("text/plain", "application/octet-stream"):
        fields = kannel.args_from_headers(request.headers.raw)
        fields["text"] = body
        charset = rest.partition("charset=")[2].strip().strip('"')
        if charset:
            fields.setdefault("charset", charset.encode())
        if content_type == "application/octet-stream" and "coding" not in fields:
            fields["coding"] = b"1"  # Kannel: a binary body is 8-bit
        return fields
    raise kannel.KannelError(400, "Invalid content-type")


async def sendsms(request: Request) -> Response:
    client = request.client.host if request.client else "unknown"
    try:
        fields = await _fields(request)
    except kannel.KannelError as error:
        return _answer((error.status, error.text))
    in_url = request.method == "GET" or any(
        name in fields and name in _raw_pairs(request.scope.get("query_string", b""))
        for name in ("password", "pass"))
    username = (kannel.first(fields, "username", "user") or b"").decode("utf-8", "replace")
    password = (kannel.first(fields, "password", "pass") or b"").decode("utf-8", "replace")
    found = None
    if in_url and not await _url_passwords_allowed(request):
        log.warning("sendsms: %s sent its password in the URL, which kannel_url_passwords=off refuses", client)
    else:
        found = await _user_of(request, username, password)
    if found is None:
        await _failures.failed("sendsms", client)
        return _answer(kannel.AUTH_FAILED)
    _failures.succeeded(client)
    user_id, key_id = found
    try:
        send = kannel.parse_sendsms(fields)
    except kannel.KannelError as error:
        return _answer((error.status, error.text))
    try:
        async with as_user(pool_of(request), user_id) as conn:
            try:
                async with conn.transaction():
                    outbox = await (await conn.execute(GATEWAY_QUERIES["sendsms_outbox_insert"],
                                                       send.outbox_row())).fetchone()
            except (psycopg.DataError, psycopg.errors.CheckViolation, psycopg.errors.InvalidParameterValue) as exc:
                log.info("sendsms from %s refused: %s", username, exc.diag.message_primary or exc)
                return _answer(kannel.NOT_ROUTABLE)
            assert outbox is not None
            queued = await (await conn.execute(GATEWAY_QUERIES["sendsms_remember"], {
                "outbox_id": outbox["id"], "username": key_id, "dlr_url": send.dlr_url,
                "dlr_mask": send.dlr_mask, "params": Jsonb(send.params)})).fetchone()
    except psycopg.OperationalError:
        log.exception("sendsms: the database is not reachable")
        return _answer(kannel.TEMPORARY)
    assert queued is not None
    return _answer(kannel.ACCEPTED if queued["all_up"] else kannel.QUEUED_LATER)


routes: list[BaseRoute] = [Route("/cgi-bin/sendsms", sendsms, methods=["GET", "POST"])]
