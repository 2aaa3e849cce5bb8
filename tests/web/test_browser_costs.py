"""The compose page shows the price before sending, in a real browser
(Debian's chromium through playwright) against a real hub process."""

from __future__ import annotations

from tests.web.test_browser import WAIT_MS, _page, browser, hub, pytestmark, shots  # noqa: F401

# UCS-2 because of "ŝ": 3 parts of 67 as written, 2 of 153 with look-alikes
SPECIAL = "Grüße aus Köln, ŝ " + "x" * 150


def test_compose_shows_the_price_before_sending(browser, hub, shots):  # noqa: F811
    from playwright.sync_api import expect

    db = hub["db"]
    db.execute("INSERT INTO hub.tariffs (connection_id, channel, price, currency)"
               " SELECT id, 'sms', 0.09, 'EUR' FROM hub.connections WHERE name = 'loop'")
    page = _page(browser, hub, "alice")
    try:
        page.goto(hub["url"] + "/compose")
        price = page.locator("#price")
        page.fill("#to", "+15550123")
        page.fill("#text", SPECIAL)
        expect(price).to_have_text("3 SMS · about 0.27 EUR, 0.18 EUR with special characters replaced",
                                   timeout=WAIT_MS)
        page.check("#transliterate")
        expect(price).to_have_text("2 SMS · about 0.18 EUR", timeout=WAIT_MS)
        page.fill("#text", "short")
        expect(price).to_have_text("1 SMS · about 0.09 EUR", timeout=WAIT_MS)
        page.screenshot(path=str(shots / "compose-price.png"))
        # the same price is what the queued message is estimated at
        page.click("#send")
        page.wait_for_url(f"{hub['url']}/messages/*")
        row = db.execute("SELECT estimated_cost, currency FROM hub.messages WHERE body = 'short'").fetchone()
        assert (str(row["estimated_cost"].normalize()), row["currency"]) == ("0.09", "EUR")
        assert page.js_errors == []
    finally:
        page.context.close()
