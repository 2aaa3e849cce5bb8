"""In a real browser (Debian's chromium through playwright) against a real
hub (`msghub run`: connectors, scheduler, web) with an `mm7` connection to
the MMSC simulator: a user composes an MMS with a photo and a sound (and a
Cc and a Bcc copy), sees it slide by slide before sending, sends it and
sees the delivery report; an MMS from a phone appears live in the inbox and
shows its slides in the order of its SMIL. Every wait is bounded."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from msghub.connectors.mm7 import mime
from msghub.devtools.mmsc.simulator import MmscConfig
from msghub.devtools.mmsc.thread import MmscThread
from msghub.services.blocking import call
from msghub.services.connections import add_connection
from msghub.services.tx import SYSTEM
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web.webkit import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 30_000
NAME = "operator"


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


JPEG = _jpeg()
AMR = b"#!AMR\n" + bytes(range(200))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def world(db_url: str, db: Any) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (scripts/install-test-deps installs it)")
    from playwright.sync_api import sync_playwright

    port = _free_port()
    make_user(db_url, "boss", role="admin")
    with MmscThread(MmscConfig(hub_url=f"http://127.0.0.1:{port}/mm7/{NAME}", dr_delay_s=0.5)) as mmsc:
        call(db, add_connection, SYSTEM, NAME, "mm7", {"url": mmsc.url}, is_default=True)
        hub = start_hub(db_url, roles="connectors,scheduler,web", MSGHUB_HTTP_PORT=str(port),
                        MSGHUB_HTTP_HOST="127.0.0.1")  # fmt: skip
        try:
            wait_for(lambda: db.execute("SELECT state FROM hub.connections WHERE name = %s", (NAME,)).fetchone()
                     ["state"] == "up", what="the mm7 connection")  # fmt: skip
            wait_for(lambda: _answers(port), what="the web server")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    yield {"url": f"http://127.0.0.1:{port}", "db": db, "mmsc": mmsc, "browser": browser}
                finally:
                    browser.close()
        finally:
            assert stop_hub(hub) == 0


def _page(world: dict[str, Any]) -> Any:
    ctx = world["browser"].new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    page.goto(world["url"] + "/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(world["url"] + "/")
    return page


def test_a_user_sends_an_mms_with_a_photo_and_a_sound_and_sees_it_delivered(world: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    page = _page(world)
    try:
        page.goto(world["url"] + "/compose")
        expect(page.locator("#cc")).to_be_hidden()  # copies are for MMS only
        page.check("input[name=channel][value=mms]")
        page.fill("#to", "+447700900123")
        page.fill("#cc", "+447700900124")
        page.fill("#bcc", "+447700900125")
        page.fill("#subject", "From the beach")
        page.fill("#text", "Wish you were here")
        page.set_input_files("#files", [{"name": "beach.jpg", "mimeType": "image/jpeg", "buffer": JPEG},
                                        {"name": "waves.amr", "mimeType": "audio/amr", "buffer": AMR}])
        slides = page.locator("#previews .slide")
        expect(slides).to_have_count(2)
        expect(slides.nth(0)).to_contain_text("Slide 1 of 2")
        expect(slides.nth(0).locator(".slide-text")).to_have_text("Wish you were here")
        expect(slides.nth(0).locator("img")).to_have_count(1)
        expect(slides.nth(1).locator("audio")).to_have_count(1)
        page.wait_for_function("() => { const i = document.querySelector('#previews .slide img'); "
                               "return i && i.complete && i.naturalWidth === 24; }")  # fmt: skip
        page.locator("details summary").click()
        page.check("input[name=delivery_report]")
        page.click("#send")
        page.wait_for_url(f"{world['url']}/messages/*")
        expect(page.locator("#message-view [data-status-of]")).to_have_text("delivered")
        (held,) = world["mmsc"].call(lambda s: list(s.submits))
        kinds = [p.content_type.split(";", 1)[0] for p in held.parts]
        assert kinds == ["application/smil", "text/plain", "image/jpeg", "audio/amr"]
        assert [p.data for p in held.parts[2:]] == [JPEG, AMR]
        assert held.request.delivery_report is True and held.request.subject == "From the beach"
        recipients = held.request.recipients
        assert (recipients.to, recipients.cc, recipients.bcc) == (("+447700900123",), ("+447700900124",),
                                                                  ("+447700900125",))  # fmt: skip
        expect(page.locator("#message-view #cc")).to_have_text("+447700900124")
        expect(page.locator("#slides li.slide")).to_have_count(2)  # what was sent, as slides
    finally:
        page.context.close()


def test_an_mms_from_a_phone_appears_live_with_its_slides(world: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    page = _page(world)
    try:
        page.goto(world["url"] + "/folders/inbox")
        expect(page.locator("html[data-live=open]")).to_have_count(1)
        page.evaluate("window.__sameDocument = true")
        smil = (b'<smil><body><par dur="3s"><audio src="cid:snd"/></par>'
                b'<par dur="5s"><img src="cid:pic"/><text src="cid:txt"/></par></body></smil>')  # fmt: skip
        media = [mime.MediaPart("application/smil", smil, "smil", "p.smil"),
                 mime.MediaPart("image/jpeg", JPEG, "pic", "pic.jpg"),
                 mime.MediaPart('text/plain; charset="utf-8"', b"Greetings", "txt", "t.txt"),
                 mime.MediaPart("audio/amr", AMR, "snd", "s.amr")]  # fmt: skip
        world["mmsc"].run(lambda s: s.deliver("+15550123", "1234", subject="Postcard", media=media))
        row = page.locator("#rows tr", has_text="Postcard")
        expect(row).to_have_count(1)
        assert page.evaluate("window.__sameDocument") is True  # it came live, not by reloading
        row.locator("a").first.click()
        page.wait_for_url(f"{world['url']}/messages/*")
        slides = page.locator("#slides li.slide")
        expect(slides).to_have_count(2)
        expect(slides.nth(0).locator("audio")).to_have_count(1)  # the SMIL's order, not the stored one
        expect(slides.nth(1).locator("img")).to_have_count(1)
        expect(slides.nth(1)).to_contain_text("Greetings")
        # the picture is served inline as an image (its own type, nosniff, sandbox CSP) and decodes
        page.wait_for_function("() => { const i = document.querySelector('#slides img'); "
                               "return i && i.complete && i.naturalWidth === 24; }")  # fmt: skip
    finally:
        page.context.close()
