"""Statistics: messages by connection and by user, by day, as tables and as
bar charts drawn on the server as SVG (no script, nothing to load).

The numbers come from hub.stats_by_connection_day and hub.stats_by_user_day
(schema/70_views.sql), and the costs from hub.stats_costs (90_costs.sql, also
as CSV at /stats/costs.csv), exact at every moment, and count the messages the
signed-in user sees (admins: every message); totals by user show admins
every user and everyone else their own line only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from msghub.web.common import render, require_user, user_tx
from msghub.web.display import money
from msghub.web.queries import ADMIN_QUERIES
from msghub.web.security import SessionUser

DEFAULT_DAYS = 30
MAX_DAYS = 366
CHART_WIDTH = 900
CHART_HEIGHT = 240
MARGIN_LEFT = 48
MARGIN_BOTTOM = 40
SERIES = ("sent", "received", "failed", "other")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    axis_y: float
    empty: bool


def _nice_max(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at least value."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def stacked_chart(days: list[dt.date], values: dict[dt.date, dict[str, int]]) -> Chart:
    """One stacked bar per day (series sent, received, failed, other)."""
    plot_w = CHART_WIDTH - MARGIN_LEFT - 8
    plot_h = CHART_HEIGHT - MARGIN_BOTTOM - 10
    top = _nice_max(max((sum(values.get(d, {}).values()) for d in days), default=0))
    slot = plot_w / max(len(days), 1)
    bars: list[Bar] = []
    labels = [Label(MARGIN_LEFT - 6, 14, f"{top:,}", "end"), Label(MARGIN_LEFT - 6, plot_h + 10, "0", "end")]
    every = max(1, len(days) // 10)
    for index, day in enumerate(days):
        base = float(plot_h + 10)
        x = MARGIN_LEFT + index * slot + slot * 0.1
        for series in SERIES:
            count = values.get(day, {}).get(series, 0)
            if count <= 0:
                continue
            height = plot_h * count / top
            base -= height
            bars.append(
                Bar(
                    round(x, 1),
                    round(base, 1),
                    round(slot * 0.8, 1),
                    round(height, 1),
                    series,
                    f"{day.isoformat()}: {count:,} {series}",
                )
            )
        if index % every == 0:
            labels.append(Label(round(x + slot * 0.4, 1), CHART_HEIGHT - MARGIN_BOTTOM + 24, day.strftime("%m-%d")))
    empty = not bars
    return Chart(CHART_WIDTH, CHART_HEIGHT, bars, labels, plot_h + 10, empty)


def horizontal_chart(totals: list[tuple[str, int]]) -> Chart:
    """One bar per name (users), longest first."""
    row_h = 22
    height = max(row_h * len(totals) + 16, 40)
    left = 160
    top = _nice_max(max((t for _, t in totals), default=0))
    bars: list[Bar] = []
    labels: list[Label] = []
    for index, (name, total) in enumerate(totals):
        y = 8 + index * row_h
        width = (CHART_WIDTH - left - 80) * total / top
        bars.append(Bar(left, y, round(width, 1), row_h - 6, "sent", f"{name}: {total:,} messages"))
        labels.append(Label(left - 6, y + row_h - 10, name[:24], "end"))
        labels.append(Label(round(left + width + 6, 1), y + row_h - 10, f"{total:,}", "start"))
    return Chart(CHART_WIDTH, height, bars, labels, 0, not bars)


def cost_chart(costs: list[dict[str, Any]]) -> Chart:
    """One bar per connection and currency: what its messages cost (bars
    compare within a currency only, each scaled to its currency's largest)."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in costs:
        totals[(row["connection"], row["currency"])] += row["cost"] or Decimal(0)
    ranked = sorted(totals.items(), key=lambda item: (item[0][1], -item[1], item[0][0]))[:30]
    largest: dict[str, Decimal] = defaultdict(Decimal)
    for (_, currency), total in ranked:
        largest[currency] = max(largest[currency], total)
    row_h = 22
    left = 200
    bars: list[Bar] = []
    labels: list[Label] = []
    for index, ((name, currency), total) in enumerate(ranked):
        y = 8 + index * row_h
        share = float(total / largest[currency]) if largest[currency] else 0.0
        width = round((CHART_WIDTH - left - 120) * share, 1)
        shown = f"{money(total)} {currency}"
        bars.append(Bar(left, y, width, row_h - 6, "sent", f"{name}: {shown}"))
        labels.append(Label(left - 6, y + row_h - 10, f"{name[:18]} ({currency})", "end"))
        labels.append(Label(round(left + width + 6, 1), y + row_h - 10, shown, "start"))
    return Chart(CHART_WIDTH, max(row_h * len(ranked) + 16, 40), bars, labels, 0, not bars)


def _series(row: dict[str, Any]) -> dict[str, int]:
    sent = int(row["sent"])
    received = int(row["received"])
    failed = int(row["failed"])
    return {
        "sent": sent,
        "received": received,
        "failed": failed,
        "other": max(int(row["messages"]) - sent - received - failed, 0),
    }


def _date(raw: str, default: dt.date) -> dt.date | None:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


@require_user
async def stats(request: Request, user: SessionUser) -> Response:
    today = dt.datetime.now(dt.UTC).date()
    start = _date(request.query_params.get("from", ""), today - dt.timedelta(days=DEFAULT_DAYS - 1))
    end = _date(request.query_params.get("to", ""), today)
    error = None
    if start is None or end is None:
        error = "Give dates as YYYY-MM-DD, e.g. 2026-01-31."
    elif start > end:
        error = "The first day comes after the last day: swap them."
    elif (end - start).days >= MAX_DAYS:
        error = f"Choose at most {MAX_DAYS} days."
    if error or start is None or end is None:
        return render(
            request,
            "stats/index.html",
            {
                "error": error,
                "start": request.query_params.get("from", ""),
                "end": request.query_params.get("to", ""),
                "by_connection": [],
                "by_user": [],
                "chart": None,
                "user_chart": None,
            },
            status_code=400,
        )
    async with user_tx(request) as conn:
        by_connection = await (
            await conn.execute(ADMIN_QUERIES["stats_by_connection"], {"from": start, "to": end})
        ).fetchall()
        by_user = await (await conn.execute(ADMIN_QUERIES["stats_by_user"], {"from": start, "to": end})).fetchall()
        by_device = await (await conn.execute(ADMIN_QUERIES["stats_by_modem_device"], {"from": start, "to": end})
                           ).fetchall()
        costs = await (await conn.execute(ADMIN_QUERIES["stats_costs_by_connection"], {"from": start, "to": end})
                       ).fetchall()
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    per_day: dict[dt.date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SERIES, 0))
    for row in by_connection:
        for series, count in _series(row).items():
            per_day[row["day"]][series] += count
    user_totals: dict[str, int] = defaultdict(int)
    for row in by_user:
        user_totals[row["username"]] += int(row["messages"])
    ranked = sorted(user_totals.items(), key=lambda item: (-item[1], item[0]))[:30]
    connection_totals: dict[str, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("messages", "segments", "sent", "delivered", "failed", "pending", "received"), 0)
    )
    for row in by_connection:
        for key in connection_totals[row["connection"]]:
            connection_totals[row["connection"]][key] += int(row[key])
    return render(
        request,
        "stats/index.html",
        {
            "error": None,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "by_connection": by_connection,
            "by_user": by_user,
            "connection_totals": sorted(connection_totals.items()),
            "by_device": by_device,
            "costs": costs,
            "cost_chart": cost_chart(costs),
            "chart": stacked_chart(days, per_day),
            "user_chart": horizontal_chart(ranked),
            "all_users": user.role == "admin",
        },
    )


COST_COLUMNS = ("day", "connection", "username", "group_name", "channel", "direction", "prefix", "currency",
                "messages", "estimated", "cost")


def _csv_cell(value: Any) -> str:
    """A CSV field a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _NUMBER.fullmatch(text) else text


_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


@require_user
async def costs_csv(request: Request, user: SessionUser) -> Response:
    """The cost statistics of the chosen days as CSV, one row per day,
    connection, user, group, channel, direction, prefix and currency."""
    today = dt.datetime.now(dt.UTC).date()
    start = _date(request.query_params.get("from", ""), today - dt.timedelta(days=DEFAULT_DAYS - 1))
    end = _date(request.query_params.get("to", ""), today)
    if start is None or end is None or start > end or (end - start).days >= MAX_DAYS:
        return PlainTextResponse(f"Give from and to as YYYY-MM-DD, at most {MAX_DAYS} days apart.",
                                 status_code=400)
    async with user_tx(request) as conn:
        rows = await (await conn.execute(ADMIN_QUERIES["stats_costs_rows"], {"from": start, "to": end})).fetchall()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COST_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in COST_COLUMNS])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="msghub-costs-{start}-{end}.csv"'})


routes: list[BaseRoute] = [Route("/stats", stats), Route("/stats/costs.csv", costs_csv)]
