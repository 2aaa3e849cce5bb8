"""The web app: login, logout, the status page, a health check, and every
page module in msghub/web/pages/.

Server-rendered with jinja2 (autoescape on). Database sessions, CSRF tokens
on every POST, a strict Content-Security-Policy (no inline script). Shared
helpers for pages live in msghub/web/common.py.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from msghub.auth.external import LOCKED, WRONG, ExternalAuthSettings, check_external_login
from msghub.hub.db import Pool
from msghub.hub.login_limits import ADDRESS_WINDOW_S, RATE_LIMITED, address_blocked, address_failed
from msghub.hub.notify import Listener
from msghub.hub.queries import QUERIES
from msghub.web import live, pages
from msghub.web.common import (
    HERE,
    as_user,
    check_csrf,
    csrf_failed,
    current_user,
    pool_of,
    read_form,
    render,
    require_user,
)
from msghub.web.pages import messages
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

__all__ = ["as_user", "create_app", "page_routes"]

log = logging.getLogger(__name__)


async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def page_routes() -> list[BaseRoute]:
    """The routes of every module in msghub/web/pages/ that exports ``routes``."""
    found: list[BaseRoute] = []
    for info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{pages.__name__}.{info.name}")
        routes = getattr(module, "routes", None)
        if routes is not None:
            found.extend(routes)
    return found


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=bool(request.app.state.secure_cookies),
        path="/",
    )


def _login_page(request: Request, *, error: str | None = None, username: str = "", status_code: int = 200) -> Response:
    token = new_token()
    response = render(
        request,
        "login.html",
        {"csrf_token": token, "error": error, "username": username, "user": None},
        status_code=status_code,
    )
    _set_cookie(request, response, PRELOGIN_COOKIE, token, 3600)
    return response


async def login(request: Request) -> Response:
    if request.method == "GET":
        return _login_page(request)
    form = await read_form(request)
    if not tokens_match(request.cookies.get(PRELOGIN_COOKIE), form.get("csrf_token")):
        return _login_page(request, error="The form expired. Please log in again.", status_code=403)
    username = form.get("username", "").strip()
    settings: ExternalAuthSettings = request.app.state.auth_settings
    address = request.client.host if request.client else None
    async with pool_of(request).connection() as conn:
        if await address_blocked(conn, "login_address", address):
            response = _login_page(request, error=RATE_LIMITED, username=username, status_code=429)
            response.headers["Retry-After"] = str(ADDRESS_WINDOW_S)
            return response
        # local accounts, host accounts (PAM) and directory accounts (LDAP)
        result = await check_external_login(
            conn,
            username,
            form.get("password", ""),
            settings=settings,
            client=address,
        )
        await conn.execute(
            QUERIES["audit"],
            {
                "actor_user_id": result.user_id,
                "actor": username[:64],
                "action": "login" if result.user_id else "login.failed",
                "target": None,
                "detail": "{}",
                "source": address,
            },
        )
        if result.user_id is None:
            if result.error in (WRONG, LOCKED):  # guesses; not an unreachable directory or a refused role
                await address_failed(conn, "login_address", address)
            return _login_page(request, error=result.error, username=username, status_code=401)
        token = new_token()
        await conn.execute(
            QUERIES["create_web_session"],
            {
                "token_sha256": token_digest(token),
                "user_id": result.user_id,
                "csrf_token": new_token(),
                "ttl_s": SESSION_TTL_S,
            },
        )
    response = RedirectResponse("/", status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, token, SESSION_TTL_S)
    response.delete_cookie(PRELOGIN_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    user = await current_user(request)
    form = await read_form(request)
    if user is None or not check_csrf(request, form):
        return PlainTextResponse("invalid or missing CSRF token", status_code=403)
    async with pool_of(request).connection() as conn:
        await conn.execute(
            QUERIES["delete_web_session"], {"token_sha256": token_digest(request.cookies[SESSION_COOKIE])}
        )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@require_user
async def status(request: Request, user: SessionUser) -> Response:
    async with as_user(pool_of(request), user.user_id) as conn:
        connections = await (await conn.execute(QUERIES["connection_status"])).fetchall()
        recent = await (await conn.execute(QUERIES["recent_messages"], {"limit": 50})).fetchall()
    context: dict[str, Any] = {
        "connections": connections,
        "messages": recent,
        "start_is_status": request.cookies.get(START_COOKIE) == "status",
    }
    return render(request, "status.html", context)


START_COOKIE = "msghub_start"


@require_user
async def start(request: Request, user: SessionUser) -> Response:
    """The start page: the inbox, or the status page for an admin who chose it."""
    if user.role == "admin" and request.cookies.get(START_COOKIE) == "status":
        return await status(request)
    title, empty = messages.STANDARD_FOLDERS["inbox"]
    return await messages.list_page(request, "inbox", view="inbox", title=title, empty_text=empty)


@require_user
async def choose_start(request: Request, user: SessionUser) -> Response:
    """An admin's choice of start page, kept in a cookie of this browser."""
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    response = RedirectResponse("/status", status_code=303)
    if user.role == "admin" and form.get("start") == "status":
        _set_cookie(request, response, START_COOKIE, "status", 400 * 24 * 3600)
    else:
        response.delete_cookie(START_COOKIE, path="/")
    return response


async def health(request: Request) -> Response:
    try:
        async with pool_of(request).connection() as conn:
            await conn.execute(QUERIES["ping"])
    except Exception as exc:
        return JSONResponse({"ok": False, "database": str(exc)}, status_code=503)
    return JSONResponse({"ok": True})


def create_app(
    pool: Pool,
    *,
    secure_cookies: bool = False,
    auth_settings: ExternalAuthSettings | None = None,
    listener: Listener | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The web app. With the runtime's notification listener, live pages
    share it; without one, the first live page starts its own. extra_routes
    come from the composition root (msghub/app/inbound.py: the routes of
    connection kinds whose far side posts to the hub)."""
    routes: list[BaseRoute] = [
        Route("/", start),
        Route("/status", status),
        Route("/start-page", choose_start, methods=["POST"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/healthz", health),
        *live.routes,
        *page_routes(),
        *extra_routes,
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=_security_headers)])
    app.state.pool = pool
    app.state.secure_cookies = secure_cookies
    app.state.listener = listener
    app.state.live = None
    # read once: a wrong LDAP or PAM setting stops the start, not a login
    app.state.auth_settings = auth_settings or ExternalAuthSettings.from_env()
    return app
