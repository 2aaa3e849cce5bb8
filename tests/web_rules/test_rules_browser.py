"""The rule editor's rows in a real browser (Debian's chromium through
playwright) against a real hub process with the web role: adding and
removing rows happens in the page (static/rules.js), and what is saved is
what the rows say."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from pytest_postgresql.janitor import DatabaseJanitor

from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web.webkit import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WAIT_MS = 10_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
    reason="chromium is not installed (scripts/install-test-deps installs it)",
)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def hub(pg_server, template_db) -> Iterator[dict[str, Any]]:
    name = f"msghub_rules_browser_{os.getpid()}"
    janitor = DatabaseJanitor(
        user=pg_server.user,
        host=pg_server.host,
        port=pg_server.port,
        password=pg_server.password,
        dbname=name,
        template_dbname=template_db,
    )
    janitor.init()
    url = pg_server.url(name)
    db = psycopg.connect(url, autocommit=True, row_factory=dict_row, options="-c msghub.system=on")
    make_user(url, "root", role="admin")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = start_hub(
        url, roles="web", MSGHUB_HTTP_PORT=str(port), MSGHUB_HTTP_HOST="127.0.0.1",
        MSGHUB_ADMIN_PASSWORD="admin password 1",
    )  # fmt: skip
    try:
        wait_for(lambda: _answers(port), what="the web server")
        yield {"url": f"http://127.0.0.1:{port}", "db": db}
    finally:
        assert stop_hub(proc) == 0
        db.close()
        janitor.drop()


def test_rows_are_added_and_removed_in_the_page_and_saved(hub, tmp_path):
    shots = Path(os.environ.get("MSGHUB_SCREENSHOTS") or tmp_path)
    from playwright.sync_api import sync_playwright

    base = hub["url"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(base + "/login")
            page.fill("input[name=username]", "root")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")

            page.goto(base + "/rules")
            assert "No rules yet" in page.inner_text("main")
            page.goto(base + "/rules/new")
            loads: list[str] = []
            page.on("load", lambda _p: loads.append("load"))
            page.fill("input[name=name]", "night")
            page.select_option("select[name=new_conditions]", "time_window")
            page.click("button.add-row[data-section=conditions]")
            page.select_option("select[name=new_conditions]", "text_contains")
            page.click("button.add-row[data-section=conditions]")
            page.select_option("select[name=new_actions]", "log")
            page.click("button.add-row[data-section=actions]")
            # the first action (a blank reply) goes again
            page.locator("#rows-actions .rule-row").first.locator("button.remove-row").click()
            assert loads == []  # all of it happened in the page
            assert page.locator("#rows-conditions .rule-row").count() == 2
            assert page.locator("#rows-actions .rule-row").count() == 1
            page.fill("input[name='conditions[0].from']", "22:00")
            page.fill("input[name='conditions[0].to']", "06:00")
            page.fill("input[name='conditions[0].timezone']", "Europe/Oslo")
            page.check("input[name='conditions[0].days5']")
            page.check("input[name='conditions[0].days6']")
            page.fill("input[name='conditions[1].keyword']", "help")
            page.check("input[name='conditions[1].negate']")
            page.fill("input[name='actions[1].message']", "night message from {sender}")
            page.screenshot(path=str(shots / "rule-editor.png"), full_page=True)
            page.locator("#rule-form button[value=save]").first.click()
            page.wait_for_url(lambda url: "saved=1" in url)
            assert "Saved." in page.inner_text("main")
            assert page.locator("#compiled-source").inner_text().startswith("// Compiled from the rule editor")
            test = (
                '{"name": "a Friday night message is logged", "event": {"type": "message_received", '
                '"created_at": "2026-01-02T22:30:00Z", "message": {"sender": "+447700900001", "text": "hi"}}, '
                '"expected": {"logs": [{"message": "night message from +447700900001"}], "error": null}}'
            )
            page.click("nav.tabs a:has-text('Tests')")
            page.fill("#test-json", test)
            page.click("button:has-text('Add the test')")
            page.wait_for_selector("li.rule-test.unrun")
            page.click("button:has-text('Run tests')")
            page.wait_for_selector("li.rule-test.pass")
            assert "Ran 1 test: 1 passed." in page.inner_text("#ran")
            page.screenshot(path=str(shots / "rule-tests.png"), full_page=True)
            page.goto(base + "/rules")
            assert "1/1 passed" in page.inner_text("main")
            assert (
                "When time is between 22:00 and 06:00 on Fri, Sat (Europe/Oslo) and text does not contain 'help'"
                in (page.inner_text("main"))
            )
            page.screenshot(path=str(shots / "rules.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    row = hub["db"].execute("SELECT kind, model FROM hub.rules WHERE name = 'night'").fetchone()
    assert row["kind"] == "visual"
    assert row["model"]["conditions"] == [
        {
            "type": "time_window",
            "from": "22:00",
            "to": "06:00",
            "days": [5, 6],
            "timezone": "Europe/Oslo",
            "negate": False,
        },
        {"type": "text_contains", "keyword": "help", "negate": True},
    ]
    assert row["model"]["actions"] == [{"type": "log", "message": "night message from {sender}"}]


def test_without_javascript_the_same_buttons_edit_the_rows_on_the_server(hub):
    from playwright.sync_api import sync_playwright

    base = hub["url"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(java_script_enabled=False)
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("input[name=username]", "root")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            page.goto(base + "/rules/new")
            # the name is still empty: adding a row must not be stopped by the form's validation
            page.select_option("select[name=new_conditions]", "channel")
            with page.expect_navigation():
                page.click("button.add-row[data-section=conditions]")
            assert page.locator("#rows-conditions .rule-row").count() == 1
            with page.expect_navigation():
                page.locator("#rows-actions .rule-row button.remove-row").click()
            assert page.locator("#rows-actions .rule-row").count() == 0
            page.select_option("select[name=new_actions]", "move")
            with page.expect_navigation():
                page.click("button.add-row[data-section=actions]")
            page.fill("input[name=name]", "no script")
            page.select_option("select[name='conditions[0].channel']", "email")
            page.fill("input[name='actions[0].folder']", "Mail")
            with page.expect_navigation():
                page.locator("#rule-form button[value=save]").first.click()
            assert "Saved." in page.inner_text("main")
        finally:
            browser.close()
    row = hub["db"].execute("SELECT model FROM hub.rules WHERE name = 'no script'").fetchone()
    assert row["model"]["conditions"] == [{"type": "channel", "channel": "email", "negate": False}]
    assert row["model"]["actions"] == [{"type": "move", "folder": "Mail"}]
