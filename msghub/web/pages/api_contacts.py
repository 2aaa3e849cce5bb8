"""Contacts and distribution lists over the API (docs/API.md): read with
the ``read`` scope, written with the ``contacts`` scope. What a key creates
belongs to its user; what it reads, changes or deletes is what that user
sees (row-level security), exactly as on the contacts pages."""

from __future__ import annotations

from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from msghub.contacts.contacts_io import MAX_NAME_CHARS, MAX_NOTES_CHARS, RecordError, check_contact
from msghub.web.api_fields import AFTER, Field, Operation, answer, jsonable, limit_field, not_found, routes_of
from msghub.web.common import as_user, pool_of
from msghub.web.pages.api import ApiFailure, ApiKey
from msghub.web.queries import API_QUERIES

MAX_PAGE = 500
CONTACT_FIELDS = (
    Field("name", "string", "the contact's name", max_length=MAX_NAME_CHARS, default=""),
    Field("phone", "string", "a phone number (normalized to +<country><number>)", max_length=100, nullable=True),
    Field("email", "string", "an e-mail address", max_length=320, nullable=True),
    Field("notes", "string", "free text", max_length=MAX_NOTES_CHARS, default=""),
)
LIST_FIELDS = (
    Field("name", "string", "the list's name (what send's list field names)", required=True, max_length=200),
    Field("description", "string", "what the list is for", max_length=1000, default=""),
)
_TEXT = {"type": ["string", "null"]}
CONTACT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "phone": _TEXT, "email": _TEXT, "notes": {"type": "string"},
    "lists": {"type": "array", "items": {"type": "string"}, "description": "the names of its lists the user sees"},
    "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}}
LIST_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
    "members": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"}}
LIST = {"type": "object", "properties": LIST_PROPERTIES}
MEMBER = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                           "phone": _TEXT, "email": _TEXT}}


def _page(rows: list[dict[str, Any]], limit: int, name: str) -> dict[str, Any]:
    return {name: [jsonable(r) for r in rows], "next_after": rows[-1]["id"] if len(rows) == limit else None}


def _contact_params(args: dict[str, Any]) -> dict[str, Any]:
    checked = check_contact(args["name"] or "", args["phone"] or "", args["email"] or "", args["notes"] or "",
                            (), "contact")
    if isinstance(checked, RecordError):
        reason = checked.message
        field = next((f for f, start in (("phone", "phone"), ("email", "e-mail"), ("name", "name"),
                                         ("notes", "notes")) if reason.startswith(start)), "phone")
        raise ApiFailure(422, "refused", reason, field)
    return {"name": checked.name, "phone": checked.phone, "email": checked.email, "notes": checked.notes}


async def _contact(conn: psycopg.AsyncConnection[Any], contact_id: int) -> dict[str, Any]:
    row = await (await conn.execute(API_QUERIES["contact"], {"id": contact_id})).fetchone()
    if row is None:
        raise not_found("contact")
    return jsonable(row)


async def contacts(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    q = args["q"].strip()
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    async with as_user(pool_of(request), key.user_id) as conn:
        rows = await (await conn.execute(API_QUERIES["contacts_page"], {**args, "q": q, "pattern": pattern})).fetchall()
    return answer(_page(rows, args["limit"], "contacts"))


async def contact_add(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    params = {**_contact_params(args), "owner_user_id": key.user_id}
    async with as_user(pool_of(request), key.user_id) as conn:
        row = await (await conn.execute(API_QUERIES["contact_insert"], params)).fetchone()
        assert row is not None
        return answer(await _contact(conn, row["id"]), 201)


async def contact_get(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    async with as_user(pool_of(request), key.user_id) as conn:
        return answer(await _contact(conn, args["contact_id"]))


async def contact_put(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    params = {**_contact_params(args), "id": args["contact_id"]}
    async with as_user(pool_of(request), key.user_id) as conn:
        if await (await conn.execute(API_QUERIES["contact_update"], params)).fetchone() is None:
            raise not_found("contact")
        return answer(await _contact(conn, args["contact_id"]))


async def contact_delete(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    async with as_user(pool_of(request), key.user_id) as conn:
        if await (await conn.execute(API_QUERIES["contact_delete"], {"id": args["contact_id"]})).fetchone() is None:
            raise not_found("contact")
    return answer(None, 204)


async def lists(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    async with as_user(pool_of(request), key.user_id) as conn:
        rows = await (await conn.execute(API_QUERIES["lists_all"])).fetchall()
    return answer({"lists": [jsonable(r) for r in rows]})


async def list_add(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    name = args["name"].strip()
    if not name:
        raise ApiFailure(422, "refused", "a list needs a name", "name")
    async with as_user(pool_of(request), key.user_id) as conn:
        row = await (await conn.execute(API_QUERIES["list_insert"], {
            "name": name, "description": args["description"].strip(), "owner_user_id": key.user_id})).fetchone()
        assert row is not None
        created = await (await conn.execute(API_QUERIES["list"], {"id": row["id"]})).fetchone()
    assert created is not None
    return answer(jsonable(created), 201)


async def list_put(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    name = args["name"].strip()
    if not name:
        raise ApiFailure(422, "refused", "a list needs a name", "name")
    async with as_user(pool_of(request), key.user_id) as conn:
        row = await (await conn.execute(API_QUERIES["list_update"], {
            "id": args["list_id"], "name": name, "description": args["description"].strip()})).fetchone()
        if row is None:
            raise not_found("list")
        changed = await (await conn.execute(API_QUERIES["list"], {"id": args["list_id"]})).fetchone()
    assert changed is not None
    return answer(jsonable(changed))


async def list_get(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    async with as_user(pool_of(request), key.user_id) as conn:
        row = await (await conn.execute(API_QUERIES["list"], {"id": args["list_id"]})).fetchone()
        if row is None:
            raise not_found("list")
        members = await (await conn.execute(API_QUERIES["list_members_page"], {
            "id": args["list_id"], "after": args["after"], "limit": args["limit"]})).fetchall()
    return answer({**jsonable(row), **_page(members, args["limit"], "contacts")})


async def list_delete(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    async with as_user(pool_of(request), key.user_id) as conn:
        if await (await conn.execute(API_QUERIES["list_delete"], {"id": args["list_id"]})).fetchone() is None:
            raise not_found("list")
    return answer(None, 204)


async def member_put(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    async with as_user(pool_of(request), key.user_id) as conn:
        row = await (await conn.execute(API_QUERIES["list_member_add"], args)).fetchone()
    if row is None:
        raise not_found("list or contact")
    return answer(None, 204)


async def member_delete(request: Request, key: ApiKey, args: dict[str, Any]) -> Response:
    async with as_user(pool_of(request), key.user_id) as conn:
        row = await (await conn.execute(API_QUERIES["list_member_delete"], args)).fetchone()
    if row is None:
        raise not_found("member of that list")
    return answer(None, 204)


_CONTACT = "/api/v1/contacts/{contact_id:int}"
_LIST = "/api/v1/lists/{list_id:int}"
_MEMBER = "/api/v1/lists/{list_id:int}/members/{contact_id:int}"
OPERATIONS = (
    Operation("GET", "/api/v1/contacts", "listContacts", "the contacts the key's user sees, by id (scope read)",
              "read", contacts, query=(Field("q", "string", "only those whose name, phone or e-mail contains this",
                                             max_length=200, default=""), AFTER, limit_field(100, MAX_PAGE)),
              answer={"type": "object", "properties": {"contacts": {"type": "array", "items": CONTACT},
                                                       "next_after": {"type": ["integer", "null"]}}}),
    Operation("POST", "/api/v1/contacts", "addContact", "create a contact of the key's user (scope contacts)",
              "contacts", contact_add, body=CONTACT_FIELDS, ok=201, answer=CONTACT, errors=(422,)),
    Operation("GET", _CONTACT, "getContact", "one contact (scope read)", "read", contact_get, answer=CONTACT),
    Operation("PUT", _CONTACT, "putContact", "replace a contact's name, phone, e-mail and notes (scope contacts)",
              "contacts", contact_put, body=CONTACT_FIELDS, answer=CONTACT, errors=(422,)),
    Operation("DELETE", _CONTACT, "deleteContact", "delete a contact (scope contacts)", "contacts", contact_delete,
              ok=204),
    Operation("GET", "/api/v1/lists", "listLists", "the distribution lists the key's user sees (scope read)", "read",
              lists, answer={"type": "object", "properties": {"lists": {"type": "array", "items": LIST}}}),
    Operation("POST", "/api/v1/lists", "addList", "create a list of the key's user (scope contacts)", "contacts",
              list_add, body=LIST_FIELDS, ok=201, answer=LIST, errors=(422,)),
    Operation("GET", _LIST, "getList", "a list and a page of its members, by id (scope read)", "read", list_get,
              query=(AFTER, limit_field(100, MAX_PAGE)),
              answer={"type": "object", "properties": {**LIST_PROPERTIES, "contacts": {
                  "type": "array", "items": MEMBER}, "next_after": {"type": ["integer", "null"]}}}),
    Operation("PUT", _LIST, "putList", "rename a list, or change its description (scope contacts)", "contacts",
              list_put, body=LIST_FIELDS, answer=LIST, errors=(422,)),
    Operation("DELETE", _LIST, "deleteList", "delete a list (its contacts stay; scope contacts)", "contacts",
              list_delete, ok=204),
    Operation("PUT", _MEMBER, "addMember", "make a contact a member of a list (scope contacts)", "contacts",
              member_put, ok=204),
    Operation("DELETE", _MEMBER, "removeMember", "take a contact off a list (scope contacts)", "contacts",
              member_delete, ok=204),
)

routes: list[BaseRoute] = routes_of(OPERATIONS)
