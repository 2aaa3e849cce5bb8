"""Connections: state, signal, last error, queue; and for admins enable,
disable, add, edit, a link test and a pop3 mailbox's Check now.

The forms are built from each kind's declared settings (through
msghub.services.connections, the one home of these use cases: this module
imports no connector), and each value is checked by its declaration, so a
mistake is shown beside the field it is in. The test button runs the kind's
probe: for emi it opens a TCP (and TLS, when configured) connection to the
peer and closes it again, without logging in; smtp and pop3 log in; loopback
has no link to test. Check now fetches a pop3 mailbox at once (services.mailbox).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.errors import ConfigError
from msghub.services import connections as service
from msghub.services import mailbox
from msghub.services.connections import ConnectionError_, ConnectionRow, Kind, Setting, StillQueued, masked
from msghub.web.common import (
    actor_of,
    check_csrf,
    csrf_failed,
    not_found,
    path_id,
    pool_of,
    read_form,
    render,
    require_role,
    require_user,
    search_terms,
    user_tx,
)
from msghub.web.display import filter_rows
from msghub.web.queries import ADMIN_QUERIES
from msghub.web.security import SessionUser

admin_only = require_role("admin")


# what the search box of the connections page looks in
CONNECTION_SEARCH_FIELDS = ("name", "kind", "channels", "state", "last_error", "node")


@require_user
async def index(request: Request, user: SessionUser) -> Response:
    search = search_terms(request)
    async with user_tx(request) as conn:
        rows = await (await conn.execute(ADMIN_QUERIES["connections_page"])).fetchall()
    return render(
        request,
        "connections/index.html",
        {
            "connections": filter_rows(rows, search["q"], CONNECTION_SEARCH_FIELDS),
            "q": search["q"],
            "search_action": "/connections",
            "filter_what": "connections",
            "search_placeholder": "Search connections",
            "kinds": service.kinds(),
            "is_admin": user.role == "admin",
            "tested": request.query_params.get("tested"),
        },
    )


def _form_values(
    settings: tuple[Setting, ...], form: dict[str, str], current: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings a form gives, checked one by one: (values, errors by field)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for setting in settings:
        raw = form.get(f"setting.{setting.name}")
        if setting.type is bool:
            raw = "true" if raw == "on" else "false"
        elif raw is None or (raw.strip() == "" and setting.type is not str):
            continue  # the default, or what it was
        elif setting.secret and raw == "" and current is not None:
            continue  # an empty secret field keeps the stored secret
        try:
            values[setting.name] = setting.parse(raw)
        except ConfigError as exc:
            errors[setting.name] = str(exc).removeprefix(f"setting {setting.name}: ")
    return values, errors


async def _connection(request: Request) -> ConnectionRow | None:
    connection_id = path_id(request)
    if connection_id is None:
        return None
    async with user_tx(request) as conn:
        return await service.find_connection(conn, connection_id)


async def _posted(request: Request) -> tuple[dict[str, str], ConnectionRow] | Response:
    """The form of a POST on /connections/{id}/... and its connection; or the answer when either is wrong."""
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    row = await _connection(request)
    if row is None:
        return not_found(request)
    return form, row


def _attempts(form: dict[str, str], default: str, errors: dict[str, str]) -> tuple[str, int]:
    """The max attempts field as typed, and as a number (checked by the service's bound)."""
    typed = form.get("max_attempts", default).strip()
    value = int(typed) if typed.isdigit() else 0
    problem = service.max_attempts_problem(value)
    if problem:
        errors["max_attempts"] = problem
    return typed, value


async def _save(request: Request, user: SessionUser, kind: Kind, row: ConnectionRow | None, values: dict[str, Any],
                shown: dict[str, Any], errors: dict[str, str], max_attempts: int) -> Response:
    """Adds the connection (row None) or changes it, unless the form had errors;
    a refusal is shown beside the field it is about."""
    if not errors:
        try:
            async with user_tx(request) as conn:
                enabled, is_default, actor = shown["enabled"], shown["is_default"], actor_of(request, user)
                if row is None:
                    await service.add_connection(conn, actor, shown["name"], kind.name, values, enabled=enabled,
                                                 is_default=is_default, max_attempts=max_attempts)
                else:
                    await service.edit_connection(conn, actor, row, values, enabled=enabled, is_default=is_default,
                                                  max_attempts=max_attempts)
        except ConnectionError_ as exc:
            errors[exc.field or "_"] = exc.problem if exc.field else str(exc)
        except ConfigError as exc:
            errors["_"] = str(exc)
    if errors:
        return _edit_page(request, kind, row, shown, errors, 400)
    return RedirectResponse("/connections", status_code=303)


def _edit_page(
    request: Request,
    kind: Kind,
    connection: ConnectionRow | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "connections/edit.html",
        {
            "kind": kind.name,
            "kind_class": kind,
            "connection": connection,
            "values": values,
            "errors": errors,
            "settings": kind.settings,
        },
        status_code=status_code,
    )


@admin_only
async def new(request: Request, user: SessionUser) -> Response:
    name = request.query_params.get("kind", "")
    if request.method == "POST":
        form = await read_form(request)
        if not check_csrf(request, form):
            return csrf_failed()
        name = form.get("kind", "")
    kinds = service.kinds()
    if name not in kinds:
        return render(request, "connections/kinds.html", {"kinds": kinds}, status_code=400 if name else 200)
    kind = kinds[name]
    if request.method == "GET":
        return _edit_page(
            request,
            kind,
            None,
            {"name": "", "max_attempts": 5, "enabled": True, "is_default": False, "config": kind.defaults()},
            {},
        )
    values, errors = _form_values(kind.settings, form, None)
    connection_name = form.get("name", "").strip()
    attempts, max_attempts = _attempts(form, "5", errors)
    shown: dict[str, Any] = {
        "name": connection_name,
        "max_attempts": attempts,
        "enabled": form.get("enabled") == "on",
        "is_default": form.get("is_default") == "on",
        "config": {**kind.defaults(), **values},
    }
    return await _save(request, user, kind, None, values, shown, errors, max_attempts)


@admin_only
async def edit(request: Request, user: SessionUser) -> Response:
    row = await _connection(request)
    if row is None or row["kind"] not in service.kinds():
        return not_found(request)
    kind = service.kind(row["kind"])
    if request.method == "GET":
        return _edit_page(request, kind, row, {**row, "config": masked(kind.settings, row["config"])}, {})
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    values, errors = _form_values(kind.settings, form, row["config"])
    attempts, max_attempts = _attempts(form, "", errors)
    shown: dict[str, Any] = {
        **row,
        "max_attempts": attempts,
        "enabled": form.get("enabled") == "on",
        "is_default": form.get("is_default") == "on",
        "config": masked(kind.settings, {**row["config"], **values}),
    }
    return await _save(request, user, kind, row, values, shown, errors, max_attempts)


@admin_only
async def set_enabled(request: Request, user: SessionUser) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    _, row = posted
    async with user_tx(request) as conn:
        await service.set_enabled(conn, actor_of(request, user), row, request.url.path.endswith("/enable"))
    return RedirectResponse("/connections", status_code=303)


@admin_only
async def remove(request: Request, user: SessionUser) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    form, row = posted
    try:
        async with user_tx(request) as conn:
            await service.remove_connection(conn, actor_of(request, user), row, force=form.get("force") == "on")
    except StillQueued as exc:
        if row["kind"] not in service.kinds():
            return not_found(request)
        kind = service.kind(row["kind"])
        return _edit_page(
            request,
            kind,
            row,
            {**row, "config": masked(kind.settings, row["config"])},
            {
                "_": f"{row['name']} still has {exc.pending} queued or sending messages: disable it and wait, "
                "or tick the box to remove it anyway (they then fail as unroutable)."
            },
            400,
        )
    return RedirectResponse("/connections", status_code=303)


@admin_only
async def test(request: Request, user: SessionUser) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    _, row = posted
    async with user_tx(request) as conn:
        result = await service.test_connection(conn, actor_of(request, user), row)
    return render(request, "connections/test.html", {"connection": row, "worked": result.ok, "detail": result.detail})


@admin_only
async def check(request: Request, user: SessionUser) -> Response:
    """"Check now" for a pop3 connection: fetches its mailbox here and now
    (services.mailbox; the UIDL bookkeeping makes it safe beside the
    connection's own schedule)."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    _, row = posted
    if not mailbox.can_check(row):
        return not_found(request)
    async with user_tx(request) as conn:
        result = await mailbox.check_mailbox(conn, actor_of(request, user), row, pool_of(request))
    return render(request, "connections/test.html", {"connection": row, "worked": result.ok, "detail": result.detail})


routes: list[BaseRoute] = [
    Route("/connections", index),
    Route("/connections/new", new, methods=["GET", "POST"]),
    Route("/connections/{id:int}/edit", edit, methods=["GET", "POST"]),
    Route("/connections/{id:int}/enable", set_enabled, methods=["POST"]),
    Route("/connections/{id:int}/disable", set_enabled, methods=["POST"]),
    Route("/connections/{id:int}/test", test, methods=["POST"]),
    Route("/connections/{id:int}/check", check, methods=["POST"]),
    Route("/connections/{id:int}/remove", remove, methods=["POST"]),
]
