"""The compose page's price before sending (POST /compose/price, JSON for
compose.js): "3 SMS · about 0.27 EUR, 0.18 EUR with special characters
replaced". Each recipient is priced as hub.outbox would route and price
it (hub.estimate_cost_v1), as the signed-in user."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.web.common import check_csrf, csrf_failed, read_form, require_user, user_tx
from msghub.web.display import money
from msghub.web.pages.recipients import resolve_names
from msghub.web.queries import ADMIN_QUERIES
from msghub.web.security import SessionUser

# a price for the first recipients only: a long list is priced when queued
MAX_PRICED_RECIPIENTS = 50
MAX_TEXT_CHARS = 100_000
CHANNELS = ("sms", "mms", "email")


def _total(by_currency: dict[str, Decimal]) -> str:
    return " + ".join(f"{money(v)} {c}" for c, v in sorted(by_currency.items()))


def price_label(channel: str, transliterate: bool, rows: list[dict[str, Any]]) -> str:
    """The words compose.js shows; empty when no recipient has a price."""
    priced = [r for r in rows if r["cost"] is not None]
    if not priced:
        return ""
    as_sent: dict[str, Decimal] = defaultdict(Decimal)
    replaced: dict[str, Decimal] = defaultdict(Decimal)
    for r in priced:
        as_sent[r["currency"]] += r["cost_transliterated"] if transliterate else r["cost"]
        replaced[r["currency"]] += r["cost_transliterated"]
    copies = f" to {len(priced)} recipients" if len(priced) > 1 else ""
    if channel != "sms":
        return f"{'1 ' + channel.upper() if channel == 'mms' else '1 e-mail'}{copies} · about {_total(as_sent)}"
    first = priced[0]
    parts = first["parts_transliterated"] if transliterate else first["parts"]
    label = f"{parts} SMS{copies} · about {_total(as_sent)}"
    if not transliterate and replaced != as_sent and sum(replaced.values()) < sum(as_sent.values()):
        label += f", {_total(replaced)} with special characters replaced"
    return label


@require_user
async def compose_price(request: Request, user: SessionUser) -> Response:
    form = await read_form(request, max_bytes=4 * MAX_TEXT_CHARS)
    if not check_csrf(request, form):
        return csrf_failed()
    channel = form.get("channel", "sms")
    if channel not in CHANNELS:
        channel = "sms"
    text = form.get("text", "")[:MAX_TEXT_CHARS]
    pieces = [p.strip() for p in form.get("to", "").split(",") if p.strip()][:MAX_PRICED_RECIPIENTS]
    transliterate = form.get("transliterate") in ("on", "true", "1")
    rows: list[dict[str, Any]] = []
    async with user_tx(request) as conn:
        addresses = (await resolve_names(conn, pieces, channel)).addresses if pieces else []
        for address in addresses:
            row = await (await conn.execute(ADMIN_QUERIES["compose_price"], {
                "channel": channel, "recipient": address, "text": text,
                "connection": form.get("connection") or None})).fetchone()
            if row is not None:
                rows.append(dict(row))
    return JSONResponse({"label": price_label(channel, transliterate, rows)})


routes: list[BaseRoute] = [
    Route("/compose/price", compose_price, methods=["POST"]),
]
