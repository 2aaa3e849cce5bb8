"""Connections: state, signal, last error, queue; and for admins enable,
disable, add, edit and a link test.

The forms are built from each kind's declared settings
(msghub.connectors.settings), and each value is checked by its declaration,
so a mistake is shown beside the field it is in. The test button is honest
about what it does: for a kind with a TCP peer (emi) it opens a TCP (and
TLS, when configured) connection to the peer and closes it again, without
logging in; loopback has no link to test and reports its state.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.connectors.registry import KINDS
from msghub.connectors.settings import Setting, validate_config
from msghub.errors import ConfigError
from msghub.hub.queries import QUERIES
from msghub.web.admin_queries import ADMIN_QUERIES
from msghub.web.common import (
    check_csrf,
    csrf_failed,
    not_found,
    path_id,
    pool_of,
    read_form,
    record_audit,
    render,
    require_role,
    require_user,
    user_tx,
)
from msghub.web.security import SessionUser

TEST_TIMEOUT_S = 10.0
CHECK_TIMEOUT_S = 120.0

admin_only = require_role("admin")


def masked(settings: tuple[Setting, ...], config: dict[str, Any]) -> dict[str, Any]:
    """The config as shown on a page: secrets replaced by a mark."""
    secret = {s.name for s in settings if s.secret}
    return {k: ("••••••" if k in secret and v else v) for k, v in config.items()}


@require_user
async def index(request: Request, user: SessionUser) -> Response:
    async with user_tx(request) as conn:
        rows = await (await conn.execute(ADMIN_QUERIES["connections_page"])).fetchall()
    return render(
        request,
        "connections/index.html",
        {
            "connections": rows,
            "kinds": KINDS,
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


async def _connection(request: Request) -> dict[str, Any] | None:
    connection_id = path_id(request)
    if connection_id is None:
        return None
    async with user_tx(request) as conn:
        return await (await conn.execute(ADMIN_QUERIES["connection_row"], {"id": connection_id})).fetchone()


def _edit_page(
    request: Request,
    kind: str,
    connection: dict[str, Any] | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    cls = KINDS[kind]
    return render(
        request,
        "connections/edit.html",
        {
            "kind": kind,
            "kind_class": cls,
            "connection": connection,
            "values": values,
            "errors": errors,
            "settings": cls.settings,
        },
        status_code=status_code,
    )


@admin_only
async def new(request: Request, user: SessionUser) -> Response:
    kind = request.query_params.get("kind", "")
    if request.method == "POST":
        form = await read_form(request)
        if not check_csrf(request, form):
            return csrf_failed()
        kind = form.get("kind", "")
    if kind not in KINDS:
        return render(request, "connections/kinds.html", {"kinds": KINDS}, status_code=400 if kind else 200)
    cls = KINDS[kind]
    if request.method == "GET":
        defaults = {s.name: s.default for s in cls.settings}
        return _edit_page(
            request,
            kind,
            None,
            {"name": "", "max_attempts": 5, "enabled": True, "is_default": False, "config": defaults},
            {},
        )
    values, errors = _form_values(cls.settings, form, None)
    name = form.get("name", "").strip()
    attempts = form.get("max_attempts", "5").strip()
    if not attempts.isdigit() or not 1 <= int(attempts) <= 100:
        errors["max_attempts"] = "a whole number from 1 to 100"
    shown = {
        "name": name,
        "max_attempts": attempts,
        "enabled": form.get("enabled") == "on",
        "is_default": form.get("is_default") == "on",
        "config": {**{s.name: s.default for s in cls.settings}, **values},
    }
    if not errors:
        try:
            config = validate_config(cls.settings, values)
        except ConfigError as exc:
            errors["_"] = str(exc)
    if errors:
        return _edit_page(request, kind, None, shown, errors, 400)
    try:
        async with user_tx(request) as conn:
            row = await (
                await conn.execute(
                    QUERIES["insert_connection"],
                    {
                        "name": name,
                        "kind": kind,
                        "channels": list(cls.channels),
                        "config": Jsonb(config),
                        "enabled": shown["enabled"],
                        "is_default": shown["is_default"],
                        "max_attempts": int(attempts),
                    },
                )
            ).fetchone()
            assert row is not None
            await record_audit(conn, request, user, "connection.create", name, {"kind": kind})
    except psycopg.errors.UniqueViolation:
        return _edit_page(request, kind, None, shown, {"name": f"a connection named {name!r} already exists"}, 400)
    except psycopg.errors.CheckViolation:
        return _edit_page(request, kind, None, shown, {"name": "1 to 64 letters, digits and _.- only"}, 400)
    return RedirectResponse("/connections", status_code=303)


@admin_only
async def edit(request: Request, user: SessionUser) -> Response:
    row = await _connection(request)
    if row is None or row["kind"] not in KINDS:
        return not_found(request)
    cls = KINDS[row["kind"]]
    if request.method == "GET":
        return _edit_page(request, row["kind"], row, {**row, "config": masked(cls.settings, row["config"])}, {})
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    values, errors = _form_values(cls.settings, form, row["config"])
    attempts = form.get("max_attempts", "").strip()
    if not attempts.isdigit() or not 1 <= int(attempts) <= 100:
        errors["max_attempts"] = "a whole number from 1 to 100"
    shown = {
        **row,
        "max_attempts": attempts,
        "enabled": form.get("enabled") == "on",
        "is_default": form.get("is_default") == "on",
        "config": masked(cls.settings, {**row["config"], **values}),
    }
    if not errors:
        try:
            config = validate_config(cls.settings, values, base=row["config"])
        except ConfigError as exc:
            errors["_"] = str(exc)
    if errors:
        return _edit_page(request, row["kind"], row, shown, errors, 400)
    async with user_tx(request) as conn:
        await conn.execute(
            QUERIES["update_connection"],
            {
                "id": row["id"],
                "config": Jsonb(config),
                "enabled": shown["enabled"],
                "is_default": shown["is_default"],
                "max_attempts": int(attempts),
            },
        )
        changed = sorted(k for k in config if config[k] != row["config"].get(k))
        await record_audit(conn, request, user, "connection.update", row["name"], {"settings": changed})
    return RedirectResponse("/connections", status_code=303)


@admin_only
async def set_enabled(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    connection_id = path_id(request)
    enabled = request.url.path.endswith("/enable")
    async with user_tx(request) as conn:
        row = (
            None
            if connection_id is None
            else await (
                await conn.execute(ADMIN_QUERIES["connection_set_enabled"], {"id": connection_id, "enabled": enabled})
            ).fetchone()
        )
        if row is not None:
            await record_audit(
                conn, request, user, "connection.enable" if enabled else "connection.disable", row["name"]
            )
    if row is None:
        return not_found(request)
    return RedirectResponse("/connections", status_code=303)


@admin_only
async def remove(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    row = await _connection(request)
    if row is None:
        return not_found(request)
    async with user_tx(request) as conn:
        pending = await (await conn.execute(QUERIES["connection_pending"], {"id": row["id"]})).fetchone()
        count = int(pending["pending"]) if pending else 0
        if count and form.get("force") != "on":
            cls = KINDS.get(row["kind"])
            if cls is None:
                return not_found(request)
            return _edit_page(
                request,
                row["kind"],
                row,
                {**row, "config": masked(cls.settings, row["config"])},
                {
                    "_": f"{row['name']} still has {count} queued or sending messages: disable it and wait, "
                    "or tick the box to remove it anyway (they then fail as unroutable)."
                },
                400,
            )
        await conn.execute(QUERIES["fail_connection_messages"], {"id": row["id"]})
        await conn.execute(QUERIES["delete_connection"], {"id": row["id"]})
        await record_audit(conn, request, user, "connection.remove", row["name"], {"failed_messages": count})
    return RedirectResponse("/connections", status_code=303)


async def probe(kind: str, config: dict[str, Any], timeout_s: float = TEST_TIMEOUT_S) -> tuple[bool, str]:
    """What the test button does, per kind: (worked, what happened)."""
    if kind == "emi":
        host, port = str(config["host"]), int(config["port"])
        context = None
        started = time.monotonic()
        try:
            if config.get("tls"):
                context = ssl.create_default_context(cafile=config.get("tls_ca_file") or None)
                if not config.get("tls_verify", True):
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=context),
                min(timeout_s, float(config.get("connect_timeout_s", timeout_s))),
            )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            reason = "no answer in time" if isinstance(exc, TimeoutError) else (str(exc) or type(exc).__name__)
            link = "TLS" if config.get("tls") else "TCP"
            return False, f"could not open a {link} connection to {host}:{port}: {reason}"
        elapsed_ms = (time.monotonic() - started) * 1000
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
        return True, (
            f"opened a {'TLS' if context else 'TCP'} connection to {host}:{port} in {elapsed_ms:.0f} ms "
            "and closed it; no login was tried (the connection's own link logs in)"
        )
    if kind == "loopback":
        return True, "loopback has no link to test: it sends every message back to the hub itself"
    cls = KINDS.get(kind)
    kind_probe = getattr(cls, "probe", None)
    if kind_probe is not None:  # the kind's own test (smtp, pop3: connect, TLS, log in)
        try:
            result = await asyncio.wait_for(kind_probe(config), timeout_s)
        except TimeoutError:
            return False, f"no answer in {timeout_s:g} s"
        return bool(result.ok), str(result.detail)
    return False, f"the {kind} kind has no test"


@admin_only
async def test(request: Request, user: SessionUser) -> Response:
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    row = await _connection(request)
    if row is None:
        return not_found(request)
    worked, detail = await probe(row["kind"], row["config"])
    async with user_tx(request) as conn:
        await record_audit(conn, request, user, "connection.test", row["name"], {"worked": worked, "detail": detail})
    return render(request, "connections/test.html", {"connection": row, "worked": worked, "detail": detail})


@admin_only
async def check(request: Request, user: SessionUser) -> Response:
    """"Check now" for a pop3 connection: fetches its mailbox here and now. The
    UIDL bookkeeping makes this safe beside the connection's own schedule."""
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    row = await _connection(request)
    if row is None or row["kind"] != "pop3":
        return not_found(request)
    from msghub.connectors.pop3.connector import Pop3Connector
    from msghub.connectors.pop3.session import Pop3Error
    from msghub.hub.hublink import HubLink

    connector = Pop3Connector(row["name"], validate_config(Pop3Connector.settings, row["config"]),
                              HubLink(pool_of(request), row["id"], "web"))
    try:
        summary = await asyncio.wait_for(connector.fetch_all(), CHECK_TIMEOUT_S)
        worked, detail = True, (f"{summary.listed} mails on the server; stored {summary.stored}, bounces and "
                                f"reports {summary.reports}, too large {summary.too_large}, deleted {summary.deleted}")
    except (Pop3Error, OSError, TimeoutError) as exc:
        worked, detail = False, str(exc) or "no answer in time"
    async with user_tx(request) as conn:
        await record_audit(conn, request, user, "connection.check", row["name"], {"worked": worked, "detail": detail})
    return render(request, "connections/test.html", {"connection": row, "worked": worked, "detail": detail})


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
