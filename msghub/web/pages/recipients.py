"""The compose page's recipients: a search as one types (GET
/compose/recipients, JSON for the chips of compose.js) and the resolution of
typed contact names when the message is sent. Both read through the
signed-in user's row-level security, so only their contacts and lists come back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.web.common import require_user, user_tx
from msghub.web.queries import WEB_QUERIES
from msghub.web.security import SessionUser

SEARCH_LIMIT = 8
MAX_QUERY_CHARS = 100
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]+")
_PHONE_NOISE = re.compile(r"[\s().-]")
_EMAIL_LIKE = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+")


def search_params(q: str, channel: str, after_name: str = "", after_id: int = 0) -> dict[str, Any]:
    q = q.strip()[:MAX_QUERY_CHARS]
    phone = _PHONE_NOISE.sub("", q) if _PHONE_LIKE.fullmatch(q) else ""
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    return {
        "q": q,
        "phone": phone,
        "channel": channel if channel in ("sms", "mms", "email") else "sms",
        "after_name": after_name,
        "after_id": after_id,
        "limit": SEARCH_LIMIT,
    }


def _suggestion(row: dict[str, Any]) -> dict[str, Any]:
    if row["kind"] == "list":
        return {"kind": "list", "label": row["name"], "value": row["name"]}
    name, address = row["name"] or "", row["address"]
    return {"kind": "contact", "label": f"{name} <{address}>" if name else address, "value": address, "name": name}


@require_user
async def recipient_search(request: Request, user: SessionUser) -> Response:
    q = request.query_params.get("q", "")
    after_id = request.query_params.get("after_id", "0")
    params = search_params(
        q,
        request.query_params.get("channel", "sms"),
        request.query_params.get("after_name", "")[:MAX_QUERY_CHARS],
        int(after_id) if after_id.isdigit() and len(after_id) < 19 else 0,
    )
    if not params["q"]:
        return JSONResponse({"results": [], "more": None})
    async with user_tx(request) as conn:
        rows = await (await conn.execute(WEB_QUERIES["compose_recipient_search"], params)).fetchall()
    seen: set[tuple[str, str]] = set()
    results = []
    by_name = [r for r in rows if r["kind"] == "contact" and r["sort_key"] == (r["name"] or "").lower()]
    for row in rows:
        item = _suggestion(row)
        key = (item["kind"], item["value"])
        if key not in seen:
            seen.add(key)
            results.append(item)
    more = None
    if len(by_name) >= SEARCH_LIMIT:
        last = by_name[-1]
        more = {"after_name": last["sort_key"], "after_id": last["id"]}
    return JSONResponse({"results": results, "more": more})


@dataclass(frozen=True)
class Resolved:
    addresses: list[str]
    error: str = ""


def looks_like_address(piece: str) -> bool:
    return bool(_PHONE_LIKE.fullmatch(piece) or _EMAIL_LIKE.fullmatch(piece))


async def resolve_names(conn: psycopg.AsyncConnection[Any], pieces: list[str], channel: str) -> Resolved:
    """Numbers and addresses as they are; a contact's name replaced by its
    address for the channel, or a reason a person can act on."""
    out: list[str] = []
    for piece in pieces:
        if looks_like_address(piece):
            out.append(piece)
            continue
        rows = await (await conn.execute(WEB_QUERIES["compose_contact_by_name"], {"name": piece})).fetchall()
        if not rows:
            return Resolved(
                out, f"“{piece}” is neither a number, an e-mail address nor the name of one of your contacts."
            )
        if len(rows) > 1:
            return Resolved(out, f"{len(rows)} contacts are called “{piece}”: choose one from the suggestions.")
        row = rows[0]
        if channel in ("sms", "email"):
            address = row["phone"] if channel == "sms" else row["email"]
        else:
            address = row["phone"] or row["email"]
        if not address:
            kind = "e-mail address" if channel == "email" else "phone number"
            return Resolved(out, f"The contact “{row['name']}” has no {kind}.")
        out.append(address)
    return Resolved(out)


routes: list[BaseRoute] = [Route("/compose/recipients", recipient_search)]
