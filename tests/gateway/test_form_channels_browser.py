"""In Chromium against a hub process: an admin brands a send form in the UI
(title, texts, colour, logo, channels), the public form then shows it, the
transliteration preview follows the text, and an MMS with a picture and an
e-mail are sent from the form with their state updating live."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway.test_send_form import _cli, image
from tests.gateway.test_send_form_browser import _page
from tests.gateway.test_sendsms_e2e import _free_port
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, _answers
from tests.web_admin.helpers import PASSWORD, user

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")


@pytest.fixture
def hub(db_url, db) -> Iterator[str]:
    settings = {"delay_ms": 200, "echo": False, "delivery_reports": True, "reply_prefix": "", "own_number": "hub",
                "fail_prefix": "", "window": 10}
    db.execute("INSERT INTO hub.connections (name, kind, channels, config) "
               "VALUES ('loop', 'loopback', '{sms,mms,email}', %s)", (json.dumps(settings),))
    user(db_url, "desk-owner")
    user(db_url, "root", role="admin")
    done = _cli(db_url, "form", "set", "desk", "--title", "Desk", "--owner", "desk-owner", "--login", "kiosk")
    assert done.returncode == 0, done.stdout + done.stderr
    port = _free_port()
    proc = start_hub(db_url, roles="connectors,scheduler,web", MSGHUB_HTTP_PORT=str(port))
    try:
        wait_for(lambda: db.execute("SELECT state FROM hub.connections").fetchone()["state"] == "up",
                 what="the connection")
        wait_for(lambda: _answers(port), what="the web server")
        yield f"http://127.0.0.1:{port}"
    finally:
        assert stop_hub(proc) == 0


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: $MSGHUB_SCREENSHOTS (docs/screenshots for docs/WEB.md) or a temporary directory."""
    path = Path(os.environ.get("MSGHUB_SCREENSHOTS") or tmp_path / "shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_branded_in_the_ui_then_mms_email_and_the_transliteration_preview(hub, db, tmp_path, shots):
    from playwright.sync_api import expect, sync_playwright

    logo = tmp_path / "logo.png"
    logo.write_bytes(image("PNG", (90, 30)))
    picture = tmp_path / "gate.jpg"
    picture.write_bytes(image("JPEG", (160, 120)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            admin = _page(browser)
            admin.goto(f"{hub}/login")
            admin.fill("input[name=username]", "root")
            admin.fill("input[name=password]", PASSWORD)
            admin.click("button[type=submit]")
            admin.wait_for_url(f"{hub}/")
            admin.goto(f"{hub}/admin/forms")
            admin.click("a[href='/admin/forms/desk']")
            admin.fill("input[name=title]", "Harbour Desk")
            admin.fill("textarea[name=intro]", "Send a text, a photo or an e-mail to the harbour office.")
            admin.fill("textarea[name=footer]", "Harbour Ltd., Quay 1")
            admin.fill("textarea[name=sent_text]", "Thanks, we got it.")
            admin.fill("input[name=colour]", "#0b7a75")
            admin.check("input[name=channels][value=mms]")
            admin.check("input[name=channels][value=email]")
            admin.set_input_files("input[name=logo]", str(logo))
            admin.click("#branding button[type=submit]")
            expect(admin.locator("p.notice")).to_contain_text("Saved.")
            admin.screenshot(path=str(shots / "send-form-branding.png"), full_page=True)
            assert admin.eval_on_selector("img.form-logo", "i => i.complete && i.naturalWidth") == 90
            assert admin.js_errors == []

            page = _page(browser)
            page.goto(f"{hub}/g/desk")
            assert page.title() == "Harbour Desk"
            assert page.eval_on_selector(".brand", "e => getComputedStyle(e).backgroundColor") == "rgb(11, 122, 117)"
            assert page.eval_on_selector("img.logo", "i => i.complete && i.naturalWidth") == 90
            expect(page.locator("footer.footer")).to_have_text("Harbour Ltd., Quay 1")

            # SMS: the preview shows what replacing special characters sends
            expect(page.locator("#picture")).to_be_hidden()
            expect(page.locator("#subject")).to_be_hidden()
            page.fill("#to", "+4917012345")
            written = "Zoë\u2019s café \u2014 \u201copen\u201d at 9"
            page.fill("#text", written)
            expect(page.locator("#cost")).to_contain_text("Unicode")
            expect(page.locator("#translit-preview")).to_be_hidden()
            page.check("#transliterate")
            expect(page.locator("#translit-preview")).to_be_visible()
            replaced = page.eval_on_selector("#translit-text", "e => e.textContent")
            assert replaced == page.evaluate("t => window.msghubSms.transliterate(t)", written)
            assert replaced != written and "\u201c" not in replaced and "\u2019" not in replaced
            expect(page.locator("#cost")).to_contain_text("GSM 7-bit")
            page.fill("#text", "plain text")
            expect(page.locator("#translit-preview")).to_be_hidden()  # nothing to replace

            # MMS with a picture
            page.check("input[name=channel][value=mms]")
            expect(page.locator("#picture")).to_be_visible()
            expect(page.locator("#cost")).to_be_hidden()
            page.fill("#subject", "Gate 4")
            page.fill("#text", "The gate, this morning.")
            page.set_input_files("#picture", str(picture))
            page.screenshot(path=str(shots / "send-form-mms.png"))
            page.click("button[type=submit]")
            page.wait_for_selector("#sent")
            expect(page.locator(".sent-text")).to_have_text("Thanks, we got it.")
            expect(page.locator("#status")).to_have_text(re.compile("^(sent|delivered)$"), timeout=30_000)

            # e-mail
            page.goto(f"{hub}/g/desk")
            page.check("input[name=channel][value=email]")
            expect(page.locator("#subject")).to_be_visible()
            expect(page.locator("#picture")).to_be_hidden()
            assert page.get_attribute("#to", "inputmode") == "email"
            page.fill("#to", "ann@example.org")
            page.fill("#subject", "Your appointment")
            page.fill("#text", "Tomorrow at 10:30.")
            page.click("button[type=submit]")
            expect(page.locator("#status")).to_have_text(re.compile("^(sent|delivered)$"), timeout=30_000)
            assert page.js_errors == []
        finally:
            browser.close()
    rows = db.execute("SELECT m.channel, m.subject, m.status, (SELECT count(*) FROM hub.message_parts p "
                      "WHERE p.message_id = m.id AND p.content_type = 'image/jpeg') AS pictures "
                      "FROM hub.messages m ORDER BY m.id").fetchall()
    assert [(r["channel"], r["subject"], r["pictures"]) for r in rows] == [
        ("mms", "Gate 4", 1), ("email", "Your appointment", 0)]
    assert {r["status"] for r in rows} <= {"sent", "delivered"}
