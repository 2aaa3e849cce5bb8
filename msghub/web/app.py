"""The web app: login, logout, the status page and a health check.

Server-rendered with jinja2 (autoescape on). The full messaging UI is built
on this app; everything here already follows its rules: database sessions,
CSRF tokens on every POST, a strict Content-Security-Policy.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
import psycopg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from msghub.hub.db import Pool, Row
from msghub.hub.external_auth import ExternalAuthSettings, check_external_login
from msghub.hub.queries import QUERIES
from msghub.web.security import (
    PRELOGIN_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    SESSION_TTL_S,
    SessionUser,
    new_token,
    token_digest,
    tokens_match,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
MAX_FORM_BYTES = 64 * 1024


@contextlib.asynccontextmanager
async def as_user(pool: Pool, user_id: int) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
    """A transaction that sees only what this hub user may see: row-level
    security keys on msghub.user_id (schema/15_identity.sql)."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(QUERIES["act_as_user"], {"user_id": str(user_id)})
        yield conn


async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(pool: Pool, *, secure_cookies: bool = False,
               auth_settings: ExternalAuthSettings | None = None) -> Starlette:
    # read once: a wrong LDAP or PAM setting stops the start, not a login
    auth_settings = auth_settings or ExternalAuthSettings.from_env()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
    templates = Jinja2Templates(env=env)

    def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                            secure=secure_cookies, path="/")

    async def current_user(request: Request) -> SessionUser | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        async with pool.connection() as conn:
            row = await (await conn.execute(QUERIES["web_session"], {"token_sha256": token_digest(token)})).fetchone()
        if row is None:
            return None
        return SessionUser(row["user_id"], row["username"], row["display_name"], row["role"], row["csrf_token"])

    async def read_form(request: Request) -> dict[str, str]:
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return {}
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def login_page(request: Request, *, error: str | None = None, username: str = "",
                   status_code: int = 200) -> Response:
        token = new_token()
        response = templates.TemplateResponse(request, "login.html", {
            "csrf_token": token, "error": error, "username": username, "user": None},
            status_code=status_code)
        set_cookie(response, PRELOGIN_COOKIE, token, 3600)
        return response

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return login_page(request)
        form = await read_form(request)
        if not tokens_match(request.cookies.get(PRELOGIN_COOKIE), form.get("csrf_token")):
            return login_page(request, error="The form expired. Please log in again.", status_code=403)
        username = form.get("username", "").strip()
        async with pool.connection() as conn:
            # local accounts, host accounts (PAM) and directory accounts (LDAP)
            result = await check_external_login(conn, username, form.get("password", ""), settings=auth_settings,
                                                client=request.client.host if request.client else None)
            await conn.execute(QUERIES["audit"], {
                "actor_user_id": result.user_id, "actor": username[:64],
                "action": "login" if result.user_id else "login.failed", "target": None,
                "detail": "{}", "source": request.client.host if request.client else None})
            if result.user_id is None:
                return login_page(request, error=result.error, username=username, status_code=401)
            token = new_token()
            await conn.execute(QUERIES["create_web_session"], {
                "token_sha256": token_digest(token), "user_id": result.user_id,
                "csrf_token": new_token(), "ttl_s": SESSION_TTL_S})
        response = RedirectResponse("/", status_code=303)
        set_cookie(response, SESSION_COOKIE, token, SESSION_TTL_S)
        response.delete_cookie(PRELOGIN_COOKIE, path="/")
        return response

    async def logout(request: Request) -> Response:
        user = await current_user(request)
        form = await read_form(request)
        if user is None or not tokens_match(user.csrf_token, form.get("csrf_token")):
            return PlainTextResponse("invalid or missing CSRF token", status_code=403)
        async with pool.connection() as conn:
            await conn.execute(QUERIES["delete_web_session"],
                               {"token_sha256": token_digest(request.cookies[SESSION_COOKIE])})
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def status(request: Request) -> Response:
        user = await current_user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        async with as_user(pool, user.user_id) as conn:
            connections = await (await conn.execute(QUERIES["connection_status"])).fetchall()
            messages = await (await conn.execute(QUERIES["recent_messages"], {"limit": 50})).fetchall()
        context: dict[str, Any] = {"user": user, "connections": connections, "messages": messages}
        return templates.TemplateResponse(request, "status.html", context)

    async def message(request: Request) -> Response:
        user = await current_user(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        message_id = int(request.path_params["message_id"])
        async with as_user(pool, user.user_id) as conn:
            row = await (await conn.execute(QUERIES["message_by_id"], {"id": message_id})).fetchone()
            history = await (await conn.execute(QUERIES["message_history"], {"id": message_id})).fetchall()
            assignees = await (await conn.execute(QUERIES["assignees"])).fetchall()
        if row is None:
            return not_found(request, user)
        return templates.TemplateResponse(request, "message.html", {
            "user": user, "message": row, "history": history, "assignees": assignees})

    def not_found(request: Request, user: SessionUser) -> Response:
        # the same answer whether it does not exist or is someone else's
        return templates.TemplateResponse(request, "not_found.html", {"user": user}, status_code=404)

    async def assign(request: Request) -> Response:
        user = await current_user(request)
        form = await read_form(request)
        if user is None or not tokens_match(user.csrf_token, form.get("csrf_token")):
            return PlainTextResponse("invalid or missing CSRF token", status_code=403)
        kind, _, raw_id = form.get("assignee", "").partition(":")
        if kind not in ("user", "group", "") or (kind and not raw_id.isdigit()):
            return PlainTextResponse("choose a user or a group", status_code=400)
        message_id = int(request.path_params["message_id"])
        async with as_user(pool, user.user_id) as conn:
            row = await (await conn.execute(QUERIES["assign_message"], {
                "message_id": message_id, "actor": user.username,
                "user_id": int(raw_id) if kind == "user" else None,
                "group_id": int(raw_id) if kind == "group" else None})).fetchone()
        if not row or not row["assigned"]:
            return not_found(request, user)
        return RedirectResponse(f"/messages/{message_id}", status_code=303)

    async def health(request: Request) -> Response:
        try:
            async with pool.connection() as conn:
                await conn.execute("SELECT 1")
        except Exception as exc:
            return JSONResponse({"ok": False, "database": str(exc)}, status_code=503)
        return JSONResponse({"ok": True})

    routes = [
        Route("/", status),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/messages/{message_id:int}", message),
        Route("/messages/{message_id:int}/assign", assign, methods=["POST"]),
        Route("/healthz", health),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=_security_headers)])
