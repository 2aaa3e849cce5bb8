"""In a real browser (Debian's chromium through playwright) against a real
hub with a `modem` connection doing MMS (tests/mm1/world.py): a user sends
an MMS with a photo and a sound through the modem and sees its delivery
report, which came back as a WAP push SMS; an MMS announced to the modem
appears live in the inbox, fetched, with its slides. Every wait is bounded."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from msghub.mms import ContentType, Part
from tests.mm1.world import OWN, World, mm1_world
from tests.web.webkit import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 30_000
AMR = b"#!AMR\n" + bytes(range(200))


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def world(db_url: str, db: Any) -> Iterator[tuple[World, Any]]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (scripts/install-test-deps installs it)")
    from playwright.sync_api import sync_playwright

    make_user(db_url, "boss", role="admin")
    with mm1_world(db_url, db, web=True) as w, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield w, browser
        finally:
            browser.close()


def _page(w: World, browser: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    page.goto(w.web_url + "/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(w.web_url + "/")
    return page


def test_an_mms_sent_through_a_modem_from_the_web_ui_is_reported_delivered(world: tuple[World, Any]) -> None:
    from playwright.sync_api import expect

    w, browser = world
    jpeg = _jpeg()
    page = _page(w, browser)
    try:
        page.goto(w.web_url + "/compose")
        page.check("input[name=channel][value=mms]")
        page.fill("#to", "+31612345678")
        page.fill("#text", "Through the modem")
        page.set_input_files("#files", [{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": jpeg},
                                        {"name": "s.amr", "mimeType": "audio/amr", "buffer": AMR}])
        expect(page.locator("#previews .slide")).to_have_count(2)
        page.locator("details summary").click()
        page.check("input[name=delivery_report]")
        page.click("#send")
        page.wait_for_url(f"{w.web_url}/messages/*")
        expect(page.locator("#message-view [data-status-of]")).to_have_text("delivered")
        (sent,) = w.mmsc.call(lambda s: list(s.mm1.mm1_sent))
        assert [p.data for p in sent.parts[2:]] == [jpeg, AMR] and sent.delivery_report is True
        assert not w.modem.storage("SM")  # the delivery report's push SMS was read and deleted
    finally:
        page.context.close()


def test_an_mms_announced_to_the_modem_appears_live_with_its_slides(world: tuple[World, Any]) -> None:
    from playwright.sync_api import expect

    w, browser = world
    page = _page(w, browser)
    try:
        page.goto(w.web_url + "/folders/inbox")
        expect(page.locator("html[data-live=open]")).to_have_count(1)
        page.evaluate("window.__sameDocument = true")
        smil = b'<smil><body><par><img src="cid:pic"/><text src="cid:txt"/></par><par><audio src="cid:snd"/></par>' \
               b"</body></smil>"  # fmt: skip
        parts = [Part(ContentType("application/smil"), smil, "<smil>", "p.smil"),
                 Part(ContentType("audio/amr"), AMR, "<snd>", "s.amr"),
                 Part(ContentType("image/jpeg"), _jpeg(), "<pic>", "p.jpg"),
                 Part(ContentType("text/plain", {"Charset": "utf-8"}), b"From a handset", "<txt>", "t.txt")]
        w.mmsc.call(lambda s: s.notify_phone(OWN, "+31698765432/TYPE=PLMN", "Snapshot", parts))
        row = page.locator("#rows tr", has_text="Snapshot")
        expect(row).to_have_count(1)
        assert page.evaluate("window.__sameDocument") is True
        row.locator("a").first.click()
        page.wait_for_url(f"{w.web_url}/messages/*")
        slides = page.locator("#slides li.slide")
        expect(slides).to_have_count(2)
        expect(slides.nth(0)).to_contain_text("From a handset")
        expect(slides.nth(1).locator("audio")).to_have_count(1)
        page.wait_for_function("() => { const i = document.querySelector('#slides img'); "
                               "return i && i.complete && i.naturalWidth === 24; }")  # fmt: skip
    finally:
        page.context.close()
