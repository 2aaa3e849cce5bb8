"""Administration of what reaches past the hub's own tables: integrator
logins (database logins for SQL integrators), imports from external
databases, export tables and schedules.

The same services as `msghub integrator ...`, `msghub import|export|schedule
...` (msghub.services.access, msghub.rules.integrations), with the same
audit actions. Admins only; secrets are shown once (a new login's
password) or never (the passwords in database URLs are shown as ***).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.errors import ConfigError
from msghub.hub.db import redact
from msghub.rules import integrations
from msghub.rules.integrations import ExportTable, ImportSource
from msghub.services import access
from msghub.services.access import AccessError
from msghub.services.users import random_password
from msghub.web.common import check_csrf, csrf_failed, read_form, record_audit, render, require_role, user_tx
from msghub.web.queries import ADMIN_QUERIES
from msghub.web.security import SessionUser

admin_only = require_role("admin")
MAX_QUERY_CHARS = 20_000


async def _form(request: Request) -> dict[str, str] | None:
    form = await read_form(request)
    return form if check_csrf(request, form) else None


def _seconds(text: str, what: str = "interval") -> int:
    try:
        return integrations.check_interval(int(text.strip()))
    except ValueError:
        raise ConfigError(f"the {what} is a whole number of seconds, not {text.strip()!r}") from None


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# ---------------------------------------------------------------- integrator logins


async def _integrators_page(request: Request, *, error: str | None = None, created: dict[str, str] | None = None,
                            values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    async with user_tx(request) as conn:
        logins = await access.integrator_logins(conn)
        users = await (await conn.execute(ADMIN_QUERIES["users_all"], {"q": "", "pattern": "%"})).fetchall()
        groups = await (await conn.execute(ADMIN_QUERIES["groups_all"])).fetchall()
    return render(request, "admin/integrators.html",
                  {"logins": logins, "users": users, "groups": groups, "error": error, "created": created,
                   "values": values or {}}, status_code=status_code)


@admin_only
async def integrators(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _integrators_page(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    login = form.get("login", "").strip()
    acts_as = form.get("acts_as", "")
    kind, _, name = acts_as.partition(":")
    values = {"login": login, "acts_as": acts_as}
    if kind not in ("user", "group") or not name:
        return await _integrators_page(request, error="Choose the user or group the login acts as.", values=values,
                                       status_code=400)
    given = form.get("password", "")
    if given and len(given) < 10:
        return await _integrators_page(request, error="The password is too short: at least 10 characters.",
                                       values=values, status_code=400)
    password = given or random_password()
    try:
        async with user_tx(request) as conn:
            await access.create_integrator(
                conn, login, access.password_verifier(conn, login, password),
                username=name if kind == "user" else None, group=name if kind == "group" else None)
            await record_audit(conn, request, user, "integrator.add", login,
                               {"user": name if kind == "user" else None, "group": name if kind == "group" else None})
    except AccessError as exc:
        return await _integrators_page(request, error=_sentence(exc), values=values, status_code=400)
    return await _integrators_page(request, created={"login": login, "password": "" if given else password})


@admin_only
async def integrator_remove(request: Request, user: SessionUser) -> Response:
    form = await _form(request)
    if form is None:
        return csrf_failed()
    login = form.get("login", "")
    try:
        async with user_tx(request) as conn:
            await access.drop_integrator(conn, login)
            await record_audit(conn, request, user, "integrator.remove", login)
    except AccessError as exc:
        return await _integrators_page(request, error=_sentence(exc), status_code=400)
    return RedirectResponse("/admin/integrators", status_code=303)


# ---------------------------------------------------------------- imports


def _import_view(row: Any) -> dict[str, Any]:
    return {**row, "url": redact(row["database_url"]), "last_key": json.dumps(row["last_key"])}


async def _imports_page(request: Request, *, error: str | None = None, values: dict[str, str] | None = None,
                        preview: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    async with user_tx(request) as conn:
        sources = [_import_view(r) for r in await integrations.import_sources(conn)]
        editing = None
        if values is None and (name := request.query_params.get("edit")):
            editing = await integrations.import_source(conn, name)
    if editing is not None:
        listed = next((s for s in sources if s["name"] == editing["name"]), {})
        values = {"name": editing["name"], "query": editing["query"], "key": editing["key_column"],
                  "topic": editing["topic"], "every": str(listed.get("interval_s", 60)), "editing": "1",
                  "url_shown": redact(editing["database_url"])}
    return render(request, "admin/imports.html",
                  {"sources": sources, "error": error, "values": values or {}, "preview": preview},
                  status_code=status_code)


@admin_only
async def imports(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _imports_page(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    name = form.get("name", "").strip()
    url = form.get("url", "").strip()
    values = {k: form.get(k, "") for k in ("name", "query", "key", "topic", "every", "editing")}
    try:
        query = form.get("query", "")
        if len(query) > MAX_QUERY_CHARS:
            raise ConfigError(f"the query is longer than {MAX_QUERY_CHARS} characters")
        every = _seconds(form.get("every", "60") or "60")
        async with user_tx(request) as conn:
            if not url:  # editing: an empty URL keeps the one stored, whose password the page never shows
                current = await integrations.import_source(conn, name)
                if current is None:
                    raise ConfigError("give the database URL")
                url = current["database_url"]
            source = ImportSource(name, url, query, form.get("key", "").strip(), form.get("topic", "").strip(), every)
            await integrations.save_import(conn, source)
            await record_audit(conn, request, user, "import.add", name, {"url": redact(url), "topic": source.topic})
    except ConfigError as exc:
        return await _imports_page(request, error=_sentence(exc), values=values, status_code=400)
    return RedirectResponse("/admin/imports", status_code=303)


@admin_only
async def import_action(request: Request, user: SessionUser) -> Response:
    form = await _form(request)
    if form is None:
        return csrf_failed()
    name, action = form.get("name", ""), form.get("action", "")
    try:
        if action == "test":
            async with user_tx(request) as conn:
                source = await integrations.import_source(conn, name)
            if source is None:
                raise ConfigError(f"no import source named {name!r}")
            rows = await asyncio.to_thread(integrations.preview_import, source)
            preview = {"name": name, "last_key": json.dumps(source["last_key"]),
                       "rows": [json.dumps(r, ensure_ascii=False) for r in rows],
                       "limit": integrations.PREVIEW_ROWS}
            return await _imports_page(request, preview=preview)
        async with user_tx(request) as conn:
            await integrations.change_import(conn, name, action)
            await record_audit(conn, request, user, f"import.{action}", name)
    except ConfigError as exc:
        return await _imports_page(request, error=_sentence(exc), status_code=400)
    return RedirectResponse("/admin/imports", status_code=303)


# ---------------------------------------------------------------- exports


async def _exports_page(request: Request, *, error: str | None = None, note: str | None = None,
                        values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    async with user_tx(request) as conn:
        rows = await integrations.export_tables(conn)
    exports = [{**r, "url": redact(r["database_url"]) if r["database_url"] else None} for r in rows]
    edit = request.query_params.get("edit")
    if values is None and edit:
        found = next((e for e in exports if e["name"] == edit), None)
        if found is not None:
            values = {"name": found["name"], "table": found["table_name"],
                      "columns": ", ".join(found["columns"] or []), "editing": "1", "url_shown": found["url"] or ""}
    return render(request, "admin/exports.html",
                  {"exports": exports, "error": error, "note": note, "values": values or {}},
                  status_code=status_code)


@admin_only
async def exports(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _exports_page(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    name = form.get("name", "").strip()
    values = {k: form.get(k, "") for k in ("name", "table", "columns", "where", "editing")}
    columns = [c.strip() for c in form.get("columns", "").split(",") if c.strip()] or None
    where = form.get("where", "hub")
    url = form.get("url", "").strip() or None
    try:
        async with user_tx(request) as conn:
            if where == "external" and url is None:  # editing: keep the stored URL
                current = next((e for e in await integrations.export_tables(conn) if e["name"] == name), None)
                if current is None or not current["database_url"]:
                    raise ConfigError("give the external database's URL")
                url = current["database_url"]
        export = ExportTable(name, form.get("table", "").strip(), url if where == "external" else None, columns)
        integrations.check_export(export)
        warning = await asyncio.to_thread(integrations.check_external_table, export) if export.url else None
        async with user_tx(request) as conn:
            note = await integrations.allow_export(conn, export)
            await record_audit(conn, request, user, "export.allow", name,
                               {"table": export.table, "url": redact(export.url) if export.url else None,
                                "columns": columns})
    except ConfigError as exc:
        return await _exports_page(request, error=_sentence(exc), values=values, status_code=400)
    notes = " ".join(_sentence(ConfigError(n)) for n in (warning, note) if n)
    if notes:
        return await _exports_page(request, note=f"Export {name} saved. {notes}")
    return RedirectResponse("/admin/exports", status_code=303)


@admin_only
async def export_remove(request: Request, user: SessionUser) -> Response:
    form = await _form(request)
    if form is None:
        return csrf_failed()
    name = form.get("name", "")
    try:
        async with user_tx(request) as conn:
            await integrations.remove_export(conn, name)
            await record_audit(conn, request, user, "export.remove", name)
    except ConfigError as exc:
        return await _exports_page(request, error=_sentence(exc), status_code=400)
    return RedirectResponse("/admin/exports", status_code=303)


# ---------------------------------------------------------------- schedules


async def _schedules_page(request: Request, *, error: str | None = None, values: dict[str, str] | None = None,
                          status_code: int = 200) -> Response:
    async with user_tx(request) as conn:
        rows = await integrations.schedules(conn)
    edit = request.query_params.get("edit")
    if values is None and edit:
        found = next((r for r in rows if r["name"] == edit), None)
        if found is not None:
            values = {"name": found["name"], "every": str(found["interval_s"]), "editing": "1"}
    return render(request, "admin/schedules.html", {"schedules": rows, "error": error, "values": values or {}},
                  status_code=status_code)


def _first_time(text: str) -> datetime | None:
    """The first time from a datetime-local field (this server's zone when it names none)."""
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"not a date and time: {text.strip()!r} (e.g. 2026-12-01T09:00)") from None
    return value if value.tzinfo else value.astimezone()


@admin_only
async def schedules(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _schedules_page(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    name = form.get("name", "").strip()
    values = {k: form.get(k, "") for k in ("name", "every", "first", "editing")}
    try:
        every = _seconds(form.get("every", ""))
        async with user_tx(request) as conn:
            await integrations.save_schedule(conn, name, every, _first_time(form.get("first", "")))
            await record_audit(conn, request, user, "schedule.add", name, {"every": every})
    except ConfigError as exc:
        return await _schedules_page(request, error=_sentence(exc), values=values, status_code=400)
    return RedirectResponse("/admin/schedules", status_code=303)


@admin_only
async def schedule_action(request: Request, user: SessionUser) -> Response:
    form = await _form(request)
    if form is None:
        return csrf_failed()
    name, action = form.get("name", ""), form.get("action", "")
    try:
        async with user_tx(request) as conn:
            await integrations.change_schedule(conn, name, action)
            await record_audit(conn, request, user, f"schedule.{action}", name)
    except ConfigError as exc:
        return await _schedules_page(request, error=_sentence(exc), status_code=400)
    return RedirectResponse("/admin/schedules", status_code=303)


routes: list[BaseRoute] = [
    Route("/admin/integrators", integrators, methods=["GET", "POST"]),
    Route("/admin/integrators/remove", integrator_remove, methods=["POST"]),
    Route("/admin/imports", imports, methods=["GET", "POST"]),
    Route("/admin/imports/action", import_action, methods=["POST"]),
    Route("/admin/exports", exports, methods=["GET", "POST"]),
    Route("/admin/exports/remove", export_remove, methods=["POST"]),
    Route("/admin/schedules", schedules, methods=["GET", "POST"]),
    Route("/admin/schedules/action", schedule_action, methods=["POST"]),
]
