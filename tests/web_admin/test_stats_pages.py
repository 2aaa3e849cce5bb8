"""Statistics: tables and server-drawn SVG charts, with a date range."""

from __future__ import annotations

import datetime as dt
import re

from msghub.web.pages.stats import _nice_max, horizontal_chart, stacked_chart
from tests.web_admin.helpers import assert_inert, login, run, user


def _messages(db, connection_id: int, owner: int | None, day: str, direction: str, status: str, count: int) -> None:
    db.execute(
        "INSERT INTO hub.messages (channel, direction, connection_id, recipients, status, owner_user_id, created_at) "
        "SELECT 'sms', %s, %s, '{+4917000001}', %s, %s, %s::date + time '12:00' FROM generate_series(1, %s)",
        (direction, connection_id, status, owner, day, count),
    )


def _setup(db, alice: int, bob: int) -> None:
    conn_id = db.execute(
        "INSERT INTO hub.connections (name, kind, channels) VALUES ('smsc', 'emi', '{sms}') RETURNING id"
    ).fetchone()["id"]
    _messages(db, conn_id, alice, "2026-03-01", "out", "delivered", 5)
    _messages(db, conn_id, alice, "2026-03-01", "out", "failed", 2)
    _messages(db, conn_id, bob, "2026-03-02", "out", "sent", 4)
    _messages(db, conn_id, None, "2026-03-02", "in", "received", 3)
    _messages(db, conn_id, bob, "2026-04-15", "out", "sent", 9)


def test_tables_and_charts_for_a_date_range(db_url, db):
    alice = user(db_url, "alice", role="admin")
    bob = user(db_url, "bob")
    _setup(db, alice, bob)

    async def scenario(client):
        await login(client, "alice")
        return (await client.get("/stats?from=2026-03-01&to=2026-03-31")).text

    html = run(db_url, scenario)
    table = re.search(r'<table id="by-connection">.*?</table>', html, re.S).group(0)
    cells = re.findall(r'<td class="num">(\d+)</td>', table)
    # messages, parts, sent, delivered, failed, waiting, received: April is outside the range
    assert cells == ["14", "14", "9", "5", "2", "0", "3"]
    assert "<td>smsc</td>" in table
    titles = re.findall(r"<rect class=\"bar-(\w+)\"[^>]*><title>([^<]+)</title>", html)
    assert ("sent", "2026-03-01: 5 sent") in titles and ("failed", "2026-03-01: 2 failed") in titles
    assert ("received", "2026-03-02: 3 received") in titles
    assert not any("2026-04" in t for _, t in titles)
    assert ("sent", "alice: 7 messages") in titles and ("sent", "bob: 4 messages") in titles
    assert_inert(html)


def test_users_see_only_their_own_line(db_url, db):
    alice = user(db_url, "alice", role="admin")
    bob = user(db_url, "bob")
    _setup(db, alice, bob)

    async def scenario(client):
        await login(client, "bob")
        return (await client.get("/stats?from=2026-03-01&to=2026-04-30")).text

    html = run(db_url, scenario)
    by_user = re.search(r'<table id="by-user-day">.*?</table>', html, re.S).group(0)
    assert "bob" in by_user and "alice" not in by_user and "(nobody)" not in by_user
    assert "By user (yours)" in html


def test_bad_ranges_are_explained(db_url, db):
    user(db_url, "alice")

    async def scenario(client):
        await login(client, "alice")
        return [
            await client.get(q)
            for q in (
                "/stats?from=yesterday",
                "/stats?from=2026-03-10&to=2026-03-01",
                "/stats?from=2020-01-01&to=2026-01-01",
                "/stats",
            )
        ]

    bad_date, swapped, too_long, default = run(db_url, scenario)
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.text
    assert swapped.status_code == 400 and "swap them" in swapped.text
    assert too_long.status_code == 400 and "at most 366 days" in too_long.text
    assert default.status_code == 200 and "No messages between" in default.text


def test_chart_geometry():
    assert [_nice_max(v) for v in (0, 1, 3, 7, 10, 11, 150, 999)] == [1, 1, 5, 10, 10, 20, 200, 1000]
    days = [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
    chart = stacked_chart(days, {days[0]: {"sent": 10, "received": 10}, days[1]: {"failed": 5}})
    assert [b.series for b in chart.bars] == ["sent", "received", "failed"]
    sent, received, failed = chart.bars
    # stacked: received sits on sent; the tallest day reaches the top of the plot
    assert received.y + received.height == sent.y and sent.height == received.height
    assert received.y == 10 and abs(failed.height - sent.height / 2) < 0.2
    assert stacked_chart(days, {}).empty
    bars = horizontal_chart([("a", 10), ("b", 5)]).bars
    assert bars[0].width == 2 * bars[1].width
