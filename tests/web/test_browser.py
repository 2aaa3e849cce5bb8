"""The web UI in a real browser (Debian's chromium through playwright)
against a real hub process (`msghub run`: connectors, scheduler, web) with a
loopback connection. Every wait is bounded.

Screenshots go to $MSGHUB_SCREENSHOTS when set (docs/screenshots to refresh
the ones in docs/WEB.md), otherwise to a temporary directory.
"""

from __future__ import annotations

import base64
import json
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
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 10_000
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
    reason="chromium is not installed (scripts/install-test-deps installs it)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def hub(pg_server, template_db) -> Iterator[dict[str, Any]]:
    """One database and one hub process (with the web role) for this module."""
    name = f"msghub_browser_{os.getpid()}"
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
    users = {n: make_user(url, n, role="operator") for n in ("alice", "bob")}
    settings = {
        "delay_ms": 300,
        "echo": True,
        "delivery_reports": True,
        "reply_prefix": "echo: ",
        "own_number": "hub",
        "fail_prefix": "",
        "window": 10,
    }
    db.execute(
        "INSERT INTO hub.connections (name, kind, channels, config) VALUES ('loop', 'loopback', '{sms,mms,email}', %s)",
        (json.dumps(settings),),
    )
    port = _free_port()
    proc = start_hub(
        url,
        roles="connectors,scheduler,web",
        MSGHUB_HTTP_PORT=str(port),
        MSGHUB_HTTP_HOST="127.0.0.1",
        MSGHUB_ADMIN_PASSWORD="admin password 1",
    )
    try:
        wait_for(
            lambda: db.execute("SELECT state FROM hub.connections WHERE name = 'loop'").fetchone()["state"] == "up",
            what="the loopback connection",
        )
        wait_for(lambda: _answers(port), what="the web server")
        yield {"url": f"http://127.0.0.1:{port}", "db": db, "users": users}
    finally:
        assert stop_hub(proc) == 0
        db.close()
        janitor.drop()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    target = os.environ.get("MSGHUB_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _page(browser: Any, hub: dict[str, Any], user: str, **context: Any) -> Any:
    ctx = browser.new_context(viewport=context.pop("viewport", {"width": 1280, "height": 800}), **context)
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    page.goto(hub["url"] + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(hub["url"] + "/")
    return page


def _shot(page: Any, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 1000


def _receive(db: Any, body: str, owner: int, sender: str = "+15550199") -> int:
    with db.transaction():
        mid = db.execute(
            "SELECT hub.receive_message_v1(1, 'sms', %s, '{+15550001}', NULL, %s) AS id", (sender, body)
        ).fetchone()["id"]
        db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (owner, mid))
    return int(mid)


def test_login_page_and_a_wrong_password(browser, hub, shots):
    from playwright.sync_api import expect

    page = browser.new_page()
    try:
        page.goto(hub["url"] + "/login")
        _shot(page, shots, "login")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit]")
        expect(page.locator(".error")).to_contain_text("wrong user name or password", timeout=WAIT_MS)
    finally:
        page.context.close()


def test_compose_counts_then_sends_through_the_loopback(browser, hub, shots):
    from playwright.sync_api import expect

    page = _page(browser, hub, "alice")
    try:
        page.goto(hub["url"] + "/compose")
        counter = page.locator("#counter")
        page.fill("#text", "a" * 161)
        expect(counter).to_have_attribute("data-segments", "2")
        expect(counter).to_have_attribute("data-encoding", "gsm7")
        page.fill("#text", "Zażółć gęślą jaźń")
        expect(counter).to_have_attribute("data-encoding", "ucs2")
        expect(page.locator("#translit-hint")).to_contain_text("ż")
        page.check("#transliterate")
        expect(counter).to_have_attribute("data-encoding", "gsm7")
        # MMS: files are previewed before sending (a blob: image the CSP allows)
        page.check("input[name=channel][value=mms]")
        expect(page.locator("#subject")).to_be_visible()
        expect(counter).to_be_hidden()
        page.set_input_files("#files", files=[{"name": "dot.png", "mimeType": "image/png", "buffer": PNG_1PX}])
        expect(page.locator("#previews img")).to_have_count(1)
        page.wait_for_function("document.querySelector('#previews img').naturalWidth === 1", timeout=WAIT_MS)
        page.set_input_files("#files", files=[])
        page.check("input[name=channel][value=sms]")
        expect(counter).to_be_visible()
        page.fill("#to", "+15550123")
        page.fill("#text", "Hello from the browser")
        page.locator("details summary").click()
        page.check("input[name=delivery_report]")
        _shot(page, shots, "compose")
        page.click("#send")
        page.wait_for_url(f"{hub['url']}/messages/*")
        # queued, then sent and delivered: changed in place, without a reload
        page.evaluate("window.__sameDocument = true")
        status = page.locator("#message-view [data-status-of]")
        expect(status).to_have_text("delivered")
        assert page.evaluate("window.__sameDocument") is True
        history = page.locator("#history li")
        expect(history).to_have_count(4)
        assert [li.get_attribute("data-status") for li in history.all()] == ["queued", "sending", "sent", "delivered"]
        _shot(page, shots, "message")
        # the loopback's echo arrives in the inbox
        page.goto(hub["url"] + "/folders/inbox")
        expect(page.locator("#rows tr", has_text="echo: Hello from the browser")).to_have_count(1)
        assert page.js_errors == []
    finally:
        page.context.close()


def test_inbound_message_appears_live_in_another_users_inbox(browser, hub, shots):
    from playwright.sync_api import expect

    alice = _page(browser, hub, "alice")
    bob = _page(browser, hub, "bob")
    try:
        bob.goto(hub["url"] + "/folders/inbox")
        alice.goto(hub["url"] + "/folders/inbox")
        for page in (alice, bob):
            expect(page.locator("html[data-live=open]")).to_have_count(1)
            page.evaluate("window.__sameDocument = true")
        mid = _receive(hub["db"], "Live for bob <b>not bold</b>", hub["users"]["bob"])
        row = bob.locator(f'#rows tr[data-id="{mid}"]')
        expect(row).to_contain_text("Live for bob <b>not bold</b>")
        assert bob.evaluate("window.__sameDocument") is True
        _shot(bob, shots, "inbox")
        # assigned to alice: it leaves bob's open inbox and arrives in hers
        hub["db"].execute("SELECT hub.assign_v2(%s, %s, NULL, 'test')", (mid, hub["users"]["alice"]))
        expect(alice.locator(f'#rows tr[data-id="{mid}"]')).to_have_count(1)
        expect(row).to_have_count(0)
        assert alice.evaluate("window.__sameDocument") is True and bob.evaluate("window.__sameDocument") is True
        # keyboard: j selects the newest row, Enter opens it
        alice.evaluate("document.activeElement && document.activeElement.blur()")
        alice.keyboard.press("j")
        expect(alice.locator("#rows tr.selected")).to_have_attribute("data-id", str(mid))
        alice.keyboard.press("Enter")
        alice.wait_for_url(f"{hub['url']}/messages/{mid}")
        # a connection that cannot connect: the banner comes up on an open page
        bob.evaluate("window.__sameDocument = true")
        hub["db"].execute(
            "INSERT INTO hub.connections (name, kind, channels, config) VALUES ('smsc-b', 'emi', '{sms}', %s)",
            (json.dumps({"host": "127.0.0.1", "port": _free_port(), "connect_timeout_s": 1}),),
        )
        expect(bob.locator("#banner [data-connection=smsc-b]")).to_contain_text("is down")
        assert bob.evaluate("window.__sameDocument") is True
        _shot(bob, shots, "connection-down")
        hub["db"].execute("UPDATE hub.connections SET enabled = false WHERE name = 'smsc-b'")
        expect(bob.locator("#banner")).to_be_hidden()
        assert alice.js_errors == [] and bob.js_errors == []
    finally:
        alice.context.close()
        bob.context.close()


def test_search_shows_the_yellow_bar_and_clears_in_one_click(browser, hub, shots):
    from playwright.sync_api import expect

    alice = hub["users"]["alice"]
    _receive(hub["db"], "apple pie recipe", alice)
    _receive(hub["db"], "banana split", alice)
    page = _page(browser, hub, "alice")
    try:
        page.goto(hub["url"] + "/folders/inbox")
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.press("/")
        expect(page.locator("#search-box")).to_be_focused()
        page.keyboard.type("appl")
        page.keyboard.press("Enter")
        page.wait_for_url("**/folders/inbox?q=appl")
        bar = page.locator("#filtered-bar")
        expect(bar).to_be_visible()
        expect(page.locator("#rows tr", has_text="apple pie")).to_have_count(1)
        expect(page.locator("#rows tr", has_text="banana")).to_have_count(0)
        # a matching message arriving now shows up; one that does not match stays out
        _receive(hub["db"], "apple crumble", alice)
        _receive(hub["db"], "cherry tart", alice)
        expect(page.locator("#rows tr", has_text="apple crumble")).to_have_count(1)
        expect(page.locator("#rows tr", has_text="cherry")).to_have_count(0)
        _shot(page, shots, "search-filtered")
        page.click("#clear-filter")
        page.wait_for_url(hub["url"] + "/folders/inbox")
        expect(bar).to_have_count(0)
        expect(page.locator("#rows tr", has_text="banana")).to_have_count(1)
        expect(page.locator("#rows tr", has_text="cherry")).to_have_count(1)
    finally:
        page.context.close()


def drawn(page: Any, option: int, percent: float) -> None:
    """Waits (bounded) until the option's bar is drawn at percent of its track."""
    page.wait_for_function(
        "([sel, pct]) => { const f = document.querySelector(sel + ' .fill');"
        " const t = document.querySelector(sel + ' .track');"
        " return Math.abs(f.getBoundingClientRect().width - t.getBoundingClientRect().width * pct / 100) < 1.5; }",
        arg=[f'[data-option-id="{option}"]', percent],
        timeout=WAIT_MS,
    )


def test_poll_chart_moves_as_votes_arrive(browser, hub, shots):
    from playwright.sync_api import expect

    db = hub["db"]
    poll = db.execute(
        "INSERT INTO hub.polls (name, question) VALUES ('lunch', 'What for lunch?') RETURNING id"
    ).fetchone()["id"]
    options = [
        db.execute(
            "INSERT INTO hub.poll_options (poll_id, position, label, keywords) VALUES (%s, %s, %s, %s) RETURNING id",
            (poll, n, label, [label]),
        ).fetchone()["id"]
        for n, label in enumerate(["Pizza", "Salad", "Soup"], start=1)
    ]

    def vote(option: int, voter: str) -> None:
        db.execute(
            "INSERT INTO hub.poll_votes (poll_id, option_id, sender, voter_key) VALUES (%s, %s, %s, %s)",
            (poll, option, voter, voter),
        )

    page = _page(browser, hub, "alice")
    try:
        page.goto(f"{hub['url']}/polls/{poll}")
        expect(page.locator("html[data-live=open]")).to_have_count(1)
        page.evaluate("window.__sameDocument = true")
        pizza = page.locator(f'[data-option-id="{options[0]}"]')
        expect(pizza.locator(".votes")).to_have_text("0")
        vote(options[0], "+1")
        vote(options[0], "+2")
        vote(options[1], "+3")
        expect(page.locator("#poll-total")).to_have_text("3")
        expect(pizza.locator(".votes")).to_have_text("2")
        expect(pizza.locator(".pct")).to_have_text("67")
        assert pizza.locator(".fill").evaluate("el => el.style.width") == "66.7%"
        # drawn: each bar's width on screen is its share of the track
        drawn(page, options[0], 66.7)
        drawn(page, options[1], 33.3)
        drawn(page, options[2], 0)
        assert page.evaluate("window.__sameDocument") is True
        _shot(page, shots, "poll")
        page.goto(f"{hub['url']}/polls/{poll}/present")
        vote(options[2], "+4")
        expect(page.locator("#poll-total")).to_have_text("4")
        drawn(page, options[0], 50)
        drawn(page, options[2], 25)
        _shot(page, shots, "poll-present")
        assert page.js_errors == []
    finally:
        page.context.close()


def test_phone_layout(browser, hub, shots):
    from playwright.sync_api import expect

    page = _page(browser, hub, "alice", viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page.goto(hub["url"] + "/folders/inbox")
        expect(page.locator("#search-box")).to_be_visible()
        # nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        _shot(page, shots, "phone-inbox")
    finally:
        page.context.close()


def test_hostile_content_does_not_run(browser, hub, shots):
    from playwright.sync_api import expect

    db = hub["db"]
    parts = [
        {"content_type": ct, "filename": fn, "data": data}
        for ct, fn, data in [
            ("text/html", "page.html", "PHNjcmlwdD53aW5kb3cub3BlbmVyLl9fcHduZWQ9MTwvc2NyaXB0Pg=="),
            (
                "image/svg+xml",
                "x.svg",
                "PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=",
            ),
        ]
    ]
    with db.transaction():
        mid = db.execute(
            "SELECT hub.receive_message_v1(1, 'email', 'evil@example.org', '{desk@example.org}', "
            "'<img src=x onerror=\"window.__pwned=1\">', %s, '{}', %s) AS id",
            (
                '<script>window.__pwned=2</script><a href="javascript:window.__pwned=3">click</a>'
                '<iframe src="javascript:parent.__pwned=4"></iframe>',
                json.dumps(parts),
            ),
        ).fetchone()["id"]
        db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (hub["users"]["alice"], mid))
    page = _page(browser, hub, "alice")
    try:
        page.goto(f"{hub['url']}/messages/{mid}")
        expect(page.locator("pre.body")).to_contain_text("<script>window.__pwned=2</script>")
        assert page.locator("script:not([src])").count() == 0
        assert page.locator("iframe, a[href^=javascript]").count() == 0
        downloads = page.locator("a.download")
        expect(downloads).to_have_count(2)
        for link in downloads.all():
            response = page.request.get(hub["url"] + link.get_attribute("href"))
            assert response.headers["content-type"] == "application/octet-stream"
            assert response.headers["content-disposition"].startswith("attachment;")
            assert response.headers["x-content-type-options"] == "nosniff"
        page.goto(f"{hub['url']}/folders/inbox")
        expect(page.locator(f'#rows tr[data-id="{mid}"]')).to_have_count(1)
        assert page.evaluate("typeof window.__pwned") == "undefined"
    finally:
        page.context.close()
