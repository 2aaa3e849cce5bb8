"""Contacts import with its live progress, connections, statistics and admin
pages in a real browser (Debian's chromium), with screenshots."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from msghub.services.blocking import call
from msghub.services.users import add_user
from tests.hubproc import wait_for
from tests.web.test_browser import CHROMIUM, WAIT_MS, _shot, browser, hub, shots  # noqa: F401 (fixtures)
from tests.web_admin.helpers import PASSWORD

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
    reason="chromium is not installed (scripts/install-test-deps installs it)",
)


def _goto(page, url):
    """page.goto, once more if the page's own live reload (a connection's
    state changing under the connections page) aborted the navigation."""
    try:
        page.goto(url)
    except Exception as exc:
        if "ERR_ABORTED" not in str(exc):
            raise
        page.goto(url)


def _admin_page(browser, hub):  # noqa: F811
    if not hub["db"].execute("SELECT 1 FROM hub.users WHERE username = 'root'").fetchone():
        call(hub["db"], add_user, "root", PASSWORD, role="admin")
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    page.goto(hub["url"] + "/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(hub["url"] + "/")
    return page


def test_import_shows_progress_then_the_result(browser, hub, shots, tmp_path):  # noqa: F811
    rows = "".join(f"Person {i},+49171{i:06d},,Import test\r\n" for i in range(5000))
    path = tmp_path / "people.csv"
    path.write_text("name,phone,email,lists\r\n" + rows + "Broken,+12ab,,\r\n")
    page = _admin_page(browser, hub)
    page.goto(hub["url"] + "/contacts/import")
    page.set_input_files("input[name=file]", str(path))
    page.click("form[action='/contacts/import'] button[type=submit]")
    page.wait_for_selector("#import-job")
    # the script polls the progress and reloads when the import has ended
    page.wait_for_selector("#import-job[data-state=done]", timeout=120_000)
    assert page.inner_text("#import-created") == "5000"
    assert "line 5002: phone '+12ab' is not a phone number" in page.inner_text("ul.problems")
    _shot(page, shots, "contacts-import")
    page.goto(hub["url"] + "/contacts?q=Person 42")
    assert page.is_visible("#filtered-bar")
    _shot(page, shots, "contacts")
    assert page.js_errors == []


def test_connections_stats_and_api_keys(browser, hub, shots):  # noqa: F811
    page = _admin_page(browser, hub)
    # the page shows the state it reads: wait until the hub holds the link (slow on a loaded machine)
    wait_for(lambda: hub["db"].execute("SELECT 1 FROM hub.connection_status WHERE name = 'loop' AND state = 'up'")
             .fetchone(), what="the loop connection up")
    page.goto(hub["url"] + "/connections")
    assert page.inner_text("tr[data-connection=loop] span.state-up") == "up"
    _shot(page, shots, "connections")
    root = hub["db"].execute("SELECT id FROM hub.users WHERE username = 'root'").fetchone()["id"]
    for day in range(14):
        for direction, status, count in (
            ("out", "delivered", 20 + 3 * day),
            ("out", "failed", day % 4),
            ("in", "received", 10 + (day * 7) % 15),
        ):
            hub["db"].execute(
                "INSERT INTO hub.messages (channel, direction, connection_id, recipients, status, owner_user_id, "
                "created_at) SELECT 'sms', %s, c.id, '{+4917000001}', %s, %s, now() - make_interval(days => %s) "
                "FROM hub.connections c, generate_series(1, %s) WHERE c.name = 'loop'",
                (direction, status, root if direction == "out" else None, day, count),
            )
    _goto(page, hub["url"] + "/stats")
    assert page.locator("svg.chart rect.bar-sent").count() >= 14
    _shot(page, shots, "statistics")
    _goto(page, hub["url"] + "/admin/api-keys")
    page.fill("input[name=name]", "crm")
    page.click("form[action='/admin/api-keys'] button[type=submit]")
    assert page.inner_text("#new-key").startswith("mh_")
    _shot(page, shots, "admin-api-keys")
    assert page.js_errors == []


def test_imports_and_schedules_pages(browser, hub, shots, tmp_path):  # noqa: F811
    import sqlite3

    shop = tmp_path / "shop.db"
    with sqlite3.connect(shop) as ext:
        ext.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, phone TEXT, item TEXT)")
        ext.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(1, "+4917000001", "pizza"), (2, "+4917000002",
                                                                                               "pasta")])
    page = _admin_page(browser, hub)
    _goto(page, hub["url"] + "/admin/imports")
    page.fill("input[name=name]", "shop")
    page.fill("input[name=url]", f"sqlite:///{shop}")
    page.fill("textarea[name=query]", "SELECT id, phone, item FROM orders WHERE id > coalesce(:last_key, 0)")
    page.fill("input[name=key]", "id")
    page.fill("input[name=topic]", "orders")
    page.fill("input[name=every]", "3600")
    page.click("form[action='/admin/imports'] button[type=submit]")
    page.wait_for_url(hub["url"] + "/admin/imports")
    page.click("button[name=action][value=test]")
    page.wait_for_selector("#preview")
    assert "2 row(s)" in page.inner_text("#preview") and '"item": "pasta"' in page.inner_text("#preview")
    _shot(page, shots, "admin-imports")
    _goto(page, hub["url"] + "/admin/schedules")
    page.fill("input[name=name]", "nightly")
    page.fill("input[name=every]", "86400")
    page.click("form[action='/admin/schedules'] button[type=submit]")
    page.wait_for_url(hub["url"] + "/admin/schedules")
    page.click("button[name=action][value=disable]")
    page.wait_for_selector("button[name=action][value=enable]")
    row = hub["db"].execute("SELECT interval_s, enabled FROM hub.schedules WHERE name = 'nightly'").fetchone()
    assert row == {"interval_s": 86400, "enabled": False}
    assert page.js_errors == []
