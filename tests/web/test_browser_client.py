"""Issue 18 in Chromium: recipients as chips from the server's search, the
counter and a send button that refuses what SMS cannot carry, the queued
count after a send to many, and the phone layout (the navigation behind
"Menu", tables as cards, nothing wider than the screen). The hub process and
the browser are test_browser.py's fixtures; screenshots go where its go."""

from __future__ import annotations

from typing import Any

from tests.web.test_browser import WAIT_MS, _page, _shot, browser, hub, shots  # noqa: F401 (fixtures)

PHONE = {"width": 375, "height": 740}


def _seed(running: dict[str, Any]) -> None:
    db = running["db"]
    alice = running["users"]["alice"]
    if db.execute("SELECT count(*) AS n FROM hub.contacts WHERE name = 'Ørjan Pizzaman'").fetchone()["n"]:
        return
    db.execute(
        "INSERT INTO hub.contacts (name, phone, owner_user_id) VALUES ('Ørjan Pizzaman', '+4790000001', %(a)s), "
        "('Anna Berg', '+4790000002', %(a)s), ('Ørjan Secret', '+4790000009', %(b)s)",
        {"a": alice, "b": running["users"]["bob"]},
    )
    db.execute(
        "INSERT INTO hub.rules (name, events, source, owner_user_id) VALUES ('closed', '{message_received}', %s, %s)",
        ("// Outside opening hours: answers that the office is closed and when it opens again, then stops.\n"
         "return [];", alice),
    )


def test_recipients_become_chips_and_the_counter_guards_the_send_button(browser, hub, shots):  # noqa: F811
    from playwright.sync_api import expect

    _seed(hub)
    page = _page(browser, hub, "alice")
    try:
        page.goto(hub["url"] + "/compose")
        page.locator("#to").press_sequentially("ørj")
        suggestion = page.locator("#suggestions li", has_text="Ørjan Pizzaman")
        expect(suggestion).to_have_count(1)
        expect(page.locator("#suggestions li", has_text="Secret")).to_have_count(0)  # bob's
        page.locator("#to").press("Enter")
        expect(page.locator("#chips li.chip.resolved")).to_have_text(["Ørjan Pizzaman <+4790000001>\u00d7"])
        # a typed name is resolved too, once it is complete
        page.locator("#to").press_sequentially("anna berg,")
        expect(page.locator("#chips li.chip.resolved", has_text="Anna Berg <+4790000002>")).to_have_count(1)
        counter = page.locator("#counter")
        page.fill("#text", "a" * 161)
        expect(counter).to_contain_text("161 characters · 2 SMS of up to 153 · GSM 7-bit")
        page.fill("#text", "b" * 40_000)
        expect(page.locator("#send")).to_be_disabled()
        expect(page.locator("#send-blocked")).to_contain_text("Too long for SMS: 262 parts, at most 255")
        page.fill("#text", "Pizza at eight?")
        expect(page.locator("#send")).to_be_enabled()
        _shot(page, shots, "compose")
        page.click("#send")
        page.wait_for_url(f"{hub['url']}/folders/outbox?queued=*")
        expect(page.locator("#queued-total")).to_have_text("2 messages queued")
        db = hub["db"]
        rows = db.execute(
            "SELECT recipients FROM hub.messages WHERE body = 'Pizza at eight?' ORDER BY id"
        ).fetchall()
        assert [r["recipients"] for r in rows] == [["+4790000001"], ["+4790000002"]]
        # the banner follows the messages out (the loopback sends them)
        expect(page.locator("#queued-state")).to_contain_text("2 sent, 0 waiting", timeout=WAIT_MS * 2)
        assert page.js_errors == []
    finally:
        page.context.close()


def test_phone_layout_folds_the_navigation_and_turns_tables_into_cards(browser, hub, shots):  # noqa: F811
    from playwright.sync_api import expect

    _seed(hub)
    page = _page(browser, hub, "alice", viewport=PHONE, is_mobile=True)
    try:
        # the start page is the inbox; the navigation waits behind "Menu"
        expect(page.locator("#message-list[data-live-view=inbox]")).to_have_count(1)
        nav = page.locator("#side-nav")
        expect(nav).to_be_hidden()
        expect(page.locator("#search-box")).to_be_visible()
        header = page.evaluate("document.querySelector('header.bar').getBoundingClientRect().height")
        assert header < PHONE["height"] / 4, header
        _shot(page, shots, "phone-inbox")
        page.click("#nav-toggle")
        expect(nav).to_be_visible()
        expect(page.locator("#nav-toggle")).to_have_attribute("aria-expanded", "true")
        _shot(page, shots, "phone-menu")
        page.click("#nav-toggle")
        expect(nav).to_be_hidden()
        for path, name in (("/compose", "phone-compose"), ("/rules", "phone-rules"), ("/connections", None),
                           ("/stats", None)):
            page.goto(hub["url"] + path)
            page.wait_for_load_state("load")
            wide = page.evaluate(
                "Math.max(document.documentElement.scrollWidth,"
                " ...Array.from(document.querySelectorAll('.card'), c => c.scrollWidth - c.clientWidth + innerWidth))"
            )
            assert wide <= PHONE["width"], (path, wide)
            if name:
                _shot(page, shots, name)
        page.goto(hub["url"] + "/rules")
        cell = page.locator("table.rules.cards td.summary")
        expect(cell).to_have_attribute("data-label", "What it does")
        assert page.locator("table.rules thead").is_hidden()
        assert page.js_errors == []
    finally:
        page.context.close()


def test_messages_by_folder_chart_presents_and_follows_new_messages(browser, hub, shots):  # noqa: F811
    from playwright.sync_api import expect

    db = hub["db"]
    alice = hub["users"]["alice"]
    folder = db.execute(
        "INSERT INTO hub.folders (name, owner_user_id) VALUES ('Orders', %s) RETURNING id", (alice,)
    ).fetchone()["id"]

    def arrive(into: int | None) -> None:
        with db.transaction():
            mid = db.execute(
                "SELECT hub.receive_message_v1(1, 'sms', '+4799000001', '{hub}', NULL, 'order 7') AS id"
            ).fetchone()["id"]
            db.execute("UPDATE hub.messages SET owner_user_id = %s, folder_id = %s WHERE id = %s", (alice, into, mid))

    arrive(folder)
    page = _page(browser, hub, "alice")
    try:
        page.goto(hub["url"] + "/stats/folders")
        before = int(page.locator("#folder-total").inner_text())
        page.click("#present-link")
        page.wait_for_url(f"{hub['url']}/stats/folders/present*")
        bar = page.locator(f'#folder-bars [data-key="folder:{folder}"] .fill')
        page.wait_for_function("el => el.getBoundingClientRect().width > 0", arg=bar.element_handle())
        arrive(folder)
        expect(page.locator("#folder-total")).to_have_text(str(before + 1), timeout=WAIT_MS * 2)
        _shot(page, shots, "folder-chart-present")
        page.keyboard.press("Escape")
        page.wait_for_url(f"{hub['url']}/stats/folders?hours=24")
        assert page.js_errors == []
    finally:
        page.context.close()
