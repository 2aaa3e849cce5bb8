"""Administration: users, groups and memberships, roles, API keys, audit log.

Admins only (docs/SECURITY.md): everyone else gets the 403 page. Every
change is written to hub.audit_log with the admin as actor. Passwords are
argon2 hashes made by msghub.services.users; an API key's secret is shown once
and only its SHA-256 is stored (schema/47_api_keys.sql).
"""

from __future__ import annotations

from typing import TypedDict

import psycopg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.hub.queries import QUERIES
from msghub.services.accounts import change_password, create_user
from msghub.services.groups import set_membership
from msghub.services.users import MIN_PASSWORD_LENGTH, ROLES, UserError, random_password
from msghub.web.common import (
    MAX_ID,
    actor_of,
    check_csrf,
    csrf_failed,
    not_found,
    path_id,
    read_form,
    record_audit,
    render,
    require_role,
    search_terms,
    user_tx,
)
from msghub.web.pages.api import new_key
from msghub.web.queries import ADMIN_QUERIES
from msghub.web.security import SessionUser

AUDIT_PAGE = 50
SCOPES = ("send", "read", "contacts")

admin_only = require_role("admin")


async def _form(request: Request) -> dict[str, str] | None:
    form = await read_form(request)
    return form if check_csrf(request, form) else None


@admin_only
async def overview(request: Request, user: SessionUser) -> Response:
    return render(request, "admin/index.html", {})


# ---------------------------------------------------------------- users


async def _users_page(
    request: Request,
    *,
    error: str | None = None,
    created: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with user_tx(request) as conn:
        users = await (await conn.execute(ADMIN_QUERIES["users_all"], search_terms(request))).fetchall()
    return render(
        request,
        "admin/users.html",
        {
            "users": users,
            "roles": ROLES,
            "error": error,
            "created": created,
            "values": values or {},
            "search_action": "/admin/users",
            "clear_filter_url": "/admin/users",
        },
        status_code=status_code,
    )


@admin_only
async def users(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _users_page(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    username = form.get("username", "").strip()
    role = form.get("role", "user")
    password = form.get("password", "")
    values = {k: form.get(k, "") for k in ("username", "display_name", "email", "role")}
    if role not in ROLES:
        return await _users_page(request, error=f"Choose a role: {', '.join(ROLES)}.", values=values, status_code=400)
    shown = password or random_password()
    try:
        async with user_tx(request) as conn:
            await create_user(
                conn,
                actor_of(request, user),
                username,
                shown,
                role=role,
                display_name=form.get("display_name", "").strip()[:200],
                email=form.get("email", "").strip()[:254] or None,
            )
    except UserError as exc:
        return await _users_page(request, error=f"{exc}.", values=values, status_code=400)
    return await _users_page(request, created={"username": username, "password": "" if password else shown})


async def _user_page(
    request: Request,
    target: TargetRow,
    *,
    error: str | None = None,
    password: str | None = None,
    status_code: int = 200,
) -> Response:
    async with user_tx(request) as conn:
        groups = await (await conn.execute(ADMIN_QUERIES["groups_all"])).fetchall()
        keys = [
            k
            for k in await (await conn.execute(ADMIN_QUERIES["api_keys_all"])).fetchall()
            if k["username"] == target["username"]
        ]
    return render(
        request,
        "admin/user.html",
        {
            "target": target,
            "roles": ROLES,
            "groups": groups,
            "keys": keys,
            "error": error,
            "password": password,
            "min_password": MIN_PASSWORD_LENGTH,
        },
        status_code=status_code,
    )


class TargetRow(TypedDict):
    """A user as the admin pages show one (admin_user)."""
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    auth_source: str
    enabled: bool


async def _target(request: Request) -> TargetRow | None:
    user_id = path_id(request)
    if user_id is None:
        return None
    async with user_tx(request) as conn:
        return await ADMIN_QUERIES.one(conn, "admin_user", TargetRow, {"id": user_id})


@admin_only
async def user_detail(request: Request, user: SessionUser) -> Response:
    target = await _target(request)
    if target is None:
        return not_found(request)
    if request.method == "GET":
        return await _user_page(request, target)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    role = form.get("role", target["role"])
    enabled = form.get("enabled") == "on"
    if role not in ROLES:
        return await _user_page(request, target, error="Choose a known role.", status_code=400)
    async with user_tx(request) as conn:
        if target["role"] == "admin" and target["enabled"] and (role != "admin" or not enabled):
            others = await (await conn.execute(ADMIN_QUERIES["admins_enabled"], {"id": target["id"]})).fetchone()
            if not others or not others["n"]:
                return await _user_page(
                    request,
                    target,
                    status_code=400,
                    error="This is the only enabled admin: make someone else an admin first.",
                )
        await conn.execute(
            ADMIN_QUERIES["user_update"],
            {
                "id": target["id"],
                "display_name": form.get("display_name", "").strip()[:200],
                "email": form.get("email", "").strip()[:254] or None,
                "role": role,
                "enabled": enabled,
            },
        )
        # the database ends a disabled user's sessions (trigger users_end_sessions), as for every path
        changes = {k: v for k, v, was in (("role", role, target["role"]), ("enabled", enabled, target["enabled"]))
                   if v != was}
        await record_audit(conn, request, user, "user.update", target["username"], changes)
    return RedirectResponse(f"/admin/users/{target['id']}?saved=1", status_code=303)


@admin_only
async def user_password(request: Request, user: SessionUser) -> Response:
    target = await _target(request)
    if target is None:
        return not_found(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    given = form.get("password", "")
    shown = given or random_password()
    try:
        async with user_tx(request) as conn:
            await change_password(conn, actor_of(request, user), target["id"], shown)
    except UserError as exc:
        return await _user_page(request, target, error=f"{exc}.", status_code=400)
    return await _user_page(request, target, password="" if given else shown)


@admin_only
async def user_groups(request: Request, user: SessionUser) -> Response:
    target = await _target(request)
    if target is None:
        return not_found(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    raw = await request.form()
    wanted = {int(v) for v in raw.getlist("groups") if isinstance(v, str) and v.isdigit() and int(v) <= MAX_ID}
    async with user_tx(request) as conn:
        groups = await (await conn.execute(ADMIN_QUERIES["groups_all"])).fetchall()
        for group in groups:
            member = target["username"] in group["members"]
            if (group["id"] in wanted) != member:
                await set_membership(conn, actor_of(request, user), user_id=target["id"],
                                     username=target["username"], group_id=group["id"], group=group["name"],
                                     member=not member)
    return RedirectResponse(f"/admin/users/{target['id']}?saved=1", status_code=303)


# ---------------------------------------------------------------- groups and roles


async def _groups_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    async with user_tx(request) as conn:
        groups = await (await conn.execute(ADMIN_QUERIES["groups_all"])).fetchall()
        everyone = await (await conn.execute(ADMIN_QUERIES["users_all"], {"q": "", "pattern": "%"})).fetchall()
    return render(
        request, "admin/groups.html", {"groups": groups, "users": everyone, "error": error}, status_code=status_code
    )


@admin_only
async def groups(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _groups_page(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    name = form.get("name", "").strip()
    if not name or len(name) > 200 or "\x00" in name:
        return await _groups_page(request, error="Give the group a name (at most 200 characters).", status_code=400)
    try:
        async with user_tx(request) as conn:
            await conn.execute(
                QUERIES["insert_group"],
                {"name": name, "description": form.get("description", "").strip()[:1000].replace("\x00", "")},
            )
            await record_audit(conn, request, user, "group.create", name)
    except psycopg.errors.UniqueViolation:
        return await _groups_page(request, error=f"A group named {name!r} already exists.", status_code=400)
    return RedirectResponse("/admin/groups", status_code=303)


@admin_only
async def group_members(request: Request, user: SessionUser) -> Response:
    group_id = path_id(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    action = form.get("action", "")
    member = form.get("user_id", "")
    async with user_tx(request) as conn:
        group = (
            None
            if group_id is None
            else await (await conn.execute(ADMIN_QUERIES["group_by_id"], {"id": group_id})).fetchone()
        )
        if group is None:
            return not_found(request)
        if action == "delete":
            await conn.execute(ADMIN_QUERIES["group_delete"], {"id": group_id})
            await record_audit(conn, request, user, "group.delete", group["name"])
            return RedirectResponse("/admin/groups", status_code=303)
        if action not in ("add", "remove") or not member.isdigit() or int(member) > MAX_ID:
            return await _groups_page(request, error="Choose a user to add or remove.", status_code=400)
        target = await (await conn.execute(ADMIN_QUERIES["admin_user"], {"id": int(member)})).fetchone()
        if target is None:
            return await _groups_page(request, error="No such user.", status_code=400)
        await set_membership(conn, actor_of(request, user), user_id=target["id"], username=target["username"],
                             group_id=group["id"], group=group["name"], member=action == "add")
    return RedirectResponse("/admin/groups", status_code=303)


@admin_only
async def roles(request: Request, user: SessionUser) -> Response:
    async with user_tx(request) as conn:
        rows = await (await conn.execute(ADMIN_QUERIES["roles_all"])).fetchall()
    return render(request, "admin/roles.html", {"roles": rows})


# ---------------------------------------------------------------- API keys


async def _keys_page(
    request: Request, *, error: str | None = None, created: str | None = None, status_code: int = 200
) -> Response:
    async with user_tx(request) as conn:
        keys = await (await conn.execute(ADMIN_QUERIES["api_keys_all"])).fetchall()
        everyone = await (await conn.execute(ADMIN_QUERIES["users_all"], {"q": "", "pattern": "%"})).fetchall()
    return render(
        request,
        "admin/api_keys.html",
        {"keys": keys, "users": everyone, "scopes": SCOPES, "error": error, "created": created},
        status_code=status_code,
    )


@admin_only
async def api_keys(request: Request, user: SessionUser) -> Response:
    if request.method == "GET":
        return await _keys_page(request)
    form = await _form(request)
    if form is None:
        return csrf_failed()
    raw = await request.form()
    scopes = [s for s in SCOPES if s in raw.getlist("scopes")]
    name = form.get("name", "").strip()
    owner = form.get("user_id", "")
    if not name or len(name) > 200 or "\x00" in name:
        return await _keys_page(request, error="Give the key a name that says what uses it.", status_code=400)
    if not scopes:
        return await _keys_page(request, error="Choose at least one scope: send, read, contacts.", status_code=400)
    async with user_tx(request) as conn:
        target = None
        if owner.isdigit() and int(owner) <= MAX_ID:
            target = await (await conn.execute(ADMIN_QUERIES["admin_user"], {"id": int(owner)})).fetchone()
        if target is None:
            return await _keys_page(request, error="Choose the user the key acts as.", status_code=400)
        key_id, key, digest = new_key()
        await conn.execute(
            ADMIN_QUERIES["api_key_insert"],
            {
                "key_id": key_id,
                "secret_sha256": digest,
                "name": name,
                "user_id": target["id"],
                "scopes": scopes,
                "created_by": user.user_id,
            },
        )
        await record_audit(
            conn, request, user, "api_key.create", key_id, {"user": target["username"], "scopes": scopes, "name": name}
        )
    return await _keys_page(request, created=key)


@admin_only
async def api_key_revoke(request: Request, user: SessionUser) -> Response:
    form = await _form(request)
    if form is None:
        return csrf_failed()
    key_id = path_id(request)
    async with user_tx(request) as conn:
        row = (
            None
            if key_id is None
            else await (await conn.execute(ADMIN_QUERIES["api_key_revoke"], {"id": key_id})).fetchone()
        )
        if row is not None:
            await record_audit(conn, request, user, "api_key.revoke", row["key_id"])
    if row is None:
        return not_found(request)
    return RedirectResponse("/admin/api-keys", status_code=303)


# ---------------------------------------------------------------- audit log


@admin_only
async def audit(request: Request, user: SessionUser) -> Response:
    before = request.query_params.get("before", "")
    params = {
        **search_terms(request),
        "before": int(before) if before.isdigit() and int(before) <= MAX_ID else None,
        "limit": AUDIT_PAGE + 1,
    }
    async with user_tx(request) as conn:
        rows = await (await conn.execute(ADMIN_QUERIES["audit_page"], params)).fetchall()
    return render(
        request,
        "admin/audit.html",
        {
            "entries": rows[:AUDIT_PAGE],
            "next_before": rows[AUDIT_PAGE - 1]["id"] if len(rows) > AUDIT_PAGE else None,
            "paged": params["before"] is not None,
            "search_action": "/admin/audit",
            "clear_filter_url": "/admin/audit",
        },
    )


routes: list[BaseRoute] = [
    Route("/admin", overview),
    Route("/admin/users", users, methods=["GET", "POST"]),
    Route("/admin/users/{id:int}", user_detail, methods=["GET", "POST"]),
    Route("/admin/users/{id:int}/password", user_password, methods=["POST"]),
    Route("/admin/users/{id:int}/groups", user_groups, methods=["POST"]),
    Route("/admin/groups", groups, methods=["GET", "POST"]),
    Route("/admin/groups/{id:int}", group_members, methods=["POST"]),
    Route("/admin/roles", roles),
    Route("/admin/api-keys", api_keys, methods=["GET", "POST"]),
    Route("/admin/api-keys/{id:int}/revoke", api_key_revoke, methods=["POST"]),
    Route("/admin/audit", audit),
]
