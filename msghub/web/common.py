"""Shared helpers for the web pages: templates, the signed-in user, CSRF,
database transactions as that user, JSON errors.

Every page module in msghub/web/pages/ exports ``routes`` (a list of starlette
routes); msghub/web/app.py mounts them all. A page handler looks like::

    @require_user
    async def contacts(request: Request, user: SessionUser) -> Response:
        async with user_tx(request) as conn:
            rows = await (await conn.execute(WEB_QUERIES["..."])).fetchall()
        return render(request, "contacts.html", {"contacts": rows})

    @require_user
    async def save(request: Request, user: SessionUser) -> Response:
        form = await read_form(request)
        if not check_csrf(request, form):
            return csrf_failed()
        ...

The application keeps its pool on ``app.state.pool``; ``pool_of(request)``
returns it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
import psycopg
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from msghub.hub.db import Pool, Row
from msghub.hub.queries import QUERIES
from msghub.services import audit
from msghub.services.tx import Actor
from msghub.web import display
from msghub.web.queries import WEB_QUERIES
from msghub.web.security import SESSION_COOKIE, SessionUser, token_digest, tokens_match

HERE = Path(__file__).resolve().parent
MAX_FORM_BYTES = 64 * 1024


# Deployments may override any template by putting one of the same name in
# the directory named by app.state.template_override (see create_app).
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
display.install(_env)
templates = Jinja2Templates(env=_env)

Handler = Callable[[Request], Awaitable[Response]]
UserHandler = Callable[[Request, SessionUser], Awaitable[Response]]


def pool_of(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


@contextlib.asynccontextmanager
async def as_user(pool: Pool, user_id: int) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
    """A transaction that sees only what this hub user may see: row-level
    security keys on msghub.user_id (schema/15_identity.sql)."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(QUERIES["act_as_user"], {"user_id": str(user_id)})
        yield conn


def user_tx(request: Request) -> contextlib.AbstractAsyncContextManager[psycopg.AsyncConnection[Row]]:
    """as_user() for the signed-in user of this request (after require_user)."""
    user: SessionUser = request.state.user
    return as_user(pool_of(request), user.user_id)


async def current_user(request: Request) -> SessionUser | None:
    """The signed-in user, or None; looked up once per request. Also loads
    what the layout shows on every page (folders, connections down)."""
    if getattr(request.state, "user_looked_up", False):
        cached: SessionUser | None = request.state.user
        return cached
    request.state.user_looked_up = True
    request.state.user = None
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    pool = pool_of(request)
    async with pool.connection() as conn, conn.transaction():
        row = await (await conn.execute(QUERIES["web_session"], {"token_sha256": token_digest(token)})).fetchone()
        if row is None:
            return None
        user = SessionUser(row["user_id"], row["username"], row["display_name"], row["role"], row["csrf_token"])
        await conn.execute(QUERIES["act_as_user"], {"user_id": str(user.user_id)})
        request.state.nav_folders = await (await conn.execute(WEB_QUERIES["nav_folders"])).fetchall()
        request.state.connections_down = await (await conn.execute(WEB_QUERIES["connections_down"])).fetchall()
    request.state.user = user
    return user


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def require_user(handler: UserHandler) -> Handler:
    """Decorator: call handler(request, user) for a signed-in user; others go
    to the login page (or get a JSON 401 on /api/ and JSON requests)."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        user = await current_user(request)
        if user is None:
            if wants_json(request):
                return json_error(401, "not_logged_in", "Log in first.")
            return RedirectResponse("/login", status_code=303)
        return await handler(request, user)

    return wrapper


def require_role(*roles: str) -> Callable[[UserHandler], Handler]:
    """Decorator like require_user, also requiring one of these hub roles
    (e.g. require_role("admin")); others get a 403 page."""

    def decorate(handler: UserHandler) -> Handler:
        @functools.wraps(handler)
        async def inner(request: Request, user: SessionUser) -> Response:
            if user.role not in roles:
                if wants_json(request):
                    return json_error(403, "forbidden", "Your role may not do this.")
                return render(request, "forbidden.html", {}, status_code=403)
            return await handler(request, user)

        return require_user(inner)

    return decorate


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES) -> dict[str, str]:
    """The text fields of a posted form (empty when it is larger than max_bytes)."""
    if int(request.headers.get("content-length") or 0) > max_bytes:
        return {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def check_csrf(request: Request, form: dict[str, str]) -> bool:
    """True when the form carries the signed-in user's CSRF token. The token
    may also come in an X-CSRF-Token header (for fetch() calls)."""
    user: SessionUser | None = getattr(request.state, "user", None)
    if user is None:
        return False
    given = form.get("csrf_token") or request.headers.get("x-csrf-token")
    return tokens_match(user.csrf_token, given)


def csrf_failed() -> Response:
    return PlainTextResponse(
        "The form expired or did not come from this site. Reload the page and try again.", status_code=403
    )


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """Render a template that extends base.html. Adds user, nav_folders,
    connections_down and the search query q to the context."""
    full: dict[str, Any] = {
        "user": getattr(request.state, "user", None),
        "nav_folders": getattr(request.state, "nav_folders", []),
        "connections_down": getattr(request.state, "connections_down", []),
        "q": request.query_params.get("q", ""),
    }
    full.update(context)
    return templates.TemplateResponse(request, name, full, status_code=status_code)


def not_found(request: Request) -> Response:
    """The same answer whether a thing does not exist or is someone else's."""
    if wants_json(request):
        return json_error(404, "not_found", "No such thing, or not one you can see.")
    return render(request, "not_found.html", {}, status_code=404)


def json_error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """{"error": {"code": ..., "message": ..., **extra}} with this HTTP status."""
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


# Largest id a path may name (bigint): a bigger one is simply not found.
MAX_ID = 2**63 - 1


def path_id(request: Request, name: str = "id") -> int | None:
    """The id in the path (routes declare it :int), or None when it is too
    big to be any row's."""
    value = int(request.path_params[name])
    return value if value <= MAX_ID else None


def actor_of(request: Request, user: SessionUser) -> Actor:
    """The signed-in user as the services' audit records them."""
    return Actor(user.username, user.user_id, request.client.host if request.client else "web")


async def record_audit(
    conn: psycopg.AsyncConnection[Any],
    request: Request,
    user: SessionUser,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Records what a signed-in user did in hub.audit_log."""
    await audit.record(conn, actor_of(request, user), action, target, detail)


def search_terms(request: Request) -> dict[str, str]:
    """The header search box's query (?q=, at most 200 characters) and an
    ILIKE pattern that matches it anywhere, its %, _ and \\ taken literally."""
    q = request.query_params.get("q", "").strip()[:200]
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"q": q, "pattern": f"%{escaped}%"}
